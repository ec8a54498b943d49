"""CircuitBreaker / BreakerPolicy: count-based breaker with resilience4j semantics.

Reference: docs/breaker-semantics.md (resilience4j rows). Boundaries matter
because simulated events land on exact instants: ``>=`` versus ``>`` is tested explicitly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.resilience import BreakerPolicy, CircuitBreaker
from sim.resilience.breaker import (
    CLOSED,
    DISABLED,
    FAILURE_CATEGORIES,
    FORCED_OPEN,
    HALF_OPEN,
    METRICS_ONLY,
    OPEN,
    STATES,
)

FAIL = "timeout"
OK = "success"
DECLINED = "declined"


def after(t: float) -> float:
    """The next representable instant strictly after ``t``."""
    return math.nextafter(t, math.inf)


def make(
    *,
    window: int = 10,
    minimum: int = 10,
    threshold: float = 0.5,
    slow_threshold: float = 1.0,
    slow_duration: float = 60.0,
    wait: float = 60.0,
    permits: int = 10,
    record: Iterable[str] = FAILURE_CATEGORIES,
    ignore: Iterable[str] = (),
) -> CircuitBreaker:
    return CircuitBreaker(
        BreakerPolicy(
            failure_rate_threshold=threshold,
            slow_call_rate_threshold=slow_threshold,
            slow_call_duration_threshold=slow_duration,
            sliding_window_size=window,
            minimum_number_of_calls=minimum,
            wait_duration_in_open_state=wait,
            permitted_number_of_calls_in_half_open_state=permits,
            record=frozenset(record),
            ignore=frozenset(ignore),
        )
    )


def feed(
    breaker: CircuitBreaker, outcomes: Iterable[str], now: float = 0.0, duration: float = 0.0
) -> None:
    for outcome in outcomes:
        breaker.record(now, outcome, duration)


def trip(breaker: CircuitBreaker, now: float = 0.0) -> None:
    """Trip a closed breaker at ``now`` with failures only."""
    assert breaker.state == CLOSED
    while breaker.state == CLOSED:
        breaker.record(now, FAIL)
    assert breaker.state == OPEN


def to_half_open(breaker: CircuitBreaker, now: float = 0.0) -> float:
    """Trip at ``now``, then take the first half-open permit just after the deadline."""
    trip(breaker, now)
    t = after(breaker.open_until)
    assert breaker.allow(t)
    assert breaker.state == HALF_OPEN
    return t


class Log:
    """A transition listener that remembers every (now, old, new)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, str]] = []

    def __call__(self, now: float, old: str, new: str) -> None:
        self.events.append((now, old, new))


# --------------------------------------------------------------------------- policy


def test_policy_defaults_are_resilience4j_defaults() -> None:
    p = BreakerPolicy()
    assert p.failure_rate_threshold == 0.5
    assert p.slow_call_rate_threshold == 1.0
    assert p.slow_call_duration_threshold == 60.0
    assert p.sliding_window_size == 100
    assert p.minimum_number_of_calls == 100
    assert p.wait_duration_in_open_state == 60.0
    assert p.permitted_number_of_calls_in_half_open_state == 10
    assert p.record == frozenset(FAILURE_CATEGORIES)
    assert p.ignore == frozenset()


def test_policy_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        BreakerPolicy().sliding_window_size = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_rate_threshold": 0.0},
        {"failure_rate_threshold": -0.1},
        {"failure_rate_threshold": 1.0001},
        {"failure_rate_threshold": math.nan},
        {"slow_call_rate_threshold": 0.0},
        {"slow_call_rate_threshold": 1.5},
        {"slow_call_rate_threshold": math.nan},
        {"sliding_window_size": 0},
        {"sliding_window_size": -1},
        {"minimum_number_of_calls": 0},
        {"permitted_number_of_calls_in_half_open_state": 0},
        {"wait_duration_in_open_state": -1.0},
        {"slow_call_duration_threshold": -0.5},
    ],
)
def test_policy_rejects_bad_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_rate_threshold": 1.0},
        {"failure_rate_threshold": 0.01},
        {"slow_call_rate_threshold": 1.0},
        {"sliding_window_size": 1, "minimum_number_of_calls": 1},
        {"permitted_number_of_calls_in_half_open_state": 1},
        {"wait_duration_in_open_state": 0.0},
        {"slow_call_duration_threshold": 0.0},
    ],
)
def test_policy_accepts_boundary_values(kwargs: dict[str, float]) -> None:
    BreakerPolicy(**kwargs)  # type: ignore[arg-type]


def test_new_breaker_is_closed_and_allows() -> None:
    b = CircuitBreaker()
    assert b.state == CLOSED
    assert b.generation == 0
    assert b.trips == 0
    assert b.allow(0.0)
    assert b.allow(1e9)


