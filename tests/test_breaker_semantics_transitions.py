"""Transitions nobody else pins, each written from the library's documented rule:
reconfiguration at run time, a reset forgetting Envoy's ejection count, Envoy's decay
applied once per healthy interval, an open wait that never ends, an ignored outcome in a
half-open state without a permit limit, and a half-open maximum wait of a second or less.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from sim.resilience import BreakerPolicy, CircuitBreaker
from sim.resilience.breaker import CANCELLED, CLOSED, HALF_OPEN, OPEN
from sim.resilience.group import BreakerGroup

OK, FAIL, SERVER = "success", "timeout", "server_error"
STALE = -1  # the result of a call from an earlier state: counted nowhere, moves the clock


def before(t: float) -> float:
    return math.nextafter(t, -math.inf)


def feed(breaker: CircuitBreaker, outcomes: list[str], now: float) -> None:
    for outcome in outcomes:
        breaker.record(now, outcome)


def r4j(**overrides: object) -> BreakerPolicy:
    params: dict[str, object] = {
        "sliding_window_size": 10,
        "minimum_number_of_calls": 10,
        "wait_duration_in_open_state": 10,
        "permitted_number_of_calls_in_half_open_state": 2,
    }
    return BreakerPolicy.preset("resilience4j", **(params | overrides))


# -- reconfigure() ------------------------------------------------------------------------


def test_reconfigure_with_the_same_window_keeps_its_counts_and_applies_the_new_minimum() -> None:
    breaker = CircuitBreaker(r4j())
    feed(breaker, [FAIL] * 4, 0.0)  # 4 calls: below the minimum of 10
    breaker.reconfigure(r4j(minimum_number_of_calls=4))
    assert breaker.state == CLOSED and breaker.metrics(0.0) == (4, 4, 0)
    breaker.record(0.1, OK)  # 4 of 5 failed, and 5 calls now reach the minimum
    assert breaker.state == OPEN


def test_reconfigure_with_another_window_starts_it_empty() -> None:
    breaker = CircuitBreaker(r4j())
    feed(breaker, [FAIL] * 4, 0.0)
    breaker.reconfigure(r4j(sliding_window_size=20))
    assert breaker.metrics(0.0) == (0, 0, 0)
    assert breaker.policy.sliding_window_size == 20


def test_reconfigure_refreshes_which_outcomes_are_failures() -> None:
    def only(category: str) -> BreakerPolicy:
        return BreakerPolicy.preset(
            "circuitbreaker", failure_threshold=2, expected_exception=[category]
        )

    breaker = CircuitBreaker(only(FAIL))
    feed(breaker, [SERVER, SERVER], 0.0)  # not this policy's failure: successes
    assert breaker.state == CLOSED
    breaker.reconfigure(only(SERVER))
    feed(breaker, [SERVER, SERVER], 1.0)
    assert breaker.state == OPEN


def test_reconfigure_to_snapshots_starts_the_snapshot_timer() -> None:
    breaker = CircuitBreaker(r4j())
    hystrix = BreakerPolicy.preset("hystrix", circuit_breaker_request_volume_threshold=2)
    breaker.reconfigure(hystrix)
    feed(breaker, [FAIL, FAIL], 0.1)
    assert breaker.state == CLOSED  # Hystrix trips only at a health snapshot
    assert not breaker.allow(0.5)
    assert breaker.state == OPEN and breaker.since == 0.5


def test_reconfigure_in_half_open_keeps_the_trial_window() -> None:
    breaker = CircuitBreaker(r4j(sliding_window_size=2, minimum_number_of_calls=2))
    feed(breaker, [FAIL, FAIL], 0.0)
    assert breaker.allow(10.5) and breaker.state == HALF_OPEN
    breaker.record(10.6, FAIL)
    breaker.reconfigure(r4j(sliding_window_size=5, minimum_number_of_calls=2))
    breaker.record(10.7, OK)  # the second of the two trial calls: 1 of 2 failed, 50 %
    assert breaker.state == OPEN
    assert breaker.open_until == pytest.approx(20.7)


def test_reconfigure_while_open_gives_the_new_window_on_closing() -> None:
    breaker = CircuitBreaker(r4j(sliding_window_size=4, minimum_number_of_calls=4))
    feed(breaker, [FAIL] * 4, 0.0)
    breaker.reconfigure(
        r4j(sliding_window_size=2, minimum_number_of_calls=2, wait_duration_in_open_state=1)
    )
    assert breaker.state == OPEN and breaker.open_until == 10.0  # this opening keeps its wait
    assert breaker.allow(10.5) and breaker.allow(10.5)
    feed(breaker, [OK, OK], 10.6)
    assert breaker.state == CLOSED
    feed(breaker, [FAIL, FAIL], 11.0)  # two calls fill the new window of two
    assert breaker.state == OPEN and breaker.open_until == 12.0


def test_reconfigure_in_metrics_only_replaces_a_window_of_another_shape() -> None:
    breaker = CircuitBreaker(r4j())
    breaker.transition_to(0.0, "metrics_only")
    feed(breaker, [FAIL] * 3, 0.0)
    breaker.reconfigure(r4j(minimum_number_of_calls=3))
    assert breaker.metrics(0.0) == (3, 3, 0)  # same shape: kept
    breaker.reconfigure(r4j(sliding_window_size=3))
    assert breaker.metrics(0.0) == (0, 0, 0)


# -- Envoy: reset and decay ---------------------------------------------------------------

ENVOY = {"consecutive_5xx": 3, "interval": "10s", "base_ejection_time": "30s"}


def envoy() -> CircuitBreaker:
    return CircuitBreaker(BreakerPolicy.preset("envoy", **ENVOY))


def eject(breaker: CircuitBreaker, now: float) -> float:
    """Three 5xx at ``now``: the ejection's duration."""
    feed(breaker, [SERVER] * 3, now)
    assert breaker.state == OPEN
    return breaker.open_until - now


