"""opossum's and cockatiel's rules (sim/resilience/nodebreakers.py) on explicit instants,
worked out by hand from docs/breaker-semantics.md: the instant each transition is stamped
with and reported at, the single half-open probe and what an ignored result does to it,
the sampling breaker's minimum rate exactly at its bound, and the half-open backoff after
a close or a manual opening."""

from __future__ import annotations

from typing import Any

from sim.resilience.breaker import (
    CLOSED,
    FORCED_OPEN,
    HALF_OPEN,
    OPEN,
    BreakerPolicy,
    CircuitBreaker,
)

Event = tuple[float, str, str]


def breaker(library: str, events: list[Event] | None = None, **options: Any) -> CircuitBreaker:
    listeners = [] if events is None else [lambda now, old, new: events.append((now, old, new))]
    return CircuitBreaker(BreakerPolicy.preset(library, **options), name="payment",
                          listeners=listeners)  # fmt: skip


def call(b: CircuitBreaker, now: float, outcome: str) -> bool:
    """A call admitted at ``now`` that ends at ``now`` with ``outcome``."""
    if not b.allow(now):
        return False
    b.record(now, outcome, 0.0, b.generation)
    return True


# -- when transitions happen and who hears of them ------------------------------------------


def test_opossum_reports_each_transition_at_its_instant() -> None:
    """A failure at 0.5 s opens (100 % > 50 %, volume 0); the reset timer half-opens at
    0.5 + 1 s, however late the next call; the probe's success closes at 2.0 s."""
    events: list[Event] = []
    b = breaker("opossum", events, reset_timeout=1000)
    assert b.name == "payment" and CircuitBreaker(BreakerPolicy.preset("opossum")).name == ""
    call(b, 0.5, "timeout")
    assert b.state_at(1.2) == OPEN and b.since == 0.5 and b.open_until == 1.5
    call(b, 2.0, "success")
    assert events == [(0.5, CLOSED, OPEN), (1.5, OPEN, HALF_OPEN), (2.0, HALF_OPEN, CLOSED)]
    assert b.state == CLOSED and b.since == 2.0


def test_cockatiel_reports_each_transition_at_its_instant() -> None:
    """One failure opens (threshold 1); the first call 1 s after the opening half-opens it
    and is the probe; a passing probe closes, a failing one re-opens."""
    events: list[Event] = []
    b = breaker("cockatiel", events, threshold=1, half_open_after=1000)
    assert b.name == "payment" and CircuitBreaker(BreakerPolicy.preset("cockatiel")).name == ""
    call(b, 0.5, "timeout")
    assert not b.allow(1.499)
    assert b.allow(1.5) and b.since == 1.5
    b.record(1.6, "success", 0.0, b.generation)
    call(b, 2.0, "server_error")
    assert b.allow(3.0)
    b.record(3.1, "connection", 0.0, b.generation)
    assert events == [
        (0.5, CLOSED, OPEN), (1.5, OPEN, HALF_OPEN), (1.6, HALF_OPEN, CLOSED),
        (2.0, CLOSED, OPEN), (3.0, OPEN, HALF_OPEN), (3.1, HALF_OPEN, OPEN),
    ]  # fmt: skip
    assert b.since == 3.1 and b.open_until == 4.1


# -- opossum's single half-open call --------------------------------------------------------


def test_opossum_an_ignored_probe_gives_its_permit_back() -> None:
    b = breaker("opossum", reset_timeout=1000)
    call(b, 0.0, "timeout")
    assert b.allow(1.0) and not b.allow(1.0)  # the probe is out
    b.record(1.1, "cancelled", 0.0, b.generation)  # taken but not used
    assert b.state == HALF_OPEN and b.allow(1.2)


def test_opossum_an_ignored_result_from_before_keeps_the_probe_out() -> None:
    b = breaker("opossum", reset_timeout=1000, error_threshold_percentage=40)
    assert b.allow(0.0)
    early = b.generation  # a call admitted while closed, still running
    call(b, 0.0, "timeout")  # 1 failure in 2 calls made: 50 % > 40 %
    assert b.state == OPEN
    assert b.allow(1.0)  # the probe
    b.record(1.1, "cancelled", 0.0, early)
    assert not b.allow(1.2)


# -- cockatiel's single probe ---------------------------------------------------------------


def half_open_cockatiel(**options: Any) -> CircuitBreaker:
    b = breaker("cockatiel", threshold=1, half_open_after=1000, **options)
    call(b, 0.0, "timeout")
    assert b.allow(1.0) and b.state == HALF_OPEN  # the probe is out
    return b


