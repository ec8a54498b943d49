"""RetryPolicy: resilience4j Retry semantics (attempts include the first call; exponential
backoff ``wait * multiplier**(n-1)``; uniform jitter in ``[d(1-j), d(1+j)]``; the ``max_wait``
cap is applied after randomising)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.resilience import RetryPolicy

ALMOST_ONE = math.nextafter(1.0, 0.0)


def test_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 1
    assert policy.wait == 0.5
    assert policy.multiplier == 1.0
    assert policy.max_wait is None
    assert policy.jitter == 0.0


def test_policy_is_frozen() -> None:
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.wait = 1.0  # type: ignore[misc]


def test_constant_backoff_by_default() -> None:
    policy = RetryPolicy(max_attempts=5, wait=0.5)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5] * 5


def test_exponential_backoff_resilience4j_example() -> None:
    # resilience4j: initial 500 ms, multiplier 1.5 -> 500, 750, 1125, 1687.5 ms
    policy = RetryPolicy(max_attempts=5, wait=0.5, multiplier=1.5)
    delays = [policy.delay(n) for n in range(1, 5)]
    assert delays == pytest.approx([0.5, 0.75, 1.125, 1.6875])


def test_first_retry_waits_exactly_the_initial_wait() -> None:
    policy = RetryPolicy(max_attempts=3, wait=2.0, multiplier=3.0)
    assert policy.delay(1) == 2.0
    assert policy.delay(2) == 6.0
    assert policy.delay(3) == 18.0


def test_no_jitter_ignores_u() -> None:
    policy = RetryPolicy(wait=1.25, multiplier=2.0)
    assert policy.delay(2, 0.0) == policy.delay(2, 0.5) == policy.delay(2, ALMOST_ONE) == 2.5


@pytest.mark.parametrize("jitter", [0.1, 0.25, 0.5, 1.0])
def test_jitter_bounds_driven_by_u(jitter: float) -> None:
    policy = RetryPolicy(wait=2.0, multiplier=2.0, jitter=jitter)
    d = 4.0  # delay(2) before randomising
    assert policy.delay(2, 0.0) == pytest.approx(d * (1 - jitter))
    assert policy.delay(2, 0.5) == pytest.approx(d)
    assert policy.delay(2, ALMOST_ONE) == pytest.approx(d * (1 + jitter))
    assert policy.delay(2, ALMOST_ONE) <= d * (1 + jitter)


def test_full_jitter_lower_bound_is_zero() -> None:
    policy = RetryPolicy(wait=3.0, jitter=1.0)
    assert policy.delay(1, 0.0) == 0.0


def test_jitter_is_linear_in_u() -> None:
    policy = RetryPolicy(wait=1.0, jitter=0.5)
    assert policy.delay(1, 0.25) == pytest.approx(0.75)
    assert policy.delay(1, 0.75) == pytest.approx(1.25)


def test_max_wait_caps_exponential_growth() -> None:
    policy = RetryPolicy(max_attempts=10, wait=1.0, multiplier=2.0, max_wait=5.0)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_max_wait_exactly_reached_is_kept() -> None:
    policy = RetryPolicy(wait=4.0, multiplier=2.0, max_wait=8.0)
    assert policy.delay(2) == 8.0


def test_cap_applied_after_randomising_lower_bound() -> None:
    # d = 10, jitter 0.5, u = 0 -> 5 after randomising, then capped at 4.
    # Capping first (min(10, 4) = 4) and randomising after would give 2.
    policy = RetryPolicy(wait=10.0, jitter=0.5, max_wait=4.0)
    assert policy.delay(1, 0.0) == 4.0


def test_cap_applied_after_randomising_upper_bound() -> None:
    # d = 1 is below the cap, but randomising up to 1.5 crosses it: capped at 1.2.
    policy = RetryPolicy(wait=1.0, jitter=0.5, max_wait=1.2)
    assert policy.delay(1, ALMOST_ONE) == 1.2
    assert policy.delay(1, 0.0) == pytest.approx(0.5)  # below the cap: untouched


def test_zero_wait_is_allowed() -> None:
    policy = RetryPolicy(max_attempts=3, wait=0.0, multiplier=2.0, jitter=0.5)
    assert policy.delay(1, 0.9) == 0.0
    assert policy.delay(3, 0.1) == 0.0


@pytest.mark.parametrize("max_attempts", [0, -1, -100])
def test_max_attempts_below_one_raises(max_attempts: int) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=max_attempts)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"wait": -0.001},
        {"multiplier": 0.999},
        {"multiplier": 0.0},
        {"jitter": -0.01},
        {"jitter": 1.01},
    ],
)
def test_invalid_parameters_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 1},
        {"wait": 0.0},
        {"multiplier": 1.0},
        {"jitter": 0.0},
        {"jitter": 1.0},
    ],
)
def test_boundary_parameters_are_valid(kwargs: dict[str, float]) -> None:
    RetryPolicy(**kwargs)  # type: ignore[arg-type]


@given(
    wait=st.floats(min_value=0.0, max_value=100.0),
    multiplier=st.floats(min_value=1.0, max_value=4.0),
    jitter=st.floats(min_value=0.0, max_value=1.0),
    max_wait=st.none() | st.floats(min_value=0.0, max_value=500.0),
    retry=st.integers(min_value=1, max_value=8),
    u=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_delay_matches_reference(
    wait: float, multiplier: float, jitter: float, max_wait: float | None, retry: int, u: float
) -> None:
    policy = RetryPolicy(
        max_attempts=retry + 1, wait=wait, multiplier=multiplier, max_wait=max_wait, jitter=jitter
    )
    d = wait * multiplier ** (retry - 1)
    expected = d * (1 - jitter + 2 * jitter * u)
    if max_wait is not None:
        expected = min(expected, max_wait)
    got = policy.delay(retry, u)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert got >= 0.0
    assert got <= d * (1 + jitter) * (1 + 1e-12) + 1e-12
    assert (
        got
        >= min(d * (1 - jitter), math.inf if max_wait is None else max_wait) * (1 - 1e-12) - 1e-12
    )
    if max_wait is not None:
        assert got <= max_wait


@given(
    jitter=st.floats(min_value=0.0, max_value=1.0),
    u1=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    u2=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_delay_is_monotone_in_u(jitter: float, u1: float, u2: float) -> None:
    policy = RetryPolicy(wait=1.0, multiplier=2.0, max_wait=3.0, jitter=jitter)
    lo, hi = sorted((u1, u2))
    assert policy.delay(2, lo) <= policy.delay(2, hi)


def test_negative_max_wait_and_retry_zero_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_wait=-1.0)
    with pytest.raises(ValueError):
        RetryPolicy().delay(0)
