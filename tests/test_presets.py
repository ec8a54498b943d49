"""Library presets: ``BreakerPolicy.preset(library, **that_library's_names)`` must reproduce
each library's rules, boundaries included, on explicit simulated time.

Reference: docs/breaker-semantics.md. Every table row is one boundary of
one rule; rows run on a fresh breaker, so a failing row names the exact instant that is wrong.

``poke(breaker, now)`` hands the breaker the result of a call that began under an earlier
state (a stale generation): it is counted nowhere, so it lets timer-driven transitions
(automatic half-open, Hystrix snapshots, Envoy sweeps, half-open max wait) become visible
without any call being let through.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.breakers import PRESETS, preset_defaults
from sim.resilience import BreakerPolicy, CircuitBreaker
from sim.resilience.breaker import CLOSED, FAILURE_CATEGORIES, HALF_OPEN, OPEN
from sim.resilience.group import BreakerGroup
from sim.units import parse_duration

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "models" / "policies"
LIBRARIES = ("resilience4j", "polly", "hystrix", "pybreaker", "circuitbreaker", "envoy")

OK = "success"
DECLINED = "declined"
TIMEOUT = "timeout"
CONN = "connection"
SERVER = "server_error"

Event = tuple[float, str, str]
STALE = -1  # a generation no breaker ever has: the result of a call from an earlier state


def before(t: float) -> float:
    """The last representable instant strictly before ``t``."""
    return math.nextafter(t, -math.inf)


def after(t: float) -> float:
    """The first representable instant strictly after ``t``."""
    return math.nextafter(t, math.inf)


def watched(library: str, **overrides: Any) -> tuple[CircuitBreaker, list[Event]]:
    """A preset breaker and the list its transition listener fills with (now, old, new)."""
    events: list[Event] = []

    def listen(now: float, old: str, new: str) -> None:
        events.append((now, old, new))

    policy = BreakerPolicy.preset(library, **overrides)
    return CircuitBreaker(policy, name=library, listeners=[listen]), events


def feed(breaker: CircuitBreaker, outcomes: Iterable[str], now: float = 0.0) -> None:
    """Record ``outcomes`` at ``now``, as results of calls made in the current state."""
    for outcome in outcomes:
        breaker.record(now, outcome)


def feed_at(breaker: CircuitBreaker, timed: Iterable[tuple[float, str]]) -> None:
    for now, outcome in timed:
        breaker.record(now, outcome)


def poke(breaker: CircuitBreaker, now: float) -> None:
    """Let time reach ``now`` without a call: a stale result, counted nowhere."""
    breaker.record(now, OK, 0.0, STALE)


# ======================================================================================
# resilience4j
# ======================================================================================

R4J: dict[str, Any] = {
    "sliding_window_size": 2,
    "minimum_number_of_calls": 2,
    "wait_duration_in_open_state": 10,
    "permitted_number_of_calls_in_half_open_state": 1,
}


def r4j_open(now: float = 0.0, **overrides: Any) -> tuple[CircuitBreaker, list[Event]]:
    """A resilience4j breaker (window 2, wait 10 s unless overridden) tripped at ``now``."""
    breaker, events = watched("resilience4j", **{**R4J, **overrides})
    feed(breaker, [TIMEOUT, TIMEOUT], now)
    assert breaker.state == OPEN
    return breaker, events


@pytest.mark.parametrize(
    ("window_type", "size", "minimum", "outcomes", "state"),
    [
        # COUNT_BASED: the minimum is capped at the window size.
        ("COUNT_BASED", 5, 10, [TIMEOUT] * 4, CLOSED),
        ("COUNT_BASED", 5, 10, [TIMEOUT] * 5, OPEN),
        ("COUNT_BASED", 10, 4, [TIMEOUT, TIMEOUT, OK], CLOSED),
        ("COUNT_BASED", 10, 4, [TIMEOUT, TIMEOUT, OK, OK], OPEN),  # 50 % >= 50 %
        ("COUNT_BASED", 10, 4, [TIMEOUT, OK, OK, OK], CLOSED),  # 25 %
        # TIME_BASED: minimum_number_of_calls unchanged, even above the window size.
        ("TIME_BASED", 5, 10, [TIMEOUT] * 5, CLOSED),
        ("TIME_BASED", 5, 10, [TIMEOUT] * 9, CLOSED),
        ("TIME_BASED", 5, 10, [TIMEOUT] * 10, OPEN),
        ("TIME_BASED", 10, 4, [TIMEOUT, TIMEOUT, OK, OK], OPEN),
    ],
)
def test_r4j_minimum_number_of_calls(
    window_type: str, size: int, minimum: int, outcomes: list[str], state: str
) -> None:
    breaker, _ = watched(
        "resilience4j",
        sliding_window_type=window_type,
        sliding_window_size=size,
        minimum_number_of_calls=minimum,
    )
    feed_at(breaker, [(0.05 * i, outcome) for i, outcome in enumerate(outcomes)])
    assert breaker.state == state


@pytest.mark.parametrize(
    ("query", "calls"),
    [
        (10.0, 2),  # buckets 9 and 10, both inside a 10 s window ending in bucket 10
        (18.99, 2),  # window = buckets 9..18
        (19.0, 1),  # window = buckets 10..19: the t=9.99 bucket is dropped, t=10.0 kept
        (19.99, 1),
        (20.0, 0),  # window = buckets 11..20
    ],
)
def test_r4j_time_based_buckets_align_to_whole_seconds(query: float, calls: int) -> None:
    breaker, _ = watched(
        "resilience4j",
        sliding_window_type="TIME_BASED",
        sliding_window_size=10,
        minimum_number_of_calls=100,
    )
    feed_at(breaker, [(9.99, TIMEOUT), (10.0, TIMEOUT)])
    assert breaker.metrics(query) == (calls, calls, 0)


@pytest.mark.parametrize(
    ("second_call_at", "state"),
    [
        (9.99, OPEN),  # bucket 9: the failure in bucket 0 still counts (1 of 2 = 50 %)
        (10.0, CLOSED),  # bucket 10: bucket 0 expired although the failure is 9.5 s old
        (10.2, CLOSED),
    ],
)
def test_r4j_time_based_drops_buckets_older_than_the_window(
    second_call_at: float, state: str
) -> None:
    breaker, _ = watched(
        "resilience4j",
        sliding_window_type="TIME_BASED",
        sliding_window_size=10,
        minimum_number_of_calls=2,
    )
    feed_at(breaker, [(0.5, TIMEOUT), (second_call_at, OK)])
    assert breaker.state == state


@pytest.mark.parametrize(
    ("t", "allowed", "state"),
    [
        (14.0, False, OPEN),
        (before(15.0), False, OPEN),
        (15.0, False, OPEN),  # strict: refused at exactly open_until
        (after(15.0), True, HALF_OPEN),
        (40.0, True, HALF_OPEN),
    ],
)
def test_r4j_open_expiry_is_strict(t: float, allowed: bool, state: str) -> None:
    breaker, _ = r4j_open(5.0)
    assert breaker.open_until == 15.0
    assert breaker.allow(t) is allowed
    assert breaker.state == state


@pytest.mark.parametrize(
    ("overrides", "waits"),
    [
        ({}, [10, 10, 10, 10]),
        ({"enable_exponential_backoff": True}, [10, 20, 40, 80]),
        (
            {"enable_exponential_backoff": True, "exponential_backoff_multiplier": 1.5},
            [10, 15, 22.5, 33.75],
        ),
        (
            {"enable_exponential_backoff": True, "exponential_max_wait_duration_in_open_state": 35},
            [10, 20, 35, 35],
        ),
        (
            {
                "enable_exponential_backoff": True,
                "exponential_max_wait_duration_in_open_state": "25s",
            },
            [10, 20, 25, 25],
        ),
    ],
)
def test_r4j_open_wait_grows_with_each_reopen(
    overrides: dict[str, Any], waits: list[float]
) -> None:
    breaker, _ = r4j_open(0.0, **overrides)
    observed = [breaker.open_until - 0.0]
    for _ in waits[1:]:
        now = breaker.open_until + 1.0
        assert breaker.allow(now)
        breaker.record(now, TIMEOUT, 0.0, breaker.generation)  # the probe fails: re-open
        assert breaker.state == OPEN
        observed.append(breaker.open_until - now)
    assert observed == pytest.approx(waits)


@pytest.mark.parametrize(
    ("script", "waits"),
    [
        (["trip", "fail", "fail"], [10, 20, 40]),
        (["trip", "fail", "ok", "trip"], [10, 20, 10]),  # a close resets the attempts
        (["trip", "ok", "trip", "fail", "fail"], [10, 10, 20, 40]),
        (["trip", "fail", "fail", "ok", "trip", "fail"], [10, 20, 40, 10, 20]),
    ],
)
def test_r4j_exponential_backoff_resets_after_a_close(
    script: list[str], waits: list[float]
) -> None:
    """``trip``: failures while closed; ``fail``/``ok``: the half-open probe's result."""
    breaker, _ = watched("resilience4j", **R4J, enable_exponential_backoff=True)
    now = 0.0
    observed = []
    for action in script:
        if action == "trip":
            assert breaker.state == CLOSED
            feed(breaker, [TIMEOUT, TIMEOUT], now)
        else:
            now = breaker.open_until + 1.0
            assert breaker.allow(now)
            breaker.record(now, TIMEOUT if action == "fail" else OK, 0.0, breaker.generation)
        if breaker.state == OPEN:
            observed.append(breaker.open_until - now)
        now += 1.0
    assert observed == pytest.approx(waits)