def back_at(breaker: CircuitBreaker) -> float:
    """Let the host return at the first sweep after its ejection; that instant."""
    sweep = math.ceil(breaker.open_until / 10.0) * 10.0
    breaker.record(before(sweep), OK, 0.0, STALE)
    assert breaker.state == OPEN
    breaker.record(sweep, OK, 0.0, STALE)
    assert breaker.state == CLOSED and breaker.since == sweep
    return sweep


def test_envoy_ejections_grow_by_the_base_time() -> None:
    breaker = envoy()
    assert eject(breaker, 0.0) == 30.0
    assert eject(breaker, back_at(breaker)) == 60.0
    assert eject(breaker, back_at(breaker)) == 90.0


def test_reset_forgets_envoys_ejection_count() -> None:
    breaker = envoy()
    eject(breaker, 0.0)
    eject(breaker, back_at(breaker))
    now = back_at(breaker)
    breaker.reset(now)
    assert eject(breaker, now) == 30.0  # the first ejection again, not the third

    ejected = envoy()
    eject(ejected, 0.0)
    ejected.reset(5.0)  # a reset while ejected: back at once, count forgotten
    assert ejected.state == CLOSED
    assert eject(ejected, 5.0) == 30.0


def test_envoy_decay_is_one_per_whole_healthy_interval_and_applied_once() -> None:
    breaker = envoy()
    eject(breaker, 0.0)
    eject(breaker, back_at(breaker))
    eject(breaker, back_at(breaker))  # count 3
    returned = back_at(breaker)
    # 25 s healthy: two whole intervals, 3 -> 1, then this ejection makes 2.
    assert eject(breaker, returned + 25.0) == 60.0
    # Back and ejected at once: no healthy time, and the 25 s are not forgiven again.
    assert eject(breaker, back_at(breaker)) == 90.0


def test_envoy_time_spent_ejected_is_not_healthy() -> None:
    breaker = envoy()
    eject(breaker, 0.0)
    eject(breaker, back_at(breaker))  # count 2, ejected 60 s from 30
    assert eject(breaker, back_at(breaker)) == 90.0  # 60 s out, none healthy: 2 -> 3


# -- an open wait that never ends -----------------------------------------------------------


@pytest.mark.parametrize("library", ["pybreaker", "circuitbreaker"])
def test_an_infinite_open_wait_never_admits_a_call(library: str) -> None:
    policy = dataclasses.replace(
        BreakerPolicy.preset(library), wait_duration_in_open_state=math.inf
    )
    breaker = CircuitBreaker(policy)
    feed(breaker, [FAIL] * 5, 1.0)
    assert breaker.state == OPEN and breaker.open_until == math.inf
    for now in (1.0, 61.0, 1e9, 1e12):
        assert not breaker.allow(now)
    assert breaker.state == OPEN