# --------------------------------------------------------------------------- closed


def test_no_trip_below_minimum_number_of_calls() -> None:
    b = make(window=10, minimum=5)
    feed(b, [FAIL] * 4)
    assert b.state == CLOSED
    b.record(1.0, FAIL)
    assert b.state == OPEN


def test_minimum_larger_than_window_uses_window_size() -> None:
    b = make(window=4, minimum=100)
    feed(b, [FAIL] * 3)
    assert b.state == CLOSED
    b.record(0.0, FAIL)
    assert b.state == OPEN


def test_trips_exactly_at_threshold() -> None:
    b = make(window=10, minimum=10, threshold=0.5)
    feed(b, [OK] * 5 + [FAIL] * 4)
    assert b.state == CLOSED
    b.record(0.0, FAIL)  # 5 / 10 = 50 % >= 50 %
    assert b.state == OPEN


def test_one_below_threshold_does_not_trip() -> None:
    b = make(window=10, minimum=10, threshold=0.5)
    feed(b, [OK] * 6 + [FAIL] * 4)  # 40 %
    assert b.state == CLOSED
    assert b.trips == 0


def test_threshold_checked_on_every_call_after_minimum() -> None:
    # minimum 4, window 10: the rate is checked on each call even before the ring is full.
    b = make(window=10, minimum=4, threshold=0.5)
    feed(b, [FAIL, OK, OK, OK])  # 1/4
    assert b.state == CLOSED
    b.record(0.0, FAIL)  # 2/5
    assert b.state == CLOSED
    b.record(0.0, FAIL)  # 3/6 = 50 %
    assert b.state == OPEN


def test_success_after_minimum_does_not_trip() -> None:
    b = make(window=10, minimum=2, threshold=0.5)
    feed(b, [OK, OK, FAIL])  # 1/3
    assert b.state == CLOSED