@pytest.mark.parametrize(
    ("auto", "poke_at", "state", "events"),
    [
        (True, 11.0, OPEN, [(2.0, CLOSED, OPEN)]),
        (True, before(12.0), OPEN, [(2.0, CLOSED, OPEN)]),
        (True, 12.0, HALF_OPEN, [(2.0, CLOSED, OPEN), (12.0, OPEN, HALF_OPEN)]),
        (True, 30.0, HALF_OPEN, [(2.0, CLOSED, OPEN), (12.0, OPEN, HALF_OPEN)]),
        (False, 30.0, OPEN, [(2.0, CLOSED, OPEN)]),  # without the timer: waits for a call
    ],
)
def test_r4j_automatic_transition_to_half_open_without_a_call(
    auto: bool, poke_at: float, state: str, events: list[Event]
) -> None:
    breaker, seen = r4j_open(
        2.0,
        automatic_transition_from_open_to_half_open_enabled=auto,
        max_wait_duration_in_half_open_state=0,
    )
    poke(breaker, poke_at)
    assert breaker.state == state
    assert seen == events


@pytest.mark.parametrize(
    ("auto", "t", "allowed"),
    [
        (True, before(12.0), False),
        (True, 12.0, True),  # the timer has fired at open_until: a permit is free
        (False, 12.0, False),  # strict expiry on a call
        (False, after(12.0), True),
    ],
)
def test_r4j_automatic_transition_admits_from_open_until(
    auto: bool, t: float, allowed: bool
) -> None:
    breaker, _ = r4j_open(2.0, automatic_transition_from_open_to_half_open_enabled=auto)
    assert breaker.allow(t) is allowed


@pytest.mark.parametrize(
    ("overrides", "t", "allowed", "state", "last_event"),
    [
        ({}, 14.4, True, HALF_OPEN, (10.5, OPEN, HALF_OPEN)),
        ({}, 14.5, False, OPEN, (14.5, HALF_OPEN, OPEN)),  # default: back to OPEN
        ({}, 20.0, False, OPEN, (14.5, HALF_OPEN, OPEN)),  # stamped when due
        ({"transition_to_state_after_wait_duration": "OPEN"}, 14.5, False, OPEN, None),
        (
            {"transition_to_state_after_wait_duration": "CLOSED"},
            14.5,
            True,
            CLOSED,
            (14.5, HALF_OPEN, CLOSED),
        ),
        (
            {"transition_to_state_after_wait_duration": "CLOSED"},
            20.0,
            True,
            CLOSED,
            (14.5, HALF_OPEN, CLOSED),
        ),
        ({"max_wait_duration_in_half_open_state": 0}, 1000.0, True, HALF_OPEN, None),  # off
    ],
)
def test_r4j_max_wait_in_half_open(
    overrides: dict[str, Any],
    t: float,
    allowed: bool,
    state: str,
    last_event: Event | None,
) -> None:
    breaker, events = r4j_open(
        0.0,
        **{
            "permitted_number_of_calls_in_half_open_state": 3,
            "minimum_number_of_calls": 3,
            "max_wait_duration_in_half_open_state": 4,
            **overrides,
        },
    )
    assert breaker.allow(10.5)  # half-open since 10.5; 2 of 3 permits left, no result yet
    assert breaker.allow(t) is allowed
    assert breaker.state == state
    if last_event is not None:
        assert events[-1] == last_event
    if state == OPEN:
        assert breaker.open_until == 14.5 + 10


@pytest.mark.parametrize(
    ("t", "allowed", "events"),
    [
        (9.0, False, [(0.0, CLOSED, OPEN)]),
        (10.0, True, [(0.0, CLOSED, OPEN), (10.0, OPEN, HALF_OPEN)]),
        (14.0, True, [(0.0, CLOSED, OPEN), (10.0, OPEN, HALF_OPEN)]),
        (15.0, False, [(0.0, CLOSED, OPEN), (10.0, OPEN, HALF_OPEN), (15.0, HALF_OPEN, OPEN)]),
        (16.0, False, [(0.0, CLOSED, OPEN), (10.0, OPEN, HALF_OPEN), (15.0, HALF_OPEN, OPEN)]),
        (24.0, False, [(0.0, CLOSED, OPEN), (10.0, OPEN, HALF_OPEN), (15.0, HALF_OPEN, OPEN)]),
        (
            25.0,
            True,
            [
                (0.0, CLOSED, OPEN),
                (10.0, OPEN, HALF_OPEN),
                (15.0, HALF_OPEN, OPEN),
                (25.0, OPEN, HALF_OPEN),
            ],
        ),
        (
            31.0,
            False,
            [
                (0.0, CLOSED, OPEN),
                (10.0, OPEN, HALF_OPEN),
                (15.0, HALF_OPEN, OPEN),
                (25.0, OPEN, HALF_OPEN),
                (30.0, HALF_OPEN, OPEN),
            ],
        ),
    ],
)
def test_r4j_timer_transitions_chain_when_time_jumps(
    t: float, allowed: bool, events: list[Event]
) -> None:
    """Automatic half-open at open_until, then back to open after the half-open max wait,
    then half-open again...: one call at ``t`` must see every transition due by ``t``."""
    breaker, seen = r4j_open(
        0.0,
        automatic_transition_from_open_to_half_open_enabled=True,
        max_wait_duration_in_half_open_state=5,
    )
    assert breaker.allow(t) is allowed
    assert seen == events


@pytest.mark.parametrize(
    ("outcome", "counts"),
    [
        (TIMEOUT, (1, 1, 0)),  # recorded
        (CONN, (0, 0, 0)),  # recorded and ignored: ignore wins, counted as nothing
        (SERVER, (1, 0, 0)),  # not recorded: a success
        (OK, (1, 0, 0)),
        (DECLINED, (1, 0, 0)),  # a business outcome, never a breaker failure
    ],
)
def test_r4j_record_and_ignore_exceptions(outcome: str, counts: tuple[int, int, int]) -> None:
    breaker, _ = watched(
        "resilience4j", record_exceptions=[TIMEOUT, CONN], ignore_exceptions=[CONN]
    )
    breaker.record(1.0, outcome)
    assert breaker.metrics(1.0) == counts


