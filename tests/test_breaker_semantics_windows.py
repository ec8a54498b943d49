"""Each library's window, counted by hand from its documented rules and compared with the
window's own counts, and the rules that rest on them through the presets:

- the paper's absolute rule: N failures within the last ``time_window`` seconds (an expired
  failure is forgotten; a success does not reset the count);
- resilience4j TIME_BASED: one-second buckets aligned to whole seconds, slow calls included;
- Polly: ``sampling_duration`` in 10 buckets, each starting at the first call after the
  previous one ended, and one bucket below 200 ms;
- Hystrix: rolling buckets read through snapshots, down to a window of one bucket.

Counts are ``(calls, failures, slow)`` the window holds at ``now``.
"""

from __future__ import annotations

import math

import pytest

from sim.resilience import BreakerPolicy, CircuitBreaker
from sim.resilience.breaker import CLOSED, HALF_OPEN, OPEN
from sim.resilience.windows import (
    AbsoluteWindow,
    CockatielSamplingWindow,
    ConsecutiveWindow,
    CountWindow,
    OpossumWindow,
    RollingWindow,
    SamplingWindow,
    TimeWindow,
)

OK, FAIL, SERVER = "success", "timeout", "server_error"


def before(t: float) -> float:
    return math.nextafter(t, -math.inf)


# -- the paper's absolute rule ------------------------------------------------------------


def test_absolute_window_holds_failures_of_the_last_duration_seconds() -> None:
    window = AbsoluteWindow(10.0)
    for t, failed in [(0.0, True), (2.0, False), (4.0, True), (9.0, True)]:
        window.add(t, failed, False)
    assert window.counts(9.0) == (4, 3, 0)
    assert window.counts(before(10.0)) == (4, 3, 0)
    assert window.counts(10.0) == (4, 2, 0)  # the failure at 0 is exactly 10 s old: gone
    assert window.counts(14.0) == (4, 1, 0)
    assert window.counts(19.5) == (4, 0, 0)
    window.add(20.0, True, True)  # a slow call is no concern of this rule
    assert window.counts(20.0) == (5, 1, 0)


def absolute(**overrides: object) -> CircuitBreaker:
    params: dict[str, object] = {"failure_count": 3, "time_window": "10s", "open_duration": "5s"}
    return CircuitBreaker(BreakerPolicy.preset("absolute", **(params | overrides)))


def test_absolute_preset_trips_at_the_nth_failure_within_the_window() -> None:
    breaker = absolute()
    breaker.record(0.0, FAIL)
    breaker.record(1.0, OK)  # a success does not reset the count: not consecutive
    breaker.record(4.0, FAIL)
    assert breaker.state == CLOSED
    breaker.record(before(10.0), FAIL)
    assert breaker.state == OPEN and breaker.open_until == pytest.approx(before(10.0) + 5.0)


def test_absolute_preset_forgets_failures_older_than_the_window() -> None:
    breaker = absolute()
    for t in (0.0, 4.0, 10.0):  # the first is exactly 10 s old at the third
        breaker.record(t, FAIL)
    assert breaker.state == CLOSED
    breaker.record(13.9, FAIL)  # 4.0, 10.0, 13.9: three within 10 s
    assert breaker.state == OPEN


def test_absolute_preset_counts_only_recorded_categories() -> None:
    breaker = absolute(record=["timeout"])
    for t in (0.0, 1.0, 2.0):
        breaker.record(t, SERVER)
    assert breaker.state == CLOSED
    assert breaker.metrics(2.0) == (3, 0, 0)


def test_absolute_preset_half_open_needs_every_trial_call_to_succeed() -> None:
    breaker = absolute(half_open_calls=2)
    for t in (0.0, 1.0, 2.0):
        breaker.record(t, FAIL)
    assert not breaker.allow(before(7.0))
    assert breaker.allow(7.0) and breaker.state == HALF_OPEN  # open_duration inclusive
    assert breaker.allow(7.0) and not breaker.allow(7.0)  # two trial calls, no third
    breaker.record(7.5, OK)
    assert breaker.state == HALF_OPEN
    breaker.record(7.6, OK)
    assert breaker.state == CLOSED
    assert breaker.metrics(7.6) == (0, 0, 0)  # closed with an empty window