def test_pybreaker_wait_on_the_microsecond_clock() -> None:
    # 0.1 + 0.2 is a hair above 0.3 in floats; pybreaker's datetimes have whole microseconds.
    breaker = CircuitBreaker(BreakerPolicy.preset("pybreaker", fail_max=1, reset_timeout=0.2))
    breaker.record(0.1, FAIL)
    assert not breaker.allow(0.2999994)  # 299999 us
    assert breaker.allow(0.3) and breaker.state == HALF_OPEN  # 300000 us, as opened + wait


# -- an ignored outcome in half-open --------------------------------------------------------


def test_an_ignored_outcome_in_half_open_without_a_permit_limit() -> None:
    breaker = CircuitBreaker(BreakerPolicy.preset("pybreaker", fail_max=1, reset_timeout=10))
    breaker.record(0.0, FAIL)
    assert breaker.allow(10.0) and breaker.state == HALF_OPEN
    generation = breaker.generation
    breaker.record(10.1, CANCELLED, 0.0, generation)  # no permit to give back: no crash
    assert breaker.state == HALF_OPEN and breaker.generation == generation
    assert all(breaker.allow(10.2) for _ in range(50))  # still no limit
    breaker.record(10.3, OK, 0.0, generation)
    assert breaker.state == CLOSED


def test_a_group_hands_back_a_permit_to_an_unlimited_half_open_member() -> None:
    unlimited = CircuitBreaker(BreakerPolicy.preset("pybreaker", fail_max=1, reset_timeout=10))
    counted = CircuitBreaker(r4j(sliding_window_size=1, minimum_number_of_calls=1))
    group = BreakerGroup([unlimited, counted])
    unlimited.record(0.0, FAIL)
    counted.record(5.0, FAIL)  # open until 15
    assert not group.allow(10.0)  # the first member half-opened, the second refused
    assert unlimited.state == HALF_OPEN and counted.state == OPEN
    assert unlimited.allow(10.0)


def test_an_ignored_outcome_gives_a_limited_permit_back() -> None:
    breaker = CircuitBreaker(r4j(sliding_window_size=2, minimum_number_of_calls=2))
    feed(breaker, [FAIL, FAIL], 0.0)
    assert breaker.allow(10.5) and breaker.allow(10.5) and not breaker.allow(10.5)
    breaker.record(10.6, CANCELLED, 0.0, breaker.generation)
    assert breaker.allow(10.7) and not breaker.allow(10.7)


# -- half-open maximum wait of a second or less ---------------------------------------------


@pytest.mark.parametrize("wait", ["1ms", "500ms", "1s"])
def test_half_open_max_wait_of_a_second_or_less(wait: str) -> None:
    seconds = {"1ms": 0.001, "500ms": 0.5, "1s": 1.0}[wait]
    breaker = CircuitBreaker(
        r4j(
            sliding_window_size=2,
            minimum_number_of_calls=2,
            max_wait_duration_in_half_open_state=wait,
        )
    )
    feed(breaker, [FAIL, FAIL], 0.0)
    assert breaker.allow(10.5) and breaker.state == HALF_OPEN
    breaker.record(before(10.5 + seconds), OK, 0.0, STALE)
    assert breaker.state == HALF_OPEN
    breaker.record(10.5 + seconds, OK, 0.0, STALE)
    assert breaker.state == OPEN and breaker.since == 10.5 + seconds
    assert breaker.open_until == pytest.approx(20.5 + seconds)


def test_half_open_max_wait_to_closed() -> None:
    breaker = CircuitBreaker(
        r4j(
            sliding_window_size=2,
            minimum_number_of_calls=2,
            max_wait_duration_in_half_open_state="500ms",
            transition_to_state_after_wait_duration="CLOSED",
        )
    )
    feed(breaker, [FAIL, FAIL], 0.0)
    assert breaker.allow(10.5)
    assert breaker.allow(11.0) and breaker.state == CLOSED and breaker.since == 11.0


def test_envoy_decay_counts_intervals_that_end_exactly_now() -> None:
    # 100 ms sweeps: a host back at 0.3 s and ejected again at 0.5 s has been healthy for
    # two whole intervals (sweeps at 0.4 and 0.5), as 20 s are two 10 s intervals.
    fast = {"consecutive_5xx": 1, "interval": "100ms", "base_ejection_time": "100ms"}
    breaker = CircuitBreaker(BreakerPolicy.preset("envoy", **fast))
    breaker.record(0.0, SERVER)  # count 1, back at the 0.1 sweep
    breaker.record(0.1, OK, 0.0, STALE)
    breaker.record(0.1, SERVER)  # count 2: 200 ms
    breaker.record(0.35, OK, 0.0, STALE)  # back at the 0.3 sweep (3 x 0.1 in floats)
    assert breaker.state == CLOSED and breaker.since == pytest.approx(0.3)
    breaker.record(0.5, SERVER)  # 2 - 2 + 1 = 1: 100 ms
    assert breaker.open_until == pytest.approx(0.6)