@pytest.mark.parametrize(
    ("outcome", "next_allowed", "state"),
    [
        (CONN, True, HALF_OPEN),  # ignored: the permit is given back
        (TIMEOUT, False, OPEN),
        (SERVER, True, CLOSED),  # not recorded: a success closes
    ],
)
def test_r4j_ignored_call_gives_its_half_open_permit_back(
    outcome: str, next_allowed: bool, state: str
) -> None:
    breaker, _ = r4j_open(0.0, record_exceptions=[TIMEOUT, CONN], ignore_exceptions=[CONN])
    assert breaker.allow(11.0)
    assert not breaker.allow(11.0)  # the single permit is taken
    breaker.record(11.5, outcome, 0.0, breaker.generation)
    assert breaker.state == state
    assert breaker.allow(12.0) is next_allowed


@pytest.mark.parametrize(
    ("value", "fraction"),
    [
        (50, 0.5),
        (50.0, 0.5),
        ("50%", 0.5),
        ("50 %", 0.5),
        ("25%", 0.25),
        (100, 1.0),
        ("0.5%", 0.005),
        (1, 0.01),
    ],
)
def test_r4j_rates_are_percentages(value: object, fraction: float) -> None:
    policy = BreakerPolicy.preset(
        "resilience4j", failure_rate_threshold=value, slow_call_rate_threshold=value
    )
    assert policy.failure_rate_threshold == pytest.approx(fraction)
    assert policy.slow_call_rate_threshold == pytest.approx(fraction)


@pytest.mark.parametrize("field", ["failure_rate_threshold", "slow_call_rate_threshold"])
@pytest.mark.parametrize("value", [0.5, 0.05, 0.999])
def test_a_bare_percentage_below_one_is_refused_with_the_fix(field: str, value: float) -> None:
    """The unit trap: a Polly user's ratio 0.5 would mean 0.5 % to resilience4j."""
    with pytest.raises(ValueError, match=rf"means {value} %.*write {value * 100:g} for"):
        BreakerPolicy.preset("resilience4j", **{field: value})


@pytest.mark.parametrize(
    ("threshold", "failures", "state"),
    [(50, 2, OPEN), ("50%", 2, OPEN), (51, 2, CLOSED), ("75%", 3, OPEN), (76, 3, CLOSED)],
)
def test_r4j_failure_rate_threshold_in_percent(
    threshold: object, failures: int, state: str
) -> None:
    breaker, _ = watched(
        "resilience4j",
        failure_rate_threshold=threshold,
        sliding_window_size=4,
        minimum_number_of_calls=4,
    )
    feed(breaker, [OK] * (4 - failures) + [TIMEOUT] * failures)
    assert breaker.state == state


@pytest.mark.parametrize(
    ("durations", "state"),
    [
        ((2.0, 2.0), CLOSED),  # exactly the threshold is not slow
        ((2.0, after(2.0)), OPEN),  # strictly longer is: 1 of 2 slow = 50 %
        ((0.1, 0.1), CLOSED),
    ],
)
def test_r4j_slow_calls(durations: tuple[float, float], state: str) -> None:
    breaker, _ = watched(
        "resilience4j",
        slow_call_rate_threshold=50,
        slow_call_duration_threshold="2s",
        sliding_window_size=2,
        minimum_number_of_calls=2,
    )
    for duration in durations:
        breaker.record(0.0, OK, duration)
    assert breaker.state == state


# ======================================================================================
# Polly v8
# ======================================================================================

POLLY: dict[str, Any] = {
    "failure_ratio": 0.5,
    "minimum_throughput": 4,
    "sampling_duration": 10,
    "break_duration": 5,
}

F = TIMEOUT


@pytest.mark.parametrize(
    ("overrides", "outcomes", "state"),
    [
        ({}, [F, F, F], CLOSED),  # throughput 3 < 4
        ({}, [F, F, F, F], OPEN),
        ({}, [OK, OK, F, F], OPEN),  # 2/4 = 0.5 >= 0.5
        ({}, [OK, OK, OK, F], CLOSED),  # 0.25
        ({}, [F, F, F, OK], CLOSED),  # a success never trips, even when the ratio crosses
        ({}, [F, F, F, OK, F], OPEN),  # ... the next failure does
        ({}, [OK, OK, OK, OK, F, F, F], CLOSED),  # 3/7
        ({}, [OK, OK, OK, OK, F, F, F, F], OPEN),  # 4/8
        ({"failure_ratio": "50%"}, [OK, OK, F, F], OPEN),
        ({"failure_ratio": 0.75}, [OK, F, F, F], OPEN),
        ({"failure_ratio": 0.76}, [OK, F, F, F], CLOSED),
        ({"minimum_throughput": 2}, [F, OK], CLOSED),
        ({"minimum_throughput": 2}, [OK, F], OPEN),
        # should_handle: unhandled outcomes count as successes
        ({"should_handle": [TIMEOUT]}, [TIMEOUT, TIMEOUT, CONN, CONN], CLOSED),
        ({"should_handle": [TIMEOUT]}, [TIMEOUT, TIMEOUT, CONN, TIMEOUT], OPEN),
        ({}, [DECLINED, DECLINED, F, F], OPEN),
    ],
)
def test_polly_trips_on_a_handled_failure_only(
    overrides: dict[str, Any], outcomes: list[str], state: str
) -> None:
    breaker, _ = watched("polly", **{**POLLY, **overrides})
    feed_at(breaker, [(0.1 * i, outcome) for i, outcome in enumerate(outcomes)])
    assert breaker.state == state


@pytest.mark.parametrize(
    ("query", "calls"),
    [
        (10.49, 3),
        # the bucket that began at 0.5 (it holds the 1.4 call too) ends its life at 10.5
        (10.5, 1),
        (11.49, 1),
        (11.5, 0),  # the bucket that began at 1.5 (first call after 0.5 + 1 s)
    ],
)
def test_polly_sampling_buckets_start_at_the_first_call(query: float, calls: int) -> None:
    breaker, _ = watched("polly", **{**POLLY, "minimum_throughput": 100})
    feed_at(breaker, [(0.5, F), (1.4, F), (1.5, F)])
    assert breaker.metrics(query) == (calls, calls, 0)


@pytest.mark.parametrize(
    ("second_burst_at", "state"),
    [(10.4, OPEN), (10.49, OPEN), (10.5, CLOSED), (11.0, CLOSED)],
)
def test_polly_windows_older_than_sampling_duration_drop_out(
    second_burst_at: float, state: str
) -> None:
    breaker, _ = watched("polly", **POLLY)
    feed_at(breaker, [(0.5, F), (1.4, F)])  # one bucket, begun at 0.5
    feed(breaker, [F, F], second_burst_at)
    assert breaker.state == state


@pytest.mark.parametrize(
    ("sampling_duration", "second_call_at", "calls_at_0_2"),
    [
        ("199ms", 0.15, 0),  # one single window, begun at 0.0, reset at 0.199
        ("100ms", 0.05, 0),
        ("200ms", 0.15, 1),  # ten 20 ms buckets: only the bucket begun at 0.0 expires
        ("1s", 0.15, 2),
    ],
)
def test_polly_single_window_below_200ms(
    sampling_duration: str, second_call_at: float, calls_at_0_2: int
) -> None:
    breaker, _ = watched(
        "polly", **{**POLLY, "minimum_throughput": 100, "sampling_duration": sampling_duration}
    )
    feed_at(breaker, [(0.0, F), (second_call_at, F)])
    assert breaker.metrics(second_call_at) == (2, 2, 0)
    assert breaker.metrics(0.2) == (calls_at_0_2, calls_at_0_2, 0)


