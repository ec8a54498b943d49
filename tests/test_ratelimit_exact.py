"""resilience4j's rate limiter exactly: each refusal's message, the shortest period (1 ns),
and permits left counted from the limiter's own start."""

from __future__ import annotations

import pytest

from sim.resilience.ratelimit import RateLimiter


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit_for_period": 0}, "limit_for_period must be at least 1"),
        ({"limit_refresh_period": 4e-10}, "limit_refresh_period must be at least 1 ns"),
        ({"timeout_duration": -1.0}, "timeout_duration must be >= 0"),
    ],
)
def test_a_refused_limiter_says_why(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as info:
        RateLimiter(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_a_period_of_one_nanosecond_is_allowed() -> None:
    limiter = RateLimiter(limit_for_period=1, limit_refresh_period=1e-9, timeout_duration=0.0)
    assert limiter.acquire(0.0) == 0.0
    assert limiter.acquire(0.0) is None  # the next permit is 1 ns away, above the timeout 0


def test_bad_calls_say_why() -> None:
    limiter = RateLimiter(limit_for_period=2, limit_refresh_period=1.0, start=5.0)
    with pytest.raises(ValueError) as info:
        limiter.acquire(6.0, permits=0)
    assert str(info.value) == "permits must be at least 1"
    limiter.acquire(6.0)
    for call in (limiter.acquire, limiter.available):
        with pytest.raises(ValueError) as info:
            call(5.5)
        assert str(info.value) == "time went backwards: 5.5 is before the start or the last call"


def test_permits_left_count_from_the_limiters_start() -> None:
    limiter = RateLimiter(limit_for_period=3, limit_refresh_period=10.0, start=7.0)
    assert limiter.acquire(8.0) == 0.0  # cycle 0 of [7, 17)
    assert limiter.available(16.0) == 2
    assert limiter.available(17.0) == 3  # cycle 1 begins 10 s after the start
