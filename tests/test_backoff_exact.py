"""Retry policies exactly: each refusal's message, a deadline below a second, the default of
no extra delay, a builder's own wait, and the families' waits where a growth overflows to
infinity and the uniform draw is 0 (inf x 0 must not make a NaN)."""

from __future__ import annotations

import math

import pytest

from sim.resilience.backoff import BACKOFFS, RetryPolicy


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"max_attempts": 0},
            ValueError,
            "max_attempts counts the first call, so it must be at least 1",
        ),
        (
            {"wait": -1.0},
            ValueError,
            "wait >= 0, multiplier >= 1 and 0 <= jitter <= 1 are required",
        ),
        ({"max_wait": -1.0}, ValueError, "max_wait must be >= 0"),
        (
            {"backoff": "sometimes"},
            ValueError,
            f"backoff must be one of {sorted(BACKOFFS)}, not 'sometimes'",
        ),
        (
            {"backoff": "linear", "multiplier": 2.0},
            ValueError,
            "backoff 'linear' has no multiplier: leave it at 1",
        ),
        (
            {"backoff": "full_jitter", "jitter": 0.5},
            ValueError,
            "backoff 'full_jitter' is randomized already: leave jitter at 0",
        ),
        (
            {"backoff": "randomized"},
            ValueError,
            "backoff 'randomized' needs a randomization factor: jitter > 0",
        ),
        (
            {"retry_on": "timeout"},
            TypeError,
            "retry_on is a collection of outcome categories, not one string",
        ),
        ({"retry_on": {"timeout", "declined"}}, ValueError, "['declined'] must never be retried"),
        ({"deadline": 0.0}, ValueError, "deadline must be > 0 seconds (or None for no deadline)"),
    ],
)
def test_a_refused_policy_says_why(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error) as info:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_a_deadline_below_a_second_is_a_deadline() -> None:
    policy = RetryPolicy(max_attempts=3, deadline=0.5)
    assert policy.allows(2, 0.0, 0.4) and not policy.allows(2, 0.0, 0.5)


def test_allows_adds_no_delay_unless_told() -> None:
    policy = RetryPolicy(max_attempts=3, deadline=10.0)
    assert policy.allows(2, 0.0, 9.5)
    assert not policy.allows(2, 0.0, 9.5, 0.5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p.allows(0, 0.0, 0.0), "attempt numbers start at 1 (the first call)"),
        (lambda p: p.delay(0), "retry numbers start at 1 (the wait after the first failure)"),
        (lambda p: p.delay(1, 1.5), "u must be a uniform draw in [0, 1], not 1.5"),
    ],
)
def test_bad_arguments_say_why(call: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        call(RetryPolicy(max_attempts=3))  # type: ignore[operator]
    assert str(info.value) == message


def test_a_stateful_family_sends_delay_to_delays() -> None:
    with pytest.raises(ValueError) as info:
        RetryPolicy(max_attempts=3, backoff="decorrelated_jitter").delay(1)
    assert str(info.value) == (
        "backoff 'decorrelated_jitter' depends on the previous wait: "
        "use RetryPolicy.delays(uniforms) for one call's sequence of waits"
    )


def test_polly_builder_refusals() -> None:
    with pytest.raises(ValueError) as info:
        RetryPolicy.polly(max_retry_attempts=-1)
    assert str(info.value) == "max_retry_attempts must be >= 0"
    with pytest.raises(ValueError) as info:
        RetryPolicy.polly(backoff_type="cubic")  # type: ignore[arg-type]
    assert str(info.value) == "unknown Polly backoff_type 'cubic'"


def test_the_resilience4j_builder_keeps_its_wait() -> None:
    assert RetryPolicy.resilience4j(wait=2.0).wait == 2.0
    assert RetryPolicy.resilience4j().delay(1) == 0.5


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [("full_jitter", 0.0), ("equal_jitter", math.inf)],
)
def test_an_overflowing_ceiling_with_a_zero_draw_is_no_nan(backoff: str, expected: float) -> None:
    policy = RetryPolicy(max_attempts=3, wait=1.0, multiplier=1e300, backoff=backoff)  # type: ignore[arg-type]
    assert policy.delay(3, 0.0) == expected  # 1e300 ** 2 overflows to inf


def test_decorrelated_jitter_with_an_infinite_spread_and_a_zero_draw() -> None:
    policy = RetryPolicy(max_attempts=4, wait=1e308, backoff="decorrelated_jitter")
    waits = list(policy.delays([1.0, 0.0, 0.0]))
    assert waits[0] == math.inf  # U(d, 3d) at its top: 3e308 overflows
    assert waits[1] == 1e308  # d + 0 x inf would be NaN: the draw 0 gives d