def polly_open(now: float = 1.0, **overrides: Any) -> tuple[CircuitBreaker, list[Event]]:
    breaker, events = watched("polly", **{**POLLY, **overrides})
    feed(breaker, [F, F, F, F], now)
    assert breaker.state == OPEN
    return breaker, events


@pytest.mark.parametrize(
    ("t", "allowed", "state"),
    [
        (before(6.0), False, OPEN),
        (6.0, True, HALF_OPEN),  # non-strict: now >= break end
        (7.0, True, HALF_OPEN),
    ],
)
def test_polly_half_open_at_break_end(t: float, allowed: bool, state: str) -> None:
    breaker, _ = polly_open(1.0)
    assert breaker.open_until == 6.0
    assert breaker.allow(t) is allowed
    assert breaker.state == state


def test_polly_one_probe_others_refused() -> None:
    breaker, _ = polly_open(1.0)
    assert breaker.allow(6.0)
    assert [breaker.allow(t) for t in (6.0, 6.5, 7.0, 60.0)] == [False] * 4
    assert breaker.state == HALF_OPEN


@pytest.mark.parametrize(
    ("overrides", "probe", "state", "open_until"),
    [
        ({}, OK, CLOSED, None),
        ({}, DECLINED, CLOSED, None),
        ({}, F, OPEN, 11.5),  # re-opens for another break duration from the probe's result
        ({"should_handle": [TIMEOUT]}, CONN, CLOSED, None),  # unhandled closes
        ({"should_handle": [TIMEOUT]}, TIMEOUT, OPEN, 11.5),
    ],
)
def test_polly_probe_decides(
    overrides: dict[str, Any], probe: str, state: str, open_until: float | None
) -> None:
    breaker, _ = polly_open(1.0, **overrides)
    assert breaker.allow(6.0)
    breaker.record(6.5, probe, 0.0, breaker.generation)
    assert breaker.state == state
    if open_until is not None:
        assert breaker.open_until == open_until
    else:
        assert breaker.metrics(6.5) == (0, 0, 0)  # statistics reset


def test_polly_close_resets_statistics() -> None:
    breaker, _ = polly_open(1.0)
    assert breaker.allow(6.0)
    breaker.record(6.0, OK, 0.0, breaker.generation)
    feed(breaker, [F, F, F], 6.1)  # the four failures before the break are forgotten
    assert breaker.state == CLOSED
    feed(breaker, [F], 6.2)
    assert breaker.state == OPEN


# ======================================================================================
# Hystrix
# ======================================================================================

HYSTRIX: dict[str, Any] = {"circuit_breaker_request_volume_threshold": 4}


@pytest.mark.parametrize(
    ("threshold", "failures", "successes", "state"),
    [
        (50, 499, 501, CLOSED),  # 49.9 % truncates to 49 < 50
        (49.5, 499, 501, CLOSED),  # truncation shows with a fractional threshold: 49 < 49.5
        (49.5, 500, 500, OPEN),
        (50, 500, 500, OPEN),
        (50, 10, 10, OPEN),  # volume 20 = threshold
        (50, 9, 11, CLOSED),
        (50, 10, 9, CLOSED),  # 52.6 % but volume 19 < 20
        (50, 19, 0, CLOSED),  # 100 % of 19
        (50, 20, 0, OPEN),
        (34, 23, 44, OPEN),  # 34.33 % -> 34
        (35, 23, 44, CLOSED),
        ("35%", 7, 13, OPEN),  # exactly 35 %
        (36, 7, 13, CLOSED),
    ],
)
def test_hystrix_truncated_error_percentage_and_volume(
    threshold: object, failures: int, successes: int, state: str
) -> None:
    breaker, _ = watched("hystrix", circuit_breaker_error_threshold_percentage=threshold)
    feed(breaker, [OK] * successes + [F] * failures, 0.1)
    assert breaker.allow(0.45)  # no snapshot yet
    breaker.allow(0.5)
    assert breaker.state == state


@pytest.mark.parametrize(
    ("threshold", "failures", "successes", "state"),
    [
        # Hystrix computes (int) ((double) errors / total * 100): 29/100*100 is
        # 28.999999999999996 in doubles, so the percentage is 28 and 29 % does not trip.
        (29, 29, 71, CLOSED),
        (29, 30, 70, OPEN),
        (57, 57, 43, CLOSED),  # 56.99999999999999
        (58, 58, 42, CLOSED),  # 57.99999999999999
    ],
)
def test_hystrix_error_percentage_in_double_arithmetic(
    threshold: int, failures: int, successes: int, state: str
) -> None:
    breaker, _ = watched("hystrix", circuit_breaker_error_threshold_percentage=threshold)
    feed(breaker, [OK] * successes + [F] * failures, 0.1)
    breaker.allow(0.5)
    assert breaker.state == state


@pytest.mark.parametrize(
    ("failure_times", "quiet_at", "trip_at", "poke_at"),
    [
        ((0.1, 0.2, 0.3, 0.4), 0.45, 0.5, 0.5),
        ((0.1, 0.2, 0.3, 0.4), 0.45, 0.5, 0.7),  # stamped at the snapshot, not the poke
        ((0.1, 0.2, 0.3, 0.4), 0.45, 0.5, 3.0),
        ((0.0, 0.1, 0.2, 0.49), before(0.5), 0.5, 0.5),
        ((0.3, 0.4, 0.5, 0.6), 0.95, 1.0, 1.2),  # 0.5 snapshot sees only 2 calls
        ((0.5, 0.6, 0.7, 0.99), 0.995, 1.0, 1.0),
    ],
)
def test_hystrix_trips_only_at_a_health_snapshot(
    failure_times: tuple[float, ...], quiet_at: float, trip_at: float, poke_at: float
) -> None:
    breaker, events = watched("hystrix", **HYSTRIX)
    for t in failure_times:
        assert breaker.allow(t)
        breaker.record(t, F, 0.0, breaker.generation)
    assert breaker.allow(quiet_at)
    assert breaker.state == CLOSED
    assert not breaker.allow(poke_at)
    assert events == [(trip_at, CLOSED, OPEN)]
    assert breaker.open_until == trip_at + 5.0


@pytest.mark.parametrize(
    ("second_batch_at", "trip_at"),
    [
        (9.7, 10.0),  # buckets 0 and 19: both in the 20-bucket window at the 10.0 snapshot
        (9.99, 10.0),
        (10.0, None),  # bucket 20: the 10.0 snapshot has 10 calls, at 10.5 bucket 0 is gone
        (10.2, None),
    ],
)
def test_hystrix_rolling_window_of_20_buckets(
    second_batch_at: float, trip_at: float | None
) -> None:
    breaker, events = watched("hystrix")  # volume 20, 50 %, 10 s in 500 ms buckets
    feed(breaker, [F] * 10, 0.1)
    feed(breaker, [F] * 10, second_batch_at)
    poke(breaker, 12.0)
    if trip_at is None:
        assert breaker.state == CLOSED
        assert events == []
    else:
        assert events == [(trip_at, CLOSED, OPEN)]


def hystrix_open(**overrides: Any) -> tuple[CircuitBreaker, list[Event]]:
    """Tripped at the 0.5 snapshot: open until 5.5 with the default 5000 ms sleep."""
    breaker, events = watched("hystrix", **{**HYSTRIX, **overrides})
    feed(breaker, [F] * 4, 0.1)
    poke(breaker, 0.5)
    assert breaker.state == OPEN
    return breaker, events


