"""The opossum and cockatiel presets rule by rule, on explicit instants, without Node.js
(tests/test_node_differential.py checks them against the real packages where Node is)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.resilience.breaker import CLOSED, HALF_OPEN, OPEN, BreakerPolicy, CircuitBreaker
from sim.resilience.nodebreakers import CockatielBreaker, OpossumBreaker


def opossum(**options: Any) -> OpossumBreaker:
    breaker = CircuitBreaker(BreakerPolicy.preset("opossum", **options))
    assert isinstance(breaker, OpossumBreaker)
    return breaker


def cockatiel(**options: Any) -> CockatielBreaker:
    breaker = CircuitBreaker(BreakerPolicy.preset("cockatiel", **options))
    assert isinstance(breaker, CockatielBreaker)
    return breaker


def call(breaker: CircuitBreaker, now: float, outcome: str) -> bool:
    """A call admitted at ``now`` that ends at ``now`` with ``outcome``."""
    if not breaker.allow(now):
        return False
    breaker.record(now, outcome, 0.0, breaker.generation)
    return True


def test_opossum_opens_strictly_above_the_percentage() -> None:
    breaker = opossum(error_threshold_percentage=50)
    call(breaker, 0.0, "success")
    call(breaker, 0.0, "timeout")  # 1 failure in 2 calls: 50 % is not above 50 %
    assert breaker.state == CLOSED
    call(breaker, 0.0, "timeout")  # 2 in 3
    assert breaker.state == OPEN


def test_opossum_counts_refused_calls_as_calls_made() -> None:
    """Calls refused while open are 'fires': after a short open wait the window holds
    them, and the same failures no longer reach the percentage."""
    breaker = opossum(error_threshold_percentage=50, reset_timeout=100, rolling_count_timeout=10000)
    call(breaker, 0.0, "timeout")
    assert breaker.state == OPEN
    for _ in range(5):
        assert not breaker.allow(0.05)  # refused, yet counted
    assert call(breaker, 0.2, "success")  # the probe closes it
    assert breaker.state == CLOSED
    call(breaker, 0.3, "timeout")  # fires 8, failures 2: 25 %
    assert breaker.state == CLOSED


def test_opossum_half_opens_by_timer_at_the_reset_instant() -> None:
    breaker = opossum(reset_timeout=1000)
    call(breaker, 0.5, "timeout")
    assert breaker.state_at(1.499) == OPEN
    assert breaker.state_at(1.5) == HALF_OPEN  # setTimeout fires at exactly +1000 ms
    assert breaker.allow(1.5) and not breaker.allow(1.5)  # one probe
    breaker.record(1.6, "timeout", 0.0, breaker.generation)
    assert breaker.state == OPEN and breaker.open_until == pytest.approx(2.6)


def test_opossum_late_results_count_as_opossum_counts_them() -> None:
    breaker = opossum(reset_timeout=1000, error_threshold_percentage=40)
    assert breaker.allow(0.0)
    late = breaker.generation
    call(breaker, 0.1, "timeout")
    assert breaker.state_at(1.2) == HALF_OPEN
    breaker.record(1.2, "success", 0.0, late)  # a call from before the opening succeeds
    assert breaker.state == CLOSED


def test_opossum_warm_up_and_volume_threshold() -> None:
    warm = opossum(allow_warm_up=True, rolling_count_timeout=2000)
    call(warm, 1.0, "timeout")
    assert warm.state == CLOSED  # the first window is a warm-up
    call(warm, 2.0, "timeout")
    assert warm.state == OPEN
    volume = opossum(volume_threshold=3)
    call(volume, 0.0, "timeout")
    call(volume, 0.0, "timeout")
    assert volume.state == CLOSED
    call(volume, 0.0, "timeout")
    assert volume.state == OPEN


def test_opossum_window_forgets_buckets_rotated_out() -> None:
    breaker = opossum(
        rolling_count_timeout=1000, rolling_count_buckets=10, error_threshold_percentage=60
    )
    for _ in range(3):
        call(breaker, 0.05, "success")
    call(breaker, 0.95, "timeout")  # 1 of 4
    assert breaker.state == CLOSED
    call(breaker, 1.05, "timeout")  # the bucket of [0, 100 ms) is gone: 2 of 2
    assert breaker.state == OPEN


def test_cockatiel_consecutive_and_exponential_half_open_backoff() -> None:
    breaker = cockatiel(
        threshold=2, half_open_after=1000, half_open_backoff="exponential", half_open_max_delay=3000
    )
    call(breaker, 0.0, "timeout")
    call(breaker, 0.0, "timeout")
    assert breaker.state == OPEN and breaker.open_until == pytest.approx(1.0)
    assert not breaker.allow(0.999)
    assert call(breaker, 1.0, "timeout")  # probe at >= halfOpenAfter, fails: wait doubles
    assert breaker.open_until == pytest.approx(3.0)
    assert call(breaker, 3.0, "timeout")
    assert breaker.open_until == pytest.approx(6.0)  # capped at 3000 ms
    assert call(breaker, 6.0, "success")
    assert breaker.state == CLOSED
    call(breaker, 7.0, "timeout")
    call(breaker, 7.0, "timeout")
    assert breaker.open_until == pytest.approx(8.0)  # from closed, the backoff starts again


def test_cockatiel_a_closed_call_ending_late_can_reopen_a_half_open_circuit() -> None:
    breaker = cockatiel(threshold=1, half_open_after=100)
    assert breaker.allow(0.0)
    closed_call = breaker.generation
    call(breaker, 0.0, "timeout")
    assert breaker.allow(0.2) and breaker.state == HALF_OPEN  # the probe is out
    breaker.record(0.3, "timeout", 0.0, closed_call)  # breaker.failure(Closed) says open
    assert breaker.state == OPEN


def test_cockatiel_sampling_needs_its_minimum_rate_and_strictly_more_than_the_threshold() -> None:
    breaker = cockatiel(breaker="sampling", threshold=0.5, duration=1000, minimum_rps=4)
    for outcome in ("success", "timeout", "success"):
        call(breaker, 0.1, outcome)
    call(breaker, 0.1, "timeout")  # 2 of 4: not more than half
    assert breaker.state == CLOSED
    call(breaker, 0.1, "timeout")  # 3 of 5
    assert breaker.state == OPEN


def test_cockatiel_unhandled_errors_are_passed_through_and_a_probes_closes() -> None:
    breaker = cockatiel(threshold=2, half_open_after=100, handle=["timeout"])
    for _ in range(3):
        call(breaker, 0.0, "connection")  # not handled: the breaker never hears of it
    assert breaker.state == CLOSED
    call(breaker, 0.0, "timeout")
    call(breaker, 0.0, "timeout")
    assert breaker.state == OPEN
    assert call(breaker, 0.1, "connection")  # a probe throwing an unhandled error
    assert breaker.state == CLOSED
