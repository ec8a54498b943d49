"""RateLimiter: resilience4j AtomicRateLimiter semantics on simulated time."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.resilience.ratelimit import RateLimiter


def test_resilience4j_defaults() -> None:
    limiter = RateLimiter()
    assert limiter.limit_for_period == 50
    assert limiter.limit_refresh_period == 500e-9
    assert limiter.timeout_duration == 5.0
    # 50 per 500 ns: effectively unlimited at shop rates
    assert all(limiter.acquire(i * 1e-3) == 0.0 for i in range(10_000))


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        # limit 2 per 1 s, no waiting allowed
        ([0.0, 0.0, 0.0], [0.0, 0.0, None]),
        ([0.0, 0.5, 0.999999999], [0.0, 0.0, None]),
        ([0.0, 0.5, 1.0], [0.0, 0.0, 0.0]),  # a new cycle starts exactly at 1.0
        ([0.0, 0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, None]),
        ([0.9, 0.9, 0.9, 1.1], [0.0, 0.0, None, 0.0]),
        ([5.0, 5.0, 5.0, 5.5, 6.0], [0.0, 0.0, None, None, 0.0]),
    ],
)
def test_no_timeout_table(calls: list[float], expected: list[float | None]) -> None:
    limiter = RateLimiter(2, 1.0, 0.0)
    assert [limiter.acquire(t) for t in calls] == expected


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        # limit 1 per 1 s, wait up to 1 s (inclusive)
        ([0.0, 0.2], [0.0, 0.8]),  # reserves the next cycle's permit
        ([0.0, 0.2, 0.3], [0.0, 0.8, None]),  # would need 1.7 s
        ([0.0, 0.0], [0.0, 1.0]),  # exactly the timeout: granted
        ([0.0, 0.2, 1.0], [0.0, 0.8, 1.0]),  # the reserved permit is used: wait for cycle 2
        ([0.0, 0.2, 1.0, 1.0], [0.0, 0.8, 1.0, None]),
        ([0.0, 3.5, 3.5], [0.0, 0.0, 0.5]),
    ],
)
def test_waiting_table(calls: list[float], expected: list[float | None]) -> None:
    limiter = RateLimiter(1, 1.0, 1.0)
    got = [limiter.acquire(t) for t in calls]
    assert got == [pytest.approx(e) if e is not None else None for e in expected]


def test_timeout_boundary_at_the_nanosecond() -> None:
    a = RateLimiter(1, 1.0, 0.75)
    a.acquire(0.0)
    assert a.acquire(0.25) == pytest.approx(0.75)  # wait == timeout: granted
    b = RateLimiter(1, 1.0, 0.75 - 1e-9)
    b.acquire(0.0)
    assert b.acquire(0.25) is None


def test_refusal_reserves_nothing() -> None:
    limiter = RateLimiter(1, 1.0, 0.5)
    assert limiter.acquire(0.0) == 0.0
    assert limiter.acquire(0.1) is None  # would wait 0.9 s
    assert limiter.available(0.6) == 0
    assert limiter.acquire(0.6) == pytest.approx(0.4)  # the refusal did not take this permit


def test_unused_permits_do_not_accumulate() -> None:
    limiter = RateLimiter(3, 1.0, 0.0)
    assert limiter.available(100.0) == 3
    got = [limiter.acquire(100.0) for _ in range(4)]
    assert got == [0.0, 0.0, 0.0, None]


def test_cycles_align_to_the_start() -> None:
    limiter = RateLimiter(1, 1.0, 0.0, start=0.25)
    assert limiter.acquire(0.25) == 0.0
    assert limiter.acquire(1.0) is None  # still the first cycle [0.25, 1.25)
    assert limiter.acquire(1.25) == 0.0
    with pytest.raises(ValueError):
        RateLimiter(start=1.0).acquire(0.5)


def test_float_instants_land_on_exact_cycle_boundaries() -> None:
    # 0.1 * 3 is 0.30000000000000004 and 0.3 / 0.1 is 2.9999999999999996 in floats; counted
    # in nanoseconds, as resilience4j does, both are the start of cycle 3.
    for t in (0.3, 0.1 * 3):
        limiter = RateLimiter(1, 0.1, 0.0)
        assert limiter.acquire(0.2) == 0.0
        assert limiter.acquire(t) == 0.0


def test_several_permits_at_once() -> None:
    limiter = RateLimiter(5, 1.0, 10.0)
    assert limiter.acquire(0.0, permits=3) == 0.0
    assert limiter.acquire(0.0, permits=3) == pytest.approx(1.0)  # 2 left, 5 more next cycle
    assert limiter.available(0.0) == -1
    assert limiter.acquire(0.0, permits=12) == pytest.approx(3.0)  # -1 + 5 + 5 + 5 >= 12


def test_time_may_not_run_backwards_and_bad_settings_raise() -> None:
    limiter = RateLimiter(1, 1.0)
    limiter.acquire(2.0)
    with pytest.raises(ValueError):
        limiter.acquire(1.0)
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(1, 0.0)
    with pytest.raises(ValueError):
        RateLimiter(1, 1.0, -1.0)
    with pytest.raises(ValueError):
        RateLimiter().acquire(0.0, permits=0)


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=5),
    period_ms=st.integers(min_value=1, max_value=1000),
    timeout_ms=st.integers(min_value=0, max_value=3000),
    gaps_ms=st.lists(st.integers(min_value=0, max_value=700), min_size=1, max_size=60),
)
def test_never_more_than_the_limit_per_cycle(
    limit: int, period_ms: int, timeout_ms: int, gaps_ms: list[int]
) -> None:
    limiter = RateLimiter(limit, period_ms / 1000, timeout_ms / 1000)
    per_cycle: Counter[int] = Counter()
    now_ms = 0
    for gap in gaps_ms:
        now_ms += gap
        wait = limiter.acquire(now_ms / 1000)
        if wait is None:
            continue
        assert 0.0 <= wait <= timeout_ms / 1000 + 1e-12
        granted_ns = now_ms * 1_000_000 + round(wait * 1e9)
        per_cycle[granted_ns // (period_ms * 1_000_000)] += 1
    assert all(count <= limit for count in per_cycle.values())


@given(
    limit=st.integers(min_value=1, max_value=5),
    n=st.integers(min_value=1, max_value=40),
)
def test_patient_callers_are_served_at_the_limit_rate(limit: int, n: int) -> None:
    # Everyone arrives at once and may wait long enough: permits go out limit per cycle.
    limiter = RateLimiter(limit, 1.0, 1e6)
    waits = [limiter.acquire(0.0) for _ in range(n)]
    assert waits == [float(i // limit) for i in range(n)]