@pytest.mark.parametrize(
    ("t", "allowed", "state"),
    [
        (5.0, False, OPEN),
        (5.5, False, OPEN),  # strictly after the sleep window
        (after(5.5), True, HALF_OPEN),
        (8.0, True, HALF_OPEN),
    ],
)
def test_hystrix_sleep_window_strictly_after(t: float, allowed: bool, state: str) -> None:
    breaker, _ = hystrix_open()
    assert breaker.open_until == 5.5
    assert breaker.allow(t) is allowed
    assert breaker.state == state


@pytest.mark.parametrize(
    ("sleep", "open_until"), [(5000, 5.5), (2000, 2.5), ("1500", 2.0), (250.0, 0.75)]
)
def test_hystrix_sleep_window_in_milliseconds(sleep: object, open_until: float) -> None:
    breaker, _ = hystrix_open(circuit_breaker_sleep_window_in_milliseconds=sleep)
    assert breaker.open_until == pytest.approx(open_until)


@pytest.mark.parametrize(
    ("probe", "state", "open_until"),
    [(OK, CLOSED, None), (DECLINED, CLOSED, None), (F, OPEN, 11.0), (SERVER, OPEN, 11.0)],
)
def test_hystrix_one_probe_decides(probe: str, state: str, open_until: float | None) -> None:
    breaker, _ = hystrix_open()
    assert breaker.allow(6.0)
    assert not breaker.allow(6.0)
    assert not breaker.allow(6.5)
    breaker.record(6.0, probe, 0.0, breaker.generation)
    assert breaker.state == state
    if open_until is not None:
        assert breaker.open_until == open_until
    else:
        poke(breaker, 6.5)
        assert breaker.metrics(6.5) == (0, 0, 0)


# ======================================================================================
# pybreaker
# ======================================================================================


@pytest.mark.parametrize(
    ("overrides", "outcomes", "state"),
    [
        ({}, [F, F], CLOSED),
        ({}, [F, F, F], OPEN),
        ({}, [TIMEOUT, CONN, SERVER], OPEN),  # every category is a failure by default
        ({}, [F, F, OK, F, F], CLOSED),  # any success resets the counter
        ({}, [F, F, OK, F, F, F], OPEN),
        ({}, [F, F, DECLINED, F, F], CLOSED),
        ({"exclude": [CONN]}, [F, F, CONN, F, F], CLOSED),  # excluded = success: resets
        ({"exclude": [CONN]}, [CONN, CONN, CONN, CONN], CLOSED),
        ({"fail_max": 1}, [F], OPEN),
    ],
)
def test_pybreaker_fail_max_consecutive(
    overrides: dict[str, Any], outcomes: list[str], state: str
) -> None:
    breaker, _ = watched("pybreaker", **{"fail_max": 3, "reset_timeout": 10, **overrides})
    feed_at(breaker, [(0.1 * i, outcome) for i, outcome in enumerate(outcomes)])
    assert breaker.state == state


def pybreaker_open(**overrides: Any) -> CircuitBreaker:
    breaker, _ = watched("pybreaker", **{"fail_max": 3, "reset_timeout": 10, **overrides})
    feed(breaker, [F, F, F], 2.0)
    assert breaker.state == OPEN
    return breaker


@pytest.mark.parametrize(
    ("t", "allowed", "state"),
    [
        (11.0, False, OPEN),
        (12.0 - 1e-6, False, OPEN),  # one microsecond early
        (before(12.0), True, HALF_OPEN),  # the same microsecond on pybreaker's datetime clock
        (12.0, True, HALF_OPEN),
    ],
)
def test_pybreaker_half_open_at_reset_timeout(t: float, allowed: bool, state: str) -> None:
    breaker = pybreaker_open()
    assert breaker.allow(t) is allowed
    assert breaker.state == state


@pytest.mark.parametrize(
    ("success_threshold", "results", "state"),
    [
        (1, [OK], CLOSED),
        (2, [OK], HALF_OPEN),
        (2, [OK, OK], CLOSED),
        (2, [OK, F], OPEN),  # any failure re-opens
        (3, [OK, OK, F], OPEN),
        (3, [OK, OK, OK], CLOSED),
        (2, [DECLINED, OK], CLOSED),
    ],
)
def test_pybreaker_success_threshold(
    success_threshold: int, results: list[str], state: str
) -> None:
    breaker = pybreaker_open(success_threshold=success_threshold)
    for _ in results:
        assert breaker.allow(12.0)
    generation = breaker.generation
    for result in results:
        breaker.record(13.0, result, 0.0, generation)
    assert breaker.state == state
    if state == OPEN:
        assert breaker.open_until == 23.0


def test_pybreaker_half_open_has_no_permit_limit() -> None:
    breaker = pybreaker_open(success_threshold=3)
    assert all(breaker.allow(12.0 + 0.01 * i) for i in range(50))
    assert breaker.state == HALF_OPEN


# ======================================================================================
# circuitbreaker (fabfuel)
# ======================================================================================

FABFUEL: dict[str, Any] = {"failure_threshold": 3, "recovery_timeout": 10}


@pytest.mark.parametrize(
    ("overrides", "outcomes", "state"),
    [
        ({}, [F, F], CLOSED),
        ({}, [F, F, F], OPEN),
        ({}, [CONN, CONN, SERVER], OPEN),  # default expected_exception: every category
        ({}, [F, F, OK, F, F], CLOSED),
        ({"expected_exception": [TIMEOUT]}, [TIMEOUT, TIMEOUT, TIMEOUT], OPEN),
        ({"expected_exception": [TIMEOUT]}, [TIMEOUT, TIMEOUT, CONN, TIMEOUT], CLOSED),
        ({"expected_exception": [TIMEOUT]}, [CONN] * 5, CLOSED),
    ],
)
def test_circuitbreaker_failure_threshold_consecutive(
    overrides: dict[str, Any], outcomes: list[str], state: str
) -> None:
    breaker, _ = watched("circuitbreaker", **{**FABFUEL, **overrides})
    feed_at(breaker, [(0.1 * i, outcome) for i, outcome in enumerate(outcomes)])
    assert breaker.state == state


def fabfuel_open(**overrides: Any) -> CircuitBreaker:
    breaker, _ = watched("circuitbreaker", **{**FABFUEL, **overrides})
    feed(breaker, [F, F, F], 0.0)
    assert breaker.state == OPEN
    return breaker


@pytest.mark.parametrize(
    ("t", "allowed", "state"),
    [(9.0, False, OPEN), (before(10.0), False, OPEN), (10.0, True, HALF_OPEN)],
)
def test_circuitbreaker_recovery_timeout_non_strict(t: float, allowed: bool, state: str) -> None:
    breaker = fabfuel_open()
    assert breaker.allow(t) is allowed
    assert breaker.state == state


@pytest.mark.parametrize(
    ("overrides", "result", "state"),
    [
        ({}, OK, CLOSED),  # one success closes
        ({}, F, OPEN),
        ({"expected_exception": [TIMEOUT]}, CONN, CLOSED),  # not expected: a success
        ({"expected_exception": [TIMEOUT]}, TIMEOUT, OPEN),
    ],
)
def test_circuitbreaker_half_open(overrides: dict[str, Any], result: str, state: str) -> None:
    breaker = fabfuel_open(**overrides)
    assert all(breaker.allow(10.0) for _ in range(5))  # no permit limit
    breaker.record(10.5, result, 0.0, breaker.generation)
    assert breaker.state == state
    if state == OPEN:
        assert breaker.open_until == 20.5


# ======================================================================================
# Envoy outlier detection
# ======================================================================================

ENVOY: dict[str, Any] = {"consecutive_5xx": 3, "interval": 10, "base_ejection_time": 30}


@pytest.mark.parametrize(
    ("outcomes", "state"),
    [([F, F], CLOSED), ([F, F, F], OPEN), ([F, F, OK, F, F], CLOSED), ([CONN, SERVER, F], OPEN)],
)
def test_envoy_consecutive_5xx_ejects(outcomes: list[str], state: str) -> None:
    breaker, _ = watched("envoy", **ENVOY)
    feed_at(breaker, [(0.1 * i, outcome) for i, outcome in enumerate(outcomes)])
    assert breaker.state == state