def test_envoy_time_forced_open_is_not_healthy() -> None:
    breaker = envoy()
    eject(breaker, 0.0)  # count 1, out until 30
    breaker.transition_to(25.0, OPEN)  # ejected again while out: no healthy time between
    assert breaker.open_until == 25.0 + 60.0


def test_a_probe_closes_on_one_success_whatever_the_success_threshold() -> None:
    policy = dataclasses.replace(
        BreakerPolicy.preset("polly", minimum_throughput=2), success_threshold=3
    )
    breaker = CircuitBreaker(policy)
    feed(breaker, [FAIL, FAIL], 0.0)
    assert breaker.allow(5.0) and breaker.state == HALF_OPEN
    breaker.record(5.1, OK, 0.0, breaker.generation)
    assert breaker.state == CLOSED


def test_a_strict_wait_on_the_microsecond_clock_admits_only_after_the_deadline() -> None:
    policy = dataclasses.replace(
        BreakerPolicy.preset("pybreaker", fail_max=1, reset_timeout=0.2), strict_open_expiry=True
    )
    breaker = CircuitBreaker(policy)
    breaker.record(0.1, FAIL)
    assert not breaker.allow(0.3)  # 300000 us is the deadline itself
    assert breaker.allow(0.300001)


def test_an_unknown_state_is_refused_by_name() -> None:
    breaker = CircuitBreaker(r4j())
    with pytest.raises(ValueError) as info:
        breaker.transition_to(0.0, "ajar")
    assert str(info.value) == (
        "unknown breaker state 'ajar'; expected one of ('closed', 'open', 'half_open', "
        "'forced_open', 'disabled', 'metrics_only')"
    )


def test_reconfigure_to_a_microsecond_clock_while_open_keeps_the_deadline() -> None:
    breaker = CircuitBreaker(r4j(sliding_window_size=2, minimum_number_of_calls=2))
    feed(breaker, [FAIL, FAIL], 0.0)  # open until 10
    breaker.reconfigure(BreakerPolicy.preset("pybreaker", reset_timeout=10))
    assert not breaker.allow(1.0) and breaker.state == OPEN
    assert not breaker.allow(9.9999)
    assert breaker.allow(10.0) and breaker.state == HALF_OPEN  # pybreaker's >=


def test_a_new_breaker_is_closed_and_has_never_opened() -> None:
    breaker = CircuitBreaker(r4j())
    assert (breaker.name, breaker.state, breaker.generation, breaker.trips) == ("", CLOSED, 0, 0)
    assert (breaker.open_until, breaker.since) == (0.0, 0.0)
    assert CircuitBreaker(r4j(), name="payment").name == "payment"


def test_a_result_without_a_duration_is_not_slow() -> None:
    breaker = CircuitBreaker(
        r4j(
            sliding_window_size=2,
            minimum_number_of_calls=2,
            slow_call_duration_threshold="500ms",
            slow_call_rate_threshold=50,
        )
    )
    feed(breaker, [OK, OK], 0.0)
    assert breaker.metrics(0.0) == (2, 0, 0) and breaker.state == CLOSED


def test_an_ignored_outcome_gives_back_exactly_one_permit() -> None:
    breaker = CircuitBreaker(
        r4j(
            sliding_window_size=2,
            minimum_number_of_calls=2,
            permitted_number_of_calls_in_half_open_state=3,
        )
    )
    feed(breaker, [FAIL, FAIL], 0.0)
    assert breaker.allow(10.5)  # two permits left
    breaker.record(10.6, CANCELLED, 0.0, breaker.generation)  # three again
    assert [breaker.allow(10.7) for _ in range(4)] == [True, True, True, False]


def test_envoy_credits_healthy_time_before_a_manual_change() -> None:
    breaker = envoy()
    eject(breaker, 0.0)
    eject(breaker, back_at(breaker))  # count 2
    returned = back_at(breaker)
    breaker.transition_to(returned + 25.0, "disabled")  # two healthy intervals: 2 -> 0
    breaker.transition_to(returned + 100.0, CLOSED)
    assert eject(breaker, returned + 100.0) == 30.0  # 0 -> 1