def test_absolute_preset_failure_in_half_open_reopens() -> None:
    breaker = absolute(half_open_calls=2)
    for t in (0.0, 1.0, 2.0):
        breaker.record(t, FAIL)
    assert breaker.allow(7.0)
    breaker.record(7.5, OK)
    breaker.record(7.6, FAIL)
    assert breaker.state == OPEN and breaker.open_until == pytest.approx(12.6)


# -- consecutive and count-based ----------------------------------------------------------


def test_consecutive_window_counts_failures_in_a_row() -> None:
    window = ConsecutiveWindow()
    for failed in (True, True, False, True, True, True):
        window.add(0.0, failed, False)
    assert window.counts(0.0) == (6, 3, 0)


def test_count_window_ring_keeps_the_last_n_outcomes() -> None:
    window = CountWindow(3)
    outcomes = [(True, True), (False, True), (True, False), (False, False), (False, False)]
    held: list[tuple[bool, bool]] = []
    for failed, slow in outcomes:
        window.add(0.0, failed, slow)
        held = [*held, (failed, slow)][-3:]
        expected = (len(held), sum(f for f, _ in held), sum(s for _, s in held))
        assert window.counts(0.0) == expected


# -- resilience4j TIME_BASED --------------------------------------------------------------


def test_time_window_buckets_are_whole_seconds_and_slow_calls_expire_with_them() -> None:
    window = TimeWindow(3)  # seconds s-2, s-1, s at any instant in second s
    window.add(0.9, True, True)  # second 0
    window.add(1.0, False, True)  # second 1
    window.add(2.99, True, False)  # second 2
    assert window.counts(2.99) == (3, 2, 2)
    assert window.counts(3.0) == (2, 1, 1)  # second 0 out
    assert window.counts(3.5) == (2, 1, 1)
    window.add(3.5, False, True)
    assert window.counts(4.0) == (2, 1, 1)  # seconds 2 and 3
    assert window.counts(5.999) == (1, 0, 1)
    assert window.counts(6.0) == (0, 0, 0)


def r4j_time(**overrides: object) -> CircuitBreaker:
    params: dict[str, object] = {
        "sliding_window_type": "TIME_BASED",
        "sliding_window_size": 10,
        "minimum_number_of_calls": 5,
        "failure_rate_threshold": 100,
        "slow_call_rate_threshold": 40,
        "slow_call_duration_threshold": "2s",
    }
    return CircuitBreaker(BreakerPolicy.preset("resilience4j", **(params | overrides)))


def test_r4j_time_based_trips_on_slow_calls() -> None:
    breaker = r4j_time()
    for t, duration in [(0.1, 2.5), (0.2, 2.0), (0.3, 0.1), (0.4, 0.1)]:
        breaker.record(t, OK, duration)  # 2.0 s is not slow: strictly longer is
    assert breaker.state == CLOSED
    breaker.record(0.5, OK, 2.01)  # 2 slow of 5 = 40 %
    assert breaker.state == OPEN


def test_r4j_time_based_slow_calls_leave_with_their_second() -> None:
    breaker = r4j_time()
    breaker.record(0.5, OK, 3.0)
    breaker.record(0.6, OK, 3.0)  # second 0: two slow calls
    breaker.record(5.1, OK, 0.1)
    breaker.record(5.2, OK, 0.1)
    assert breaker.metrics(5.2) == (4, 0, 2)
    breaker.record(10.1, OK, 0.1)  # second 0 is out: 3 calls, below the minimum
    breaker.record(10.2, OK, 0.1)
    breaker.record(10.3, OK, 0.1)  # 5 calls, none slow; the expired two would make 40 %
    assert breaker.metrics(10.3) == (5, 0, 0)
    assert breaker.state == CLOSED