@pytest.mark.parametrize(
    ("trip_at", "back_at"),
    [
        (0.0, 30.0),  # ejection ends exactly on a sweep: returns then
        (0.5, 40.0),
        (1.0, 40.0),
        (9.99, 40.0),
        (10.0, 40.0),
        (10.01, 50.0),
    ],
)
def test_envoy_host_returns_at_the_next_sweep(trip_at: float, back_at: float) -> None:
    breaker, events = watched("envoy", **ENVOY)
    feed(breaker, [F, F, F], trip_at)
    assert breaker.open_until == pytest.approx(trip_at + 30.0)
    if breaker.open_until < back_at:
        assert not breaker.allow(after(breaker.open_until))  # no half-open, no early return
    assert not breaker.allow(before(back_at))
    assert breaker.allow(back_at)
    assert breaker.state == CLOSED
    assert events == [(trip_at, CLOSED, OPEN), (back_at, OPEN, CLOSED)]


def test_envoy_return_is_stamped_at_the_sweep_without_a_call() -> None:
    breaker, events = watched("envoy", **ENVOY)
    feed(breaker, [F, F, F], 1.0)
    poke(breaker, 47.0)
    assert breaker.state == CLOSED
    assert events[-1] == (40.0, OPEN, CLOSED)


def eject_back_to_back(breaker: CircuitBreaker, times: int, start: float = 0.0) -> list[float]:
    """Eject ``times`` in a row, each right at the sweep that returned the host; the
    ejection durations."""
    durations = []
    now = start
    for _ in range(times):
        feed(breaker, [F, F, F], now)
        assert breaker.state == OPEN
        durations.append(breaker.open_until - now)
        now = math.ceil(breaker.open_until / 10 - 1e-9) * 10.0
        poke(breaker, now)
        assert breaker.state == CLOSED
    return durations


@pytest.mark.parametrize(
    ("max_ejection_time", "durations"),
    [
        (300, [30, 60, 90, 120, 150]),
        (100, [30, 60, 90, 100, 100]),
        ("45s", [30, 45, 45, 45, 45]),
        ("1m", [30, 60, 60, 60, 60]),
    ],
)
def test_envoy_ejection_time_grows_and_is_capped(
    max_ejection_time: object, durations: list[float]
) -> None:
    breaker, _ = watched("envoy", **ENVOY, max_ejection_time=max_ejection_time)
    assert eject_back_to_back(breaker, len(durations)) == pytest.approx(durations)


@pytest.mark.parametrize(
    ("ejections", "healthy_for", "next_duration"),
    [
        (1, 5.0, 60.0),  # no whole healthy interval: count 1 -> 2
        (1, 15.0, 30.0),  # one healthy interval: 1 -> 0, then 1
        (1, 95.0, 30.0),
        (2, 5.0, 90.0),
        (2, 15.0, 60.0),  # 2 -> 1 -> 2
        (2, 25.0, 30.0),  # 2 -> 0 -> 1
        (3, 25.0, 60.0),  # 3 -> 1 -> 2
        (3, 35.0, 30.0),
    ],
)
def test_envoy_ejection_count_decays_per_healthy_interval(
    ejections: int, healthy_for: float, next_duration: float
) -> None:
    breaker, _ = watched("envoy", **ENVOY)
    eject_back_to_back(breaker, ejections)
    returned_at = breaker.since
    feed(breaker, [F, F, F], returned_at + healthy_for)
    assert breaker.open_until - (returned_at + healthy_for) == pytest.approx(next_duration)


# ======================================================================================
# Per-category group
# ======================================================================================

GROUP_PRESETS: dict[str, dict[str, Any]] = {
    "resilience4j": {
        "sliding_window_size": 4,
        "minimum_number_of_calls": 4,
        "wait_duration_in_open_state": 10,
        "permitted_number_of_calls_in_half_open_state": 1,
    },
    "polly": {
        "failure_ratio": 0.5,
        "minimum_throughput": 4,
        "sampling_duration": 10,
        "break_duration": 10,
    },
    "hystrix": {
        "circuit_breaker_request_volume_threshold": 4,
        "circuit_breaker_sleep_window_in_milliseconds": 10000,
    },
    "pybreaker": {"fail_max": 4, "reset_timeout": 10},
    "circuitbreaker": {"failure_threshold": 4, "recovery_timeout": 10},
    "envoy": {"consecutive_5xx": 4, "interval": 10, "base_ejection_time": 10},
}


def category_group(library: str) -> tuple[BreakerGroup, dict[str, CircuitBreaker]]:
    """One member per failure category: records its own, ignores the others."""
    base = BreakerPolicy.preset(library, **GROUP_PRESETS[library])
    members = {
        category: CircuitBreaker(
            dataclasses.replace(
                base,
                record=frozenset({category}),
                ignore=frozenset(FAILURE_CATEGORIES) - {category},
            ),
            name=category,
        )
        for category in FAILURE_CATEGORIES
    }
    return BreakerGroup(list(members.values()), library), members


def storm(group: BreakerGroup, category: str, start: float, count: int = 10) -> float:
    """``count`` results of ``category``, 0.1 s apart, then time moves on 0.5 s (so
    Hystrix's snapshot is taken); returns that instant."""
    now = start
    for i in range(count):
        now = start + 0.1 * i
        group.record(now, category)
    group.record(now + 0.5, OK, 0.0, (STALE,) * len(group.members))  # snapshots due
    return now + 0.5


@pytest.mark.parametrize("library", LIBRARIES)
def test_group_connection_storm_opens_only_the_connection_member(library: str) -> None:
    group, members = category_group(library)
    end = storm(group, CONN, 0.0)
    assert members[CONN].state == OPEN
    for category in (TIMEOUT, SERVER):
        assert members[category].state == CLOSED
        assert members[category].metrics(end)[0] == 0  # ignored: counted nowhere
    assert group.state == OPEN
    expiry = members[CONN].open_until
    # pybreaker's clock ticks in microseconds: the last instant before expiry is a tick early.
    last = expiry - 1e-6 if library == "pybreaker" else before(expiry)
    assert [group.allow(t) for t in (end, expiry - 1.0, last)] == [False] * 3
    late = math.ceil(expiry / 10) * 10 + 1.0  # past the wait (and Envoy's next sweep)
    assert group.allow(late)


@pytest.mark.parametrize("library", ["resilience4j", "polly", "hystrix"])
def test_group_refusal_hands_back_a_half_open_permit(library: str) -> None:
    group, members = category_group(library)
    assert group.members[0] is members[TIMEOUT]  # asked before the connection member
    storm(group, TIMEOUT, 0.0)
    storm(group, CONN, 5.0)
    assert members[TIMEOUT].state == OPEN
    assert members[CONN].state == OPEN
    between = members[TIMEOUT].open_until + 1.0
    assert between < members[CONN].open_until
    assert not group.allow(between)
    assert members[TIMEOUT].state == HALF_OPEN  # took its single permit, then got it back
    both = members[CONN].open_until + 1.0
    assert group.allow(both)  # the timeout member's permit is free again
    assert members[TIMEOUT].state == HALF_OPEN
    assert members[CONN].state == HALF_OPEN


def test_group_record_reaches_each_member_by_its_own_generation() -> None:
    group, members = category_group("resilience4j")
    storm(group, TIMEOUT, 0.0)
    now = members[TIMEOUT].open_until + 1.0
    assert group.allow(now)
    generation = group.generation
    group.record(now, OK, 0.0, generation)
    assert members[TIMEOUT].state == CLOSED
    assert group.state == CLOSED