def test_cockatiel_admits_one_probe_and_a_forced_open_breaker_none() -> None:
    b = half_open_cockatiel()
    assert not b.allow(1.0) and not b.allow(1.5)
    forced = breaker("cockatiel")
    forced.transition_to(0.0, FORCED_OPEN)
    assert not forced.allow(0.0) and not forced.allow(100.0)


def test_cockatiel_a_probe_never_run_lets_the_next_call_probe() -> None:
    b = half_open_cockatiel()
    b.record(1.1, "cancelled", 0.0, b.generation)
    assert b.state == HALF_OPEN and b.allow(1.2) and not b.allow(1.2)


def test_cockatiel_an_ignored_result_of_another_call_keeps_the_probe_out() -> None:
    b = breaker("cockatiel", threshold=1, half_open_after=1000)
    assert b.allow(0.0)
    early = b.generation  # admitted while closed, still running
    call(b, 0.0, "timeout")
    assert b.allow(1.0)
    b.record(1.1, "cancelled", 0.0, early)
    assert not b.allow(1.2)


def test_cockatiel_a_result_without_generation_settles_the_probe_that_is_out() -> None:
    b = half_open_cockatiel()
    b.record(1.1, "server_error")
    assert b.state == OPEN and b.since == 1.1
    b = half_open_cockatiel()
    b.record(1.1, "success")  # the probe's: closes (a closed call's success would not)
    assert b.state == CLOSED and b.since == 1.1
    # No probe out (it was cancelled): a success is a closed-state success, not a probe's.
    b = half_open_cockatiel()
    b.record(1.1, "cancelled", 0.0, b.generation)
    b.record(1.2, "success")
    assert b.state == HALF_OPEN


# -- cockatiel's sampling breaker at its minimum rate ---------------------------------------


def sampling(duration: int, results: list[str], at: float = 0.5) -> CircuitBreaker:
    b = breaker("cockatiel", breaker="sampling", threshold=0.5, duration=duration)
    for outcome in results:
        assert call(b, at, outcome)
    return b


def test_cockatiel_sampling_opens_at_exactly_the_minimum_number_of_calls() -> None:
    """No minimumRps: enough calls for 5 failures a second at threshold 0.5, i.e. 10 a
    second: 10 in a 1 s ring. 4 successes and 6 failures (6 > 0.5 x 10): open at the 10th."""
    before = sampling(1000, ["success"] * 4 + ["timeout"] * 5)
    assert before.state == CLOSED  # 9 calls
    assert sampling(1000, ["success"] * 4 + ["timeout"] * 6).state == OPEN


def test_cockatiel_sampling_minimum_over_a_long_ring() -> None:
    """200 s at 10 calls a second: 2000 calls. 999 successes and 1000 failures (1000 >
    999.5) are 1999 calls, one short; one more failure opens it."""
    results = ["success"] * 999 + ["timeout"] * 1000
    assert sampling(200_000, results).state == CLOSED
    assert sampling(200_000, [*results, "timeout"]).state == OPEN


# -- cockatiel's half-open backoff ----------------------------------------------------------


def test_cockatiel_backoff_starts_again_after_a_close_and_on_a_manual_opening() -> None:
    """Exponential: 1 s, then 2 s after a failed probe, but from a closed (or manually
    re-opened) circuit the first step again."""
    b = breaker("cockatiel", threshold=1, half_open_after=1000, half_open_backoff="exponential")
    call(b, 0.0, "timeout")
    assert call(b, 1.0, "success") and b.state == CLOSED
    b.transition_to(2.0, HALF_OPEN)  # manual: a probe after a close
    assert call(b, 2.0, "timeout") and b.state == OPEN
    assert b.open_until == 3.0 and b.allow(3.0)
    b = breaker("cockatiel", threshold=1, half_open_after=1000, half_open_backoff="exponential")
    call(b, 0.0, "timeout")
    b.transition_to(0.5, OPEN)  # opened again by hand while open
    assert b.open_until == 1.5 and b.allow(1.5)


def test_cockatiel_a_probes_unhandled_error_closes_at_its_instant() -> None:
    """``handle`` only server errors: a timeout is thrown through, not counted; a probe's
    closes the circuit when it arrives."""
    b = breaker("cockatiel", threshold=1, half_open_after=1000, handle=["server_error"])
    call(b, 0.0, "server_error")
    assert b.allow(1.0) and b.state == HALF_OPEN
    b.record(1.3, "timeout", 0.0, b.generation)
    assert b.state == CLOSED and b.since == 1.3