def test_r4j_time_based_failures_and_slow_calls_count_separately() -> None:
    breaker = r4j_time(failure_rate_threshold=50, slow_call_rate_threshold=100)
    for t in (0.1, 0.2, 0.3, 0.4):
        breaker.record(t, FAIL if t < 0.3 else OK, 5.0)  # all slow, half failed
    breaker.record(0.5, OK, 0.1)  # 2 of 5 failed, 4 of 5 slow: neither threshold
    assert breaker.metrics(0.5) == (5, 2, 4)
    assert breaker.state == CLOSED
    breaker.record(0.6, FAIL, 0.1)  # 3 of 6 failed = 50 %
    assert breaker.state == OPEN


# -- Polly --------------------------------------------------------------------------------


def test_polly_sampling_duration_is_ten_buckets() -> None:
    window = SamplingWindow(10.0)
    assert window.bucket == 1.0
    window.add(0.0, True, False)  # bucket started at 0.0
    window.add(0.5, False, False)  # same bucket
    window.add(1.7, True, False)  # the first call after it ended starts one at 1.7
    window.add(2.6, False, False)  # still the 1.7 bucket
    window.add(2.7, False, False)  # starts one at 2.7
    assert window.counts(before(10.0)) == (5, 2, 0)
    assert window.counts(10.0) == (3, 1, 0)  # the 0.0 bucket leaves whole: the 0.5 call too
    assert window.counts(before(11.7)) == (3, 1, 0)
    assert window.counts(11.7) == (1, 0, 0)
    assert window.counts(12.7) == (0, 0, 0)


def test_polly_single_bucket_only_below_200ms() -> None:
    assert SamplingWindow(0.2).bucket == pytest.approx(0.02)
    assert SamplingWindow(0.19).bucket == 0.19
    ten = SamplingWindow(0.2)
    ten.add(0.0, True, False)
    ten.add(0.03, True, False)  # a second bucket
    assert ten.counts(0.2) == (1, 1, 0)
    one = SamplingWindow(0.19)
    one.add(0.0, True, False)
    one.add(0.03, True, False)  # the same, single bucket
    assert one.counts(before(0.19)) == (2, 2, 0)
    assert one.counts(0.19) == (0, 0, 0)


def polly(**overrides: object) -> CircuitBreaker:
    params: dict[str, object] = {
        "failure_ratio": 0.5,
        "minimum_throughput": 4,
        "sampling_duration": "10s",
        "break_duration": "5s",
    }
    return CircuitBreaker(BreakerPolicy.preset("polly", **(params | overrides)))


def test_polly_failures_of_an_expired_bucket_no_longer_trip() -> None:
    breaker = polly()
    breaker.record(0.0, FAIL)
    breaker.record(0.5, FAIL)  # one bucket from 0.0
    breaker.record(1.5, OK)  # one from 1.5
    breaker.record(10.0, OK)  # the 0.0 bucket is gone: 2 calls, below throughput
    breaker.record(10.1, FAIL)
    assert breaker.metrics(10.1) == (3, 1, 0)
    assert breaker.state == CLOSED
    breaker.record(10.2, FAIL)  # 4 calls, 2 failed: 50 %
    assert breaker.state == OPEN


# -- Hystrix ------------------------------------------------------------------------------


def test_hystrix_window_of_one_bucket() -> None:
    window = RollingWindow(0.5, 0.5)
    assert window.count == 1
    window.add(0.1, True, False)
    window.add(0.4, False, False)
    assert window.counts(0.45) == (0, 0, 0)  # the bucket has not ended: no snapshot yet
    assert window.counts(0.5) == (2, 1, 0)
    assert window.counts(0.99) == (2, 1, 0)
    window.add(0.6, True, False)
    assert window.counts(1.0) == (1, 1, 0)  # only the bucket that ended at 1.0
    assert window.counts(1.5) == (0, 0, 0)


def test_hystrix_window_shorter_than_a_bucket_keeps_one() -> None:
    assert RollingWindow(0.2, 0.5).count == 1
    assert RollingWindow(10.0, 0.5).count == 20
    assert RollingWindow(1.2, 0.5).count == 2  # rounded to whole buckets