# ======================================================================================
# Preset API
# ======================================================================================


@pytest.mark.parametrize(
    ("library", "overrides", "fragments"),
    [
        ("resilience5j", {}, ["unknown breaker library", "'resilience4j'"]),
        ("Polly", {}, ["unknown breaker library", "'polly'"]),
        ("sentinel", {}, ["unknown breaker library"]),
        (
            "resilience4j",
            {"failure_rate_treshold": 50},
            ["unknown resilience4j parameter", "did you mean 'failure_rate_threshold'"],
        ),
        (
            "resilience4j",
            {"waitDurationInOpenState": 5},
            ["unknown resilience4j parameter", "'waitDurationInOpenState'"],
        ),
        ("polly", {"failure_ration": 0.5}, ["did you mean 'failure_ratio'"]),
        ("polly", {"minimum_througput": 5}, ["did you mean 'minimum_throughput'"]),
        (
            "hystrix",
            {"circuit_breaker_sleep_window_in_milisecond": 10},
            ["did you mean 'circuit_breaker_sleep_window_in_milliseconds'"],
        ),
        ("pybreaker", {"failmax": 3}, ["did you mean 'fail_max'"]),
        ("circuitbreaker", {"recovery_time": 3}, ["did you mean 'recovery_timeout'"]),
        ("envoy", {"consecutive5xx": 3}, ["did you mean 'consecutive_5xx'"]),
        ("envoy", {"preset": "envoy"}, ["unknown envoy parameter"]),
    ],
)
def test_preset_unknown_names(
    library: str, overrides: dict[str, Any], fragments: list[str]
) -> None:
    with pytest.raises(ValueError) as caught:
        BreakerPolicy.preset(library, **overrides)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("library", "name", "value"),
    [
        ("resilience4j", "failure_rate_threshold", 0),
        ("resilience4j", "failure_rate_threshold", 150),
        ("resilience4j", "failure_rate_threshold", "150%"),
        ("resilience4j", "failure_rate_threshold", -5),
        ("resilience4j", "failure_rate_threshold", "half"),
        ("resilience4j", "failure_rate_threshold", True),
        ("resilience4j", "slow_call_rate_threshold", 101),
        ("resilience4j", "slow_call_duration_threshold", "-1s"),
        ("resilience4j", "sliding_window_size", 0),
        ("resilience4j", "sliding_window_size", 2.5),
        ("resilience4j", "sliding_window_type", "SLIDING"),
        ("resilience4j", "minimum_number_of_calls", 0),
        ("resilience4j", "wait_duration_in_open_state", -1),
        ("resilience4j", "wait_duration_in_open_state", "10 parsecs"),
        ("resilience4j", "wait_duration_in_open_state", float("nan")),
        ("resilience4j", "permitted_number_of_calls_in_half_open_state", 0),
        ("resilience4j", "max_wait_duration_in_half_open_state", "-5s"),
        ("resilience4j", "transition_to_state_after_wait_duration", "HALF_OPEN"),
        ("resilience4j", "exponential_backoff_multiplier", 0.5),
        ("resilience4j", "exponential_max_wait_duration_in_open_state", -1),
        ("resilience4j", "record_exceptions", ["dns"]),
        ("resilience4j", "ignore_exceptions", ["card_declined"]),
        ("polly", "failure_ratio", 50),  # a fraction, not a percentage
        ("polly", "failure_ratio", 0),
        ("polly", "failure_ratio", -0.1),
        ("polly", "failure_ratio", "150%"),
        ("polly", "minimum_throughput", 1),
        ("polly", "sampling_duration", 0),
        ("polly", "break_duration", "-1s"),
        ("polly", "should_handle", ["dns"]),
        ("hystrix", "circuit_breaker_error_threshold_percentage", 0),
        ("hystrix", "circuit_breaker_error_threshold_percentage", 101),
        ("hystrix", "circuit_breaker_request_volume_threshold", 0),
        ("hystrix", "circuit_breaker_sleep_window_in_milliseconds", 0),
        ("hystrix", "circuit_breaker_sleep_window_in_milliseconds", -100),
        ("hystrix", "metrics_rolling_statistical_window_in_milliseconds", 0),
        ("hystrix", "metrics_health_snapshot_interval_in_milliseconds", -1),
        ("pybreaker", "fail_max", 0),
        ("pybreaker", "success_threshold", 0),
        ("pybreaker", "reset_timeout", -1),
        ("pybreaker", "exclude", ["KeyError"]),
        ("circuitbreaker", "failure_threshold", 0),
        ("circuitbreaker", "recovery_timeout", "soon"),
        ("circuitbreaker", "expected_exception", "timeout"),
        ("envoy", "consecutive_5xx", 0),
        ("envoy", "interval", 0),
        ("envoy", "base_ejection_time", -1),
        ("envoy", "max_ejection_time", "-1m"),
    ],
)
def test_preset_bad_values(library: str, name: str, value: object) -> None:
    with pytest.raises(ValueError) as caught:
        BreakerPolicy.preset(library, **{name: value})
    assert name in str(caught.value)


@pytest.mark.parametrize(
    ("library", "overrides", "field", "expected"),
    [
        ("resilience4j", {"wait_duration_in_open_state": "1m"}, "wait_duration_in_open_state", 60),
        (
            "resilience4j",
            {"wait_duration_in_open_state": "250ms"},
            "wait_duration_in_open_state",
            0.25,
        ),
        ("resilience4j", {}, "max_wait_duration_in_open_state", math.inf),
        ("resilience4j", {"sliding_window_type": "TIME_BASED"}, "window", "time"),
        ("resilience4j", {}, "window", "count"),
        ("polly", {"failure_ratio": "20%"}, "failure_rate_threshold", 0.2),
        ("polly", {"sampling_duration": "2m"}, "window_duration", 120),
        ("polly", {}, "minimum_number_of_calls", 100),
        ("hystrix", {}, "wait_duration_in_open_state", 5.0),
        ("hystrix", {}, "window_duration", 10.0),
        ("hystrix", {}, "bucket_duration", 0.5),
        ("pybreaker", {"reset_timeout": "90s"}, "wait_duration_in_open_state", 90),
        ("pybreaker", {"exclude": [CONN]}, "record", frozenset(FAILURE_CATEGORIES) - {CONN}),
        ("circuitbreaker", {}, "wait_duration_in_open_state", 30),
        ("envoy", {}, "max_wait_duration_in_open_state", 300),
        ("envoy", {"interval": "5s"}, "sweep_interval", 5),
    ],
)
def test_preset_units_become_seconds_and_fractions(
    library: str, overrides: dict[str, Any], field: str, expected: object
) -> None:
    policy = BreakerPolicy.preset(library, **overrides)
    assert policy.library == library
    assert getattr(policy, field) == expected


# ======================================================================================
# models/policies/<library>.yaml
# ======================================================================================