@pytest.mark.parametrize("window", [3, 7, 10, 20, 100])
@pytest.mark.parametrize("pct", list(range(1, 101)))
def test_threshold_float_rounding(window: int, pct: int) -> None:
    """A threshold of pct % over a full window trips at exactly ceil(pct * window / 100)
    failures, e.g. 30 % of 10 calls at exactly 3 even though 0.3 * 10 > 3 in floats."""
    needed = -(-pct * window // 100)
    below = make(window=window, minimum=window, threshold=pct / 100)
    feed(below, [OK] * (window - needed + 1) + [FAIL] * (needed - 1))
    assert below.state == CLOSED, f"{needed - 1}/{window} must not trip {pct} %"
    at = make(window=window, minimum=window, threshold=pct / 100)
    feed(at, [OK] * (window - needed) + [FAIL] * needed)
    assert at.state == OPEN, f"{needed}/{window} must trip {pct} %"


def test_thirty_percent_of_ten_trips_at_three() -> None:
    b = make(window=10, minimum=10, threshold=0.3)
    feed(b, [OK] * 7 + [FAIL] * 2)
    assert b.state == CLOSED
    b.record(0.0, FAIL)
    assert b.state == OPEN


def test_old_outcomes_slide_out_of_the_ring() -> None:
    b = make(window=10, minimum=10, threshold=0.5)
    feed(b, [FAIL] * 4 + [OK] * 1000)
    assert b.state == CLOSED
    # The old failures are gone: 4 new failures in the last 10 are 40 % ...
    feed(b, [FAIL] * 4)
    assert b.state == CLOSED
    # ... and the fifth makes 50 %.
    b.record(0.0, FAIL)
    assert b.state == OPEN


def test_alternating_just_below_threshold_never_trips() -> None:
    b = make(window=5, minimum=5, threshold=0.5)
    feed(b, [OK, FAIL, OK, FAIL, OK] * 50)  # every full window holds 2 failures of 5
    # Windows like FAIL OK FAIL OK OK also hold 2 of 5; never 3.
    assert b.state == CLOSED


def test_failures_that_slid_out_do_not_count() -> None:
    b = make(window=3, minimum=3, threshold=0.67)
    feed(b, [FAIL, FAIL, OK, OK])  # last 3: F O O
    assert b.state == CLOSED
    b.record(0.0, FAIL)  # last 3: O O F = 33 %
    assert b.state == CLOSED


def test_trip_sets_open_until_trips_and_generation() -> None:
    b = make(window=2, minimum=2, wait=30.0)
    b.record(5.0, FAIL)
    assert b.generation == 0
    b.record(7.5, FAIL)
    assert b.state == OPEN
    assert b.open_until == 37.5
    assert b.trips == 1
    assert b.generation == 1


# --------------------------------------------------------------------------- slow calls


def test_call_equal_to_slow_threshold_is_not_slow() -> None:
    b = make(window=4, minimum=4, threshold=1.0, slow_threshold=0.5, slow_duration=2.0)
    feed(b, [OK] * 20, duration=2.0)
    assert b.state == CLOSED


def test_call_longer_than_slow_threshold_is_slow() -> None:
    b = make(window=4, minimum=4, threshold=1.0, slow_threshold=0.5, slow_duration=2.0)
    feed(b, [OK, OK], duration=2.0)
    b.record(0.0, OK, after(2.0))
    assert b.state == CLOSED  # 1/3 calls, below the minimum anyway
    b.record(0.0, OK, 2.5)  # 2/4 slow = 50 %
    assert b.state == OPEN


def test_slow_rate_one_below_threshold_does_not_trip() -> None:
    b = make(window=4, minimum=4, threshold=1.0, slow_threshold=0.5, slow_duration=1.0)
    for d in [0.5, 0.5, 0.5, 5.0] * 10:  # every full window holds exactly 1 slow call of 4
        b.record(0.0, OK, d)
    assert b.state == CLOSED
    b.record(0.0, OK, 5.0)  # last 4: 0.5 0.5 5 5 = 50 %
    assert b.state == OPEN


def test_default_slow_threshold_needs_every_call_slow() -> None:
    b = make(window=4, minimum=4, threshold=1.0, slow_duration=1.0)
    feed(b, [OK] * 3, duration=9.0)
    b.record(0.0, OK, 1.0)  # not slow
    feed(b, [OK] * 3, duration=9.0)  # last 4: not-slow + 3 slow
    assert b.state == CLOSED
    b.record(0.0, OK, 9.0)  # 4/4 slow
    assert b.state == OPEN


def test_slow_failures_count_for_both_rates() -> None:
    b = make(window=2, minimum=2, threshold=1.0, slow_threshold=1.0, slow_duration=1.0)
    b.record(0.0, FAIL, 0.0)
    b.record(0.0, OK, 5.0)  # 50 % failed, 50 % slow: neither threshold
    assert b.state == CLOSED
    b.record(0.0, FAIL, 5.0)  # last 2: OK-slow, FAIL-slow = 100 % slow
    assert b.state == OPEN


def test_zero_slow_duration_threshold() -> None:
    b = make(window=2, minimum=2, threshold=1.0, slow_threshold=1.0, slow_duration=0.0)
    feed(b, [OK] * 5, duration=0.0)
    assert b.state == CLOSED
    feed(b, [OK] * 2, duration=1e-12)
    assert b.state == OPEN


# --------------------------------------------------------------------------- open


def test_open_refuses_until_deadline_inclusive() -> None:
    b = make(window=2, minimum=2, wait=60.0)
    trip(b, now=10.0)
    assert b.open_until == 70.0
    assert not b.allow(10.0)
    assert not b.allow(69.999)
    assert not b.allow(70.0)  # exactly at the deadline: still refused
    assert b.state == OPEN
    assert b.allow(after(70.0))  # strictly after: first half-open permit
    assert b.state == HALF_OPEN


def test_open_with_zero_wait() -> None:
    b = make(window=1, minimum=1, wait=0.0)
    trip(b, now=5.0)
    assert b.open_until == 5.0
    assert not b.allow(5.0)
    assert b.allow(after(5.0))
    assert b.state == HALF_OPEN


def test_refused_calls_do_not_extend_open_state() -> None:
    b = make(window=1, minimum=1, wait=10.0)
    trip(b, now=0.0)
    for t in (1.0, 5.0, 10.0):
        assert not b.allow(t)
    assert b.open_until == 10.0
    assert b.trips == 1
    assert b.allow(10.5)


def test_records_while_open_are_ignored() -> None:
    b = make(window=2, minimum=2, wait=10.0)
    trip(b, now=0.0)
    gen = b.generation
    feed(b, [FAIL] * 5 + [OK] * 5, now=3.0)
    assert b.state == OPEN
    assert b.trips == 1
    assert b.open_until == 10.0
    assert b.generation == gen


# --------------------------------------------------------------------------- half-open


@pytest.mark.parametrize("permits", [1, 3, 10])
def test_half_open_grants_exactly_the_permits(permits: int) -> None:
    b = make(window=2, minimum=2, permits=permits)
    t = to_half_open(b)  # took the first permit
    granted = 1 + sum(b.allow(t + i) for i in range(1, permits + 5))
    assert granted == permits
    assert b.state == HALF_OPEN
    assert not b.allow(t + 1000.0)


def test_half_open_decides_after_minimum_when_minimum_below_permits() -> None:
    b = make(window=10, minimum=2, permits=5, threshold=0.5)
    t = to_half_open(b)
    b.record(t, OK)
    assert b.state == HALF_OPEN
    b.record(t, OK)
    assert b.state == CLOSED


def test_half_open_decides_after_permits_when_permits_below_minimum() -> None:
    b = make(window=10, minimum=10, permits=3, threshold=0.5)
    t = to_half_open(b)
    for _ in range(2):
        b.allow(t)
    b.record(t, OK)
    b.record(t, OK)
    assert b.state == HALF_OPEN
    b.record(t, OK)
    assert b.state == CLOSED


def test_half_open_reopens_exactly_at_threshold() -> None:
    b = make(window=10, minimum=10, permits=4, threshold=0.5, wait=60.0)
    t = to_half_open(b, now=0.0)
    assert b.trips == 1
    feed(b, [OK, FAIL, OK], now=t)
    assert b.state == HALF_OPEN
    b.record(100.0, FAIL)  # 2/4 = 50 %
    assert b.state == OPEN
    assert b.trips == 2
    assert b.open_until == 160.0  # new deadline from the re-open instant


def test_half_open_closes_one_below_threshold() -> None:
    b = make(window=10, minimum=10, permits=4, threshold=0.5)
    t = to_half_open(b)
    feed(b, [OK, FAIL, OK, OK], now=t)  # 25 %
    assert b.state == CLOSED
    assert b.trips == 1


def test_half_open_first_failure_does_not_decide_early() -> None:
    b = make(window=10, minimum=10, permits=4, threshold=0.5)
    t = to_half_open(b)
    b.record(t, FAIL)  # 1/1 failed, but only 1 of 4 results
    assert b.state == HALF_OPEN


def test_half_open_slow_calls_reopen() -> None:
    b = make(window=10, minimum=10, permits=2, slow_threshold=1.0, slow_duration=1.0)
    t = to_half_open(b)
    b.record(t, OK, 2.0)
    b.record(t, OK, 2.0)
    assert b.state == OPEN
    assert b.trips == 2


def test_reopened_breaker_refuses_until_new_deadline() -> None:
    b = make(window=1, minimum=1, permits=1, wait=10.0)
    t = to_half_open(b, now=0.0)  # t just after 10
    b.record(20.0, FAIL)
    assert b.state == OPEN
    assert b.open_until == 30.0
    assert not b.allow(30.0)
    assert b.allow(after(30.0))
    assert b.state == HALF_OPEN
    assert t < 30.0


def test_closed_after_half_open_starts_a_fresh_window() -> None:
    b = make(window=4, minimum=4, permits=1, threshold=0.5)
    t = to_half_open(b)
    b.record(t, OK)
    assert b.state == CLOSED
    feed(b, [FAIL] * 3, now=t)  # 3 calls < minimum 4 in the new window
    assert b.state == CLOSED
    b.record(t, FAIL)
    assert b.state == OPEN


def test_half_open_permits_reset_on_each_entry() -> None:
    b = make(window=1, minimum=1, permits=2, wait=1.0)
    t = to_half_open(b, now=0.0)
    assert b.allow(t)
    assert not b.allow(t)
    b.record(t, FAIL)  # 1 result >= min(1, 2): decides, re-opens
    assert b.state == OPEN
    t2 = after(b.open_until)
    assert b.allow(t2)
    assert b.allow(t2)
    assert not b.allow(t2)


# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize("category", sorted(FAILURE_CATEGORIES))
def test_default_record_categories_are_failures(category: str) -> None:
    b = make(window=1, minimum=1)
    b.record(0.0, category)
    assert b.state == OPEN


@pytest.mark.parametrize("outcome", [OK, DECLINED, "client_error", "whatever"])
def test_unrecorded_outcomes_are_successes(outcome: str) -> None:
    b = make(window=2, minimum=2, threshold=0.5)
    feed(b, [outcome] * 50)
    assert b.state == CLOSED
    # They are counted (as successes): one failure next to one of them is 50 %.
    b2 = make(window=2, minimum=2, threshold=0.5)
    b2.record(0.0, FAIL)
    b2.record(0.0, outcome)
    assert b2.state == OPEN
    # ... and a success dilutes: 1 failure in 3 is below 50 %.
    b3 = make(window=3, minimum=3, threshold=0.5)
    feed(b3, [outcome, FAIL, outcome])
    assert b3.state == CLOSED


def test_classify() -> None:
    p = BreakerPolicy(record=frozenset({"timeout", "boom"}), ignore=frozenset({"boom", "cancel"}))
    assert p.classify("timeout") == 1
    assert p.classify("boom") == -1  # ignore wins over record
    assert p.classify("cancel") == -1
    assert p.classify(OK) == 0
    assert p.classify(DECLINED) == 0
    assert p.classify("connection") == 0  # not recorded by this policy


def test_default_policy_classifies_declined_as_success() -> None:
    assert BreakerPolicy().classify(DECLINED) == 0
    assert BreakerPolicy(ignore=frozenset({"cancel"})).classify(DECLINED) == 0


def test_custom_record_set() -> None:
    b = make(window=1, minimum=1, record={"server_error"})
    b.record(0.0, "timeout")  # not recorded here: a success
    assert b.state == CLOSED
    b.record(0.0, "server_error")
    assert b.state == OPEN


def test_ignore_wins_over_record() -> None:
    b = make(window=1, minimum=1, ignore={FAIL})
    feed(b, [FAIL] * 10)
    assert b.state == CLOSED


def test_ignored_counts_as_neither_success_nor_failure_in_closed() -> None:
    # window 2, 50 %: FAIL + success would trip and FAIL + failure would trip;
    # FAIL + ignored leaves 1 call below the minimum of 2.
    b = make(window=2, minimum=2, threshold=0.5, ignore={"cancelled"})
    b.record(0.0, FAIL)
    feed(b, ["cancelled"] * 10)
    assert b.state == CLOSED
    b.record(0.0, FAIL)
    assert b.state == OPEN


def test_ignored_does_not_push_outcomes_out_of_the_ring() -> None:
    b = make(window=2, minimum=2, threshold=1.0, ignore={"cancelled"})
    b.record(0.0, FAIL)
    feed(b, ["cancelled"] * 5)
    b.record(0.0, FAIL)
    assert b.state == OPEN


def test_ignored_gives_half_open_permit_back() -> None:
    b = make(window=1, minimum=1, permits=1, ignore={"cancelled"})
    t = to_half_open(b)
    assert not b.allow(t)
    b.record(t, "cancelled")
    assert b.state == HALF_OPEN
    assert b.allow(t)  # the permit came back
    assert not b.allow(t)
    b.record(t, OK)
    assert b.state == CLOSED


def test_ignored_half_open_results_do_not_count_toward_decision() -> None:
    b = make(window=10, minimum=10, permits=2, ignore={"cancelled"})
    t = to_half_open(b)
    assert b.allow(t)
    b.record(t, "cancelled")
    b.record(t, OK)
    assert b.state == HALF_OPEN  # one counted result of two
    assert b.allow(t)
    b.record(t, OK)
    assert b.state == CLOSED


def test_declined_closes_half_open() -> None:
    b = make(window=1, minimum=1, permits=1)
    t = to_half_open(b)
    b.record(t, DECLINED)
    assert b.state == CLOSED


def test_declined_never_trips() -> None:
    b = make(window=1, minimum=1, threshold=0.01)
    feed(b, [DECLINED] * 100)
    assert b.state == CLOSED


# --------------------------------------------------------------------------- generation


def test_generation_bumps_on_every_transition() -> None:
    b = make(window=1, minimum=1, permits=1, wait=1.0)
    assert b.generation == 0
    b.record(0.0, FAIL)
    assert b.generation == 1
    assert b.allow(2.0)
    assert b.generation == 2
    b.record(2.0, OK)
    assert (b.state, b.generation) == (CLOSED, 3)
    b.transition_to(3.0, CLOSED)  # same state: no transition
    assert b.generation == 3
    b.transition_to(3.0, DISABLED)
    assert b.generation == 4


def test_current_generation_is_counted() -> None:
    b = make(window=1, minimum=1)
    b.record(0.0, FAIL, generation=b.generation)
    assert b.state == OPEN


def test_stale_result_does_not_reach_open_state() -> None:
    b = make(window=2, minimum=2, wait=10.0)
    assert b.allow(0.0)
    stale = b.generation
    trip(b, now=1.0)
    b.record(2.0, FAIL, generation=stale)
    assert b.state == OPEN
    assert b.open_until == 11.0
    assert b.trips == 1


def test_stale_results_do_not_change_half_open() -> None:
    b = make(window=10, minimum=10, permits=1, wait=10.0, ignore={"cancelled"})
    assert b.allow(0.0)
    from_closed = b.generation
    t = to_half_open(b, now=1.0)
    gen = b.generation
    assert not b.allow(t)
    # A failure permitted while closed must not re-open the half-open breaker ...
    b.record(t, FAIL, generation=from_closed)
    assert b.state == HALF_OPEN
    # ... a stale success must not close it ...
    b.record(t, OK, generation=from_closed)
    assert b.state == HALF_OPEN
    # ... and a stale ignored result must not hand out an extra permit.
    b.record(t, "cancelled", generation=from_closed)
    assert not b.allow(t)
    assert b.generation == gen
    b.record(t, OK, generation=gen)
    assert b.state == CLOSED


def test_stale_results_do_not_count_in_the_new_closed_window() -> None:
    b = make(window=2, minimum=2, permits=1, wait=1.0)
    t = to_half_open(b, now=0.0)
    from_half_open = b.generation
    b.record(t, OK, generation=from_half_open)
    assert b.state == CLOSED
    closed_gen = b.generation
    # Late failures permitted under the half-open state must not fill the closed window.
    for _ in range(5):
        b.record(t, FAIL, generation=from_half_open)
    assert b.state == CLOSED
    b.record(t, FAIL, generation=closed_gen)
    assert b.state == CLOSED  # 1 call < minimum 2
    b.record(t, FAIL, generation=closed_gen)
    assert b.state == OPEN


def test_stale_result_from_previous_closed_period() -> None:
    b = make(window=1, minimum=1, permits=1, wait=1.0)
    assert b.allow(0.0)
    old = b.generation
    trip(b, now=0.0)
    t = after(b.open_until)
    assert b.allow(t)
    b.record(t, OK, generation=b.generation)
    assert b.state == CLOSED
    b.record(t, FAIL, generation=old)  # permitted in the previous closed period
    assert b.state == CLOSED


# --------------------------------------------------------------------------- listeners


def test_listeners_receive_now_old_new() -> None:
    log = Log()
    b = CircuitBreaker(
        BreakerPolicy(
            sliding_window_size=2,
            minimum_number_of_calls=2,
            wait_duration_in_open_state=10.0,
            permitted_number_of_calls_in_half_open_state=1,
        ),
        listeners=[log],
    )
    b.record(1.0, FAIL)
    b.record(2.0, FAIL)
    assert not b.allow(12.0)
    assert b.allow(12.5)
    b.record(13.0, FAIL)
    assert b.allow(23.5)
    b.record(24.0, OK)
    assert log.events == [
        (2.0, CLOSED, OPEN),
        (12.5, OPEN, HALF_OPEN),
        (13.0, HALF_OPEN, OPEN),
        (23.5, OPEN, HALF_OPEN),
        (24.0, HALF_OPEN, CLOSED),
    ]


def test_subscribe_and_multiple_listeners() -> None:
    first, second = Log(), Log()
    b = CircuitBreaker(listeners=[first])
    b.subscribe(second)
    b.transition_to(5.0, FORCED_OPEN)
    b.transition_to(6.0, FORCED_OPEN)  # no-op: no event
    b.transition_to(7.0, CLOSED)
    expected = [(5.0, CLOSED, FORCED_OPEN), (7.0, FORCED_OPEN, CLOSED)]
    assert first.events == expected
    assert second.events == expected


def test_listener_sees_new_state_already_set() -> None:
    seen: list[tuple[str, int]] = []
    b = make(window=1, minimum=1, wait=5.0)

    def listener(now: float, old: str, new: str) -> None:
        seen.append((b.state, b.trips))
        assert b.open_until == now + 5.0

    b.subscribe(listener)
    b.record(3.0, FAIL)
    assert seen == [(OPEN, 1)]


# --------------------------------------------------------------------------- manual states


def test_forced_open_refuses_everything() -> None:
    b = make(window=1, minimum=1)
    b.transition_to(0.0, FORCED_OPEN)
    assert b.state == FORCED_OPEN
    for t in (0.0, 61.0, 1e6, math.inf):
        assert not b.allow(t)
    assert b.state == FORCED_OPEN
    feed(b, [OK] * 5 + [FAIL] * 5)
    assert b.state == FORCED_OPEN


def test_disabled_allows_everything_and_never_trips() -> None:
    b = make(window=1, minimum=1)
    b.transition_to(0.0, DISABLED)
    feed(b, [FAIL] * 100, duration=1e6)
    assert b.state == DISABLED
    assert b.trips == 0
    assert all(b.allow(float(t)) for t in range(100))


def test_metrics_only_records_but_never_trips() -> None:
    b = make(window=4, minimum=4, slow_duration=1.0)
    b.transition_to(0.0, METRICS_ONLY)
    assert all(b.allow(float(t)) for t in range(10))
    feed(b, [FAIL] * 100, duration=5.0)
    assert b.state == METRICS_ONLY
    assert b.trips == 0
    assert b.metrics(10.0) == (4, 4, 4)


def test_metrics_only_starts_from_empty_window() -> None:
    b = make(window=4, minimum=4)
    feed(b, [FAIL] * 3)
    b.transition_to(0.0, METRICS_ONLY)
    assert b.metrics(0.0)[0] == 0


def test_back_to_closed_after_manual_state_starts_fresh() -> None:
    b = make(window=2, minimum=2)
    b.record(0.0, FAIL)
    b.transition_to(1.0, FORCED_OPEN)
    b.transition_to(2.0, CLOSED)
    b.record(2.0, FAIL)  # the failure before the forced period is gone
    assert b.state == CLOSED
    b.record(2.0, FAIL)
    assert b.state == OPEN


def test_manual_open_sets_deadline() -> None:
    b = make(wait=15.0)
    b.transition_to(5.0, OPEN)
    assert b.state == OPEN
    assert b.open_until == 20.0
    assert not b.allow(20.0)
    assert b.allow(after(20.0))
    assert b.state == HALF_OPEN


def test_manual_half_open_grants_permits() -> None:
    b = make(permits=2)
    b.transition_to(0.0, HALF_OPEN)
    assert b.allow(0.0)
    assert b.allow(0.0)
    assert not b.allow(0.0)


@pytest.mark.parametrize("state", ["CLOSED", "half-open", "", "tripped"])
def test_unknown_state_raises(state: str) -> None:
    log = Log()
    b = CircuitBreaker(listeners=[log])
    with pytest.raises(ValueError):
        b.transition_to(0.0, state)
    assert b.state == CLOSED
    assert b.generation == 0
    assert log.events == []


def test_all_states_are_accepted() -> None:
    b = CircuitBreaker()
    for state in STATES:
        b.transition_to(0.0, state)
        assert b.state == state


# --------------------------------------------------------------------------- properties

OUTCOMES = ("success", "declined", "timeout", "connection", "server_error", "client_error", "x")


@dataclass
class RefBreaker:
    """An independent model of the count-based resilience4j breaker on integer arithmetic.

    Rates are integer percentages so ``failures * 100 >= pct * calls`` is exact.
    """

    window: int
    minimum: int
    permits_per_half_open: int
    fail_pct: int
    slow_pct: int
    slow_duration: float
    wait: float
    ignore: frozenset[str]
    state: str = CLOSED
    epoch: int = 0
    trips: int = 0
    open_until: float = 0.0
    permits: int = 0
    results: list[tuple[bool, bool]] = field(default_factory=list)
    events: list[tuple[float, str, str]] = field(default_factory=list)

    def go(self, now: float, state: str) -> None:
        if state == self.state:
            return
        self.events.append((now, self.state, state))
        self.state = state
        self.epoch += 1
        if state == OPEN:
            self.trips += 1
            self.open_until = now + self.wait
        elif state == HALF_OPEN:
            self.permits = self.permits_per_half_open
            self.results = []
        elif state == CLOSED:
            self.results = []

    def over(self, results: list[tuple[bool, bool]]) -> bool:
        n = len(results)
        failed = sum(f for f, _ in results)
        slow = sum(s for _, s in results)
        return failed * 100 >= self.fail_pct * n or slow * 100 >= self.slow_pct * n

    def allow(self, now: float) -> bool:
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if not now > self.open_until:
                return False
            self.go(now, HALF_OPEN)
        if self.permits > 0:
            self.permits -= 1
            return True
        return False

    def record(self, now: float, outcome: str, duration: float, epoch: int) -> None:
        if epoch != self.epoch:
            return
        if outcome in self.ignore:
            if self.state == HALF_OPEN:
                self.permits += 1
            return
        result = (outcome in FAILURE_CATEGORIES, duration > self.slow_duration)
        if self.state == CLOSED:
            self.results.append(result)
            last = self.results[-self.window :]
            if len(last) >= min(self.minimum, self.window) and self.over(last):
                self.go(now, OPEN)
        elif self.state == HALF_OPEN:
            self.results.append(result)
            if len(self.results) >= min(self.minimum, self.permits_per_half_open):
                self.go(now, OPEN if self.over(self.results) else CLOSED)


policies = st.fixed_dictionaries(
    {
        "window": st.integers(1, 12),
        "minimum": st.integers(1, 15),
        "permits": st.integers(1, 5),
        "fail_pct": st.integers(1, 100),
        "slow_pct": st.integers(1, 100),
        "slow_duration": st.sampled_from([0.0, 1.0, 2.0]),
        "wait": st.sampled_from([0.0, 1.0, 2.5, 10.0]),
        "ignore": st.sets(st.sampled_from(OUTCOMES), max_size=2).map(frozenset),
    }
)


def build(p: dict[str, object], log: Log) -> tuple[CircuitBreaker, RefBreaker]:
    window, minimum, permits = int(p["window"]), int(p["minimum"]), int(p["permits"])  # type: ignore[call-overload]
    fail_pct, slow_pct = int(p["fail_pct"]), int(p["slow_pct"])  # type: ignore[call-overload]
    slow_duration, wait = float(p["slow_duration"]), float(p["wait"])  # type: ignore[arg-type]
    ignore: frozenset[str] = p["ignore"]  # type: ignore[assignment]
    breaker = CircuitBreaker(
        BreakerPolicy(
            failure_rate_threshold=fail_pct / 100,
            slow_call_rate_threshold=slow_pct / 100,
            slow_call_duration_threshold=slow_duration,
            sliding_window_size=window,
            minimum_number_of_calls=minimum,
            wait_duration_in_open_state=wait,
            permitted_number_of_calls_in_half_open_state=permits,
            ignore=ignore,
        ),
        listeners=[log],
    )
    ref = RefBreaker(window, minimum, permits, fail_pct, slow_pct, slow_duration, wait, ignore)
    return breaker, ref


@settings(max_examples=300, deadline=None)
@given(
    window=st.integers(1, 15),
    minimum=st.integers(1, 20),
    pct=st.integers(1, 100),
    outcomes=st.lists(st.booleans(), max_size=60),
)
def test_closed_trips_at_first_window_reaching_threshold(
    window: int, minimum: int, pct: int, outcomes: list[bool]
) -> None:
    """Closed state only: the breaker trips at the first call whose last-``window`` outcomes
    (once at least min(minimum, window)) hold a failure share >= pct %."""
    expected_trip: int | None = None
    for i in range(len(outcomes)):
        last = outcomes[max(0, i + 1 - window) : i + 1]
        if len(last) >= min(minimum, window) and sum(last) * 100 >= pct * len(last):
            expected_trip = i
            break
    b = make(window=window, minimum=minimum, threshold=pct / 100)
    actual_trip: int | None = None
    for i, failed in enumerate(outcomes):
        b.record(float(i), FAIL if failed else OK)
        if b.state != CLOSED:
            actual_trip = i
            break
    assert actual_trip == expected_trip
    if expected_trip is not None:
        assert b.state == OPEN
        assert b.open_until == float(expected_trip) + 60.0


operations = st.lists(
    st.one_of(
        st.tuples(st.just("start"), st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.5, 10.0])),
        st.tuples(
            st.just("finish"),
            st.integers(0, 7),
            st.sampled_from(OUTCOMES),
            st.sampled_from([0.0, 1.0, 1.5, 3.0]),
            st.sampled_from([0.0, 0.25, 1.0, 2.5]),
        ),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(policy=policies, ops=operations)
def test_breaker_matches_reference_model(
    policy: dict[str, object], ops: list[tuple[object, ...]]
) -> None:
    """Interleaved calls on simulated time: starts (``allow``) and finishes (``record`` with
    the generation read at ``allow``) in any order, against the independent model."""
    log = Log()
    breaker, ref = build(policy, log)
    now = 0.0
    pending: list[tuple[int, int]] = []  # (breaker generation, model epoch)
    for op in ops:
        if op[0] == "start":
            now += float(op[1])  # type: ignore[arg-type]
            allowed = breaker.allow(now)
            assert allowed == ref.allow(now)
            if allowed:
                pending.append((breaker.generation, ref.epoch))
        else:
            _, index, outcome, duration, dt = op
            if not pending:
                continue
            generation, epoch = pending.pop(int(index) % len(pending))  # type: ignore[call-overload]
            now += float(dt)  # type: ignore[arg-type]
            breaker.record(now, str(outcome), float(duration), generation)  # type: ignore[arg-type]
            ref.record(now, str(outcome), float(duration), epoch)  # type: ignore[arg-type]
        assert breaker.state == ref.state
        assert breaker.trips == ref.trips
        assert breaker.generation == ref.epoch
        if ref.trips:
            assert breaker.open_until == ref.open_until
        assert log.events == ref.events


def test_a_decline_is_never_a_failure_even_if_listed_in_record() -> None:
    policy = BreakerPolicy(
        record=frozenset({"declined", "timeout"}), minimum_number_of_calls=1, sliding_window_size=1
    )
    breaker = CircuitBreaker(policy)
    breaker.record(0.0, "declined")
    assert breaker.state == "closed"


# --------------------------------------------------------------------------- reset


def test_reset_is_a_fresh_breaker_closed_with_empty_window_and_no_backoff() -> None:
    """A restarted process forgets everything: closed, an empty window, and the
    exponential open wait back to its first step."""
    log = Log()
    policy = BreakerPolicy(
        sliding_window_size=4,
        minimum_number_of_calls=4,
        wait_duration_in_open_state=10.0,
        open_backoff="exponential",
        open_backoff_multiplier=2.0,
    )
    b = CircuitBreaker(policy, listeners=[log])
    feed(b, [OK, FAIL, FAIL])  # almost tripping
    b.reset(1.0)
    assert b.state == CLOSED and b.metrics(1.0) == (0, 0, 0)
    assert log.events == []  # already closed: no transition to report
    trip(b, 2.0)
    assert b.open_until == 12.0
    generation = b.generation
    b.reset(5.0)
    assert b.state == CLOSED and b.generation == generation + 1
    assert log.events[-1] == (5.0, OPEN, CLOSED)
    feed(b, [FAIL, FAIL, FAIL], now=6.0)
    assert b.state == CLOSED  # a fresh window: three calls are below the minimum of four
    b.record(6.0, FAIL)
    assert b.state == OPEN
    assert b.open_until == 16.0  # first opening again, not 2 x 10 s