def test_hystrix_rolling_window_drops_the_oldest_bucket() -> None:
    window = RollingWindow(2.0, 0.5)  # four buckets
    window.add(0.0, True, False)  # bucket 0
    window.add(0.5, True, False)  # bucket 1
    window.add(1.9, False, False)  # bucket 3
    assert window.counts(2.0) == (3, 2, 0)  # buckets 0-3
    assert window.counts(2.5) == (2, 1, 0)  # buckets 1-4
    assert window.counts(3.0) == (1, 0, 0)
    window.add(3.1, True, False)  # bucket 6; buckets 2 and below expire
    assert window.counts(3.5) == (2, 1, 0)  # buckets 3-6


def test_hystrix_preset_with_one_bucket_window_trips_from_that_bucket_alone() -> None:
    policy = BreakerPolicy.preset(
        "hystrix",
        metrics_rolling_statistical_window_in_milliseconds=500,
        metrics_health_snapshot_interval_in_milliseconds=500,
        circuit_breaker_request_volume_threshold=2,
    )
    breaker = CircuitBreaker(policy)
    breaker.record(0.1, FAIL)
    breaker.record(0.2, FAIL)
    assert breaker.state == CLOSED  # no snapshot before 0.5
    assert not breaker.allow(0.5)
    assert breaker.state == OPEN and breaker.since == 0.5

    quiet = CircuitBreaker(policy)
    quiet.record(0.1, FAIL)
    quiet.record(0.6, FAIL)  # bucket [0.5, 1): 1 of 3 failed; with the first, 2 of 4
    quiet.record(0.7, OK)
    quiet.record(0.8, OK)
    assert quiet.allow(1.0) and quiet.state == CLOSED


def test_hystrix_window_leaves_the_current_buckets_slow_calls_out_too() -> None:
    window = RollingWindow(10.0, 0.5)
    window.add(0.1, False, True)  # bucket 0
    window.add(0.6, True, True)  # bucket 1: still being filled at 0.7
    window.add(0.7, False, False)
    assert window.counts(0.7) == (1, 0, 1)
    assert window.counts(1.0) == (3, 1, 2)


# -- cockatiel's SamplingBreaker ring ---------------------------------------------------------


def test_cockatiel_ring_size_and_window_length() -> None:
    # max(5, ceil(duration / 1 s)) windows of Math.round(duration / count) ms.
    assert (
        len(CockatielSamplingWindow(5000)._started),
        CockatielSamplingWindow(5000).window_ms,
    ) == (5, 1000)
    six = CockatielSamplingWindow(6005)
    assert (len(six._started), six.window_ms, six.duration_ms) == (7, 858, 6006)


@pytest.mark.parametrize("reset_first", [False, True])
def test_cockatiel_a_result_leaves_when_its_window_comes_round_again(reset_first: bool) -> None:
    window = CockatielSamplingWindow(5000)  # five windows of one second
    if reset_first:
        window.reset()
    window.add(1.0, True, False)  # 1000 ms after the ring's start: a new window from 1.0
    for t in (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5):
        window.add(t, False, False)
    assert window.counts(5.5) == (10, 1, 0)
    window.add(6.0, False, False)  # the 1.0 window comes round: its two results leave
    assert window.totals == (9, 0)
    assert window.counts(6.0) == (9, 0, 0)


def test_cockatiel_ring_of_six_uses_every_window() -> None:
    window = CockatielSamplingWindow(6000)
    window.add(1.0, True, False)
    for t in (2.0, 3.0, 4.0, 5.0, 6.0):
        window.add(t, False, False)
    assert window.totals == (5, 1)  # six windows hold all six results
    window.add(7.0, False, False)
    assert window.totals == (6, 0)


def test_opossum_window_counts_calls_made_and_failures_and_no_slow_calls() -> None:
    window = OpossumWindow(1000, 10)  # ten one-second buckets from time 0
    window.fire(0.2)
    window.fire(0.7)
    window.add(0.9, True, True)  # opossum has no slow calls
    window.add(0.95, False, True)  # a success is no event of its window
    assert window.counts(1.0) == (2, 1, 0)
    assert window.counts(9.999) == (2, 1, 0)
    assert window.counts(10.0) == (0, 0, 0)  # bucket 0 rotated out at 10 s