def normalise(value: Any) -> Any:
    """Durations written with units become seconds; numbers become floats."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    return value


def test_every_library_has_a_policy_file() -> None:
    assert set(LIBRARIES) <= set(PRESETS)
    assert {path.stem for path in POLICIES.glob("*.yaml")} == set(PRESETS)


@pytest.mark.parametrize("library", sorted(PRESETS))
def test_policy_yaml_defaults_equal_preset_defaults(library: str) -> None:
    document = yaml.safe_load((POLICIES / f"{library}.yaml").read_text(encoding="utf-8"))
    assert document["library"] == library
    written = document["defaults"]
    assert normalise(written) == normalise(preset_defaults(library))
    # ... and they build the very same policy as the preset with no overrides.
    assert BreakerPolicy.preset(library, **written) == BreakerPolicy.preset(library)


# ======================================================================================
# Properties, for every preset with small thresholds
# ======================================================================================


@dataclasses.dataclass(frozen=True)
class Case:
    library: str
    overrides: dict[str, Any]
    strict: bool  # open refuses at exactly open_until too
    permits: int | None  # half-open limit, None: unlimited
    sweep: float | None = None  # Envoy: open lasts until the next sweep

    @property
    def transitions(self) -> frozenset[tuple[str, str]]:
        if self.library == "envoy":
            return frozenset({(CLOSED, OPEN), (OPEN, CLOSED)})
        return frozenset(
            {(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, OPEN), (HALF_OPEN, CLOSED)}
        )


CASES: dict[str, Case] = {
    "resilience4j": Case(
        "resilience4j",
        {
            "sliding_window_size": 4,
            "minimum_number_of_calls": 3,
            "wait_duration_in_open_state": 2,
            "permitted_number_of_calls_in_half_open_state": 2,
        },
        strict=True,
        permits=2,
    ),
    "resilience4j-time": Case(
        "resilience4j",
        {
            "sliding_window_type": "TIME_BASED",
            "sliding_window_size": 2,
            "minimum_number_of_calls": 3,
            "wait_duration_in_open_state": 2,
            "permitted_number_of_calls_in_half_open_state": 2,
        },
        strict=True,
        permits=2,
    ),
    "resilience4j-backoff-max-wait": Case(
        "resilience4j",
        {
            "sliding_window_size": 3,
            "minimum_number_of_calls": 2,
            "wait_duration_in_open_state": 1,
            "enable_exponential_backoff": True,
            "exponential_max_wait_duration_in_open_state": 8,
            "permitted_number_of_calls_in_half_open_state": 2,
            "max_wait_duration_in_half_open_state": 3,
        },
        strict=True,
        permits=2,
    ),
    "resilience4j-max-wait-closed": Case(
        "resilience4j",
        {
            "sliding_window_size": 3,
            "minimum_number_of_calls": 3,
            "wait_duration_in_open_state": 2,
            "permitted_number_of_calls_in_half_open_state": 3,
            "max_wait_duration_in_half_open_state": 2.5,
            "transition_to_state_after_wait_duration": "CLOSED",
        },
        strict=True,
        permits=3,
    ),
    "resilience4j-automatic": Case(
        "resilience4j",
        {
            "sliding_window_size": 3,
            "minimum_number_of_calls": 2,
            "wait_duration_in_open_state": 2,
            "permitted_number_of_calls_in_half_open_state": 2,
            "automatic_transition_from_open_to_half_open_enabled": True,
            "max_wait_duration_in_half_open_state": 3,
        },
        strict=False,  # the timer fires at open_until
        permits=2,
    ),
    "polly": Case(
        "polly",
        {
            "failure_ratio": 0.5,
            "minimum_throughput": 2,
            "sampling_duration": 5,
            "break_duration": 2,
        },
        strict=False,
        permits=1,
    ),
    "hystrix": Case(
        "hystrix",
        {
            "circuit_breaker_request_volume_threshold": 3,
            "circuit_breaker_sleep_window_in_milliseconds": 2000,
        },
        strict=True,
        permits=1,
    ),
    "pybreaker": Case(
        "pybreaker",
        {"fail_max": 2, "reset_timeout": 2, "success_threshold": 2, "exclude": [SERVER]},
        strict=False,
        permits=None,
    ),
    "circuitbreaker": Case(
        "circuitbreaker",
        {"failure_threshold": 2, "recovery_timeout": 2, "expected_exception": [TIMEOUT, CONN]},
        strict=False,
        permits=None,
    ),
    "envoy": Case(
        "envoy",
        {"consecutive_5xx": 2, "interval": 2.5, "base_ejection_time": 2, "max_ejection_time": 10},
        strict=False,
        permits=None,
        sweep=2.5,
    ),
}
PERMIT_LIMITED = [name for name, case in CASES.items() if case.permits is not None]

ALLOW = "allow"
STEPS = st.sampled_from([0.0, 0.0, 0.01, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0])
ACTIONS = st.sampled_from([ALLOW, ALLOW, ALLOW, OK, OK, TIMEOUT, TIMEOUT, CONN, SERVER, DECLINED])
TRACES = st.lists(st.tuples(STEPS, ACTIONS), max_size=60)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclasses.dataclass
class Step:
    now: float
    action: str
    allowed: bool | None  # allow's answer, None for a result
    state_before: str
    state_after: str
    open_until_before: float
    events: list[Event]  # transitions this step caused


@dataclasses.dataclass
class Run:
    steps: list[Step]
    events: list[Event]
    final_state: str
    trips: int


def run(case: Case, trace: Sequence[tuple[float, str]]) -> Run:
    """Drive a fresh breaker: ``allow`` starts a call; a result finishes the oldest call in
    flight (with the generation it began in) or, with none in flight, is recorded as is."""
    breaker, events = watched(case.library, **case.overrides)
    in_flight: deque[int] = deque()
    steps: list[Step] = []
    now = 0.0
    for dt, action in trace:
        now += dt
        state_before, open_until, seen = breaker.state, breaker.open_until, len(events)
        allowed: bool | None = None
        if action == ALLOW:
            allowed = breaker.allow(now)
            if allowed:
                in_flight.append(breaker.generation)
        else:
            generation = in_flight.popleft() if in_flight else None
            breaker.record(now, action, 0.0, generation)
        steps.append(
            Step(now, action, allowed, state_before, breaker.state, open_until, events[seen:])
        )
    return Run(steps, list(events), breaker.state, breaker.trips)


def expiry(case: Case, open_until: float) -> float:
    """The first instant the open state may end."""
    if case.sweep is not None:
        return math.ceil(open_until / case.sweep - 1e-9) * case.sweep
    return open_until


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
@PROPERTY
@given(trace=TRACES)
def test_property_open_never_admits(name: str, trace: list[tuple[float, str]]) -> None:
    case = CASES[name]
    for step in run(case, trace).steps:
        if step.allowed is None:
            continue
        if step.allowed:
            assert step.state_after != OPEN
        if step.state_before == OPEN:
            end = expiry(case, step.open_until_before)
            if step.now < end or (case.strict and step.now == end):
                assert step.allowed is False, step


@pytest.mark.slow
@pytest.mark.parametrize("name", PERMIT_LIMITED)
@PROPERTY
@given(trace=TRACES)
def test_property_half_open_never_admits_more_than_its_permits(
    name: str, trace: list[tuple[float, str]]
) -> None:
    case = CASES[name]
    assert case.permits is not None
    admitted = 0
    for step in run(case, trace).steps:
        if any(new == HALF_OPEN for _, _, new in step.events):
            admitted = 0  # a new half-open episode
        if step.allowed and step.state_after == HALF_OPEN:
            admitted += 1
            assert admitted <= case.permits, step


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
@PROPERTY
@given(trace=TRACES)
def test_property_only_documented_transitions(name: str, trace: list[tuple[float, str]]) -> None:
    case = CASES[name]
    result = run(case, trace)
    state = CLOSED
    previous_now = 0.0
    for step in result.steps:
        for stamp, old, new in step.events:
            assert (old, new) in case.transitions, step
            assert old == state, step
            state = new
            # A timer transition is applied at the first operation at or after it was due,
            # and stamped when it was due: never before the operation preceding this one.
            assert previous_now <= stamp <= step.now, step
        previous_now = step.now
    assert state == result.final_state
    assert result.trips == sum(new == OPEN for _, _, new in result.events)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
@PROPERTY
@given(trace=TRACES)
def test_property_same_trace_same_states(name: str, trace: list[tuple[float, str]]) -> None:
    case = CASES[name]
    first, second = run(case, trace), run(case, trace)
    assert first.events == second.events
    assert [(s.allowed, s.state_after) for s in first.steps] == [
        (s.allowed, s.state_after) for s in second.steps
    ]
