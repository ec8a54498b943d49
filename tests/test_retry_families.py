"""RetryPolicy backoff families, library builders, retry_on and the overall deadline."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.resilience.backoff import BACKOFFS, DEFAULT_RETRY_ON, STATEFUL_BACKOFFS, RetryPolicy

ALMOST_ONE = math.nextafter(1.0, 0.0)
UNIFORM = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
STATELESS = sorted(BACKOFFS - STATEFUL_BACKOFFS)


def polly_v2_reference(delay: float, uniforms: list[float]) -> list[float]:
    """Polly.Core RetryHelper.DecorrelatedJitterBackoffV2, transcribed with 0-based attempts."""
    out, prev = [], 0.0
    for attempt, u in enumerate(uniforms):
        t = attempt + u
        nxt = 2.0**t * math.tanh(math.sqrt(4.0 * t))
        out.append((nxt - prev) * (1 / 1.4) * delay)
        prev = nxt
    return out


# -- families, boundaries -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "uniforms", "expected"),
    [
        # fixed / linear / exponential, no jitter: u is ignored
        ({"backoff": "fixed", "wait": 2.0}, [0.9, 0.1, 0.5], [2.0, 2.0, 2.0]),
        ({"backoff": "linear", "wait": 2.0}, [0.9, 0.1, 0.5], [2.0, 4.0, 6.0]),
        ({"backoff": "exponential", "wait": 1.0, "multiplier": 2.0}, [0.3] * 4, [1, 2, 4, 8]),
        ({"backoff": "exponential", "wait": 0.5}, [0.3] * 3, [0.5, 0.5, 0.5]),  # m = 1: fixed
        # jitter on a curve: v(1 - f + 2fu), cap last
        ({"backoff": "linear", "wait": 2.0, "jitter": 0.25}, [0.0] * 3, [1.5, 3.0, 4.5]),
        ({"backoff": "linear", "wait": 2.0, "jitter": 0.25, "max_wait": 5.0}, [0.5] * 3, [2, 4, 5]),
        ({"backoff": "fixed", "wait": 2.0, "jitter": 0.5}, [0.0, 0.5, 0.75], [1.0, 2.0, 2.5]),
        # resilience4j randomized: exponential curve randomized, then capped
        (
            {"backoff": "randomized", "wait": 1.0, "multiplier": 2.0, "jitter": 0.5},
            [0.0, 0.5, 0.75],
            [0.5, 2.0, 5.0],
        ),
        (
            {"backoff": "randomized", "wait": 10.0, "jitter": 0.5, "max_wait": 4.0},
            [0.0, ALMOST_ONE],
            [4.0, 4.0],
        ),
        # Brooker full jitter: U(0, min(cap, d m^(n-1)))
        (
            {"backoff": "full_jitter", "wait": 1.0, "multiplier": 2.0, "max_wait": 5.0},
            [0.5, 0.5, 0.5, 0.5, 0.0],
            [0.5, 1.0, 2.0, 2.5, 0.0],
        ),
        # equal jitter: v/2 + U(0, v/2)
        (
            {"backoff": "equal_jitter", "wait": 1.0, "multiplier": 2.0, "max_wait": 5.0},
            [0.0, 0.5, 0.5, 0.0, 0.5],
            [0.5, 1.5, 3.0, 2.5, 3.75],
        ),
        # Brooker decorrelated: s = min(cap, U(d, 3 s_prev)), s_0 = d
        (
            {"backoff": "decorrelated_jitter", "wait": 1.0, "max_wait": 10.0},
            [0.0, 1.0, 0.5, 1.0, 0.5, 0.0],
            [1.0, 3.0, 5.0, 10.0, 10.0, 1.0],
        ),
    ],
)
def test_family_sequences(
    kwargs: dict[str, Any], uniforms: list[float], expected: list[float]
) -> None:
    policy = RetryPolicy(max_attempts=len(uniforms) + 1, **kwargs)
    assert list(policy.delays(iter(uniforms))) == pytest.approx(expected, abs=1e-12)


def test_decorrelated_state_is_the_capped_previous_wait() -> None:
    # u = 1 draws 3 x previous: 1 -> 3 -> 9 -> capped 10 -> 1 + (30 - 1) capped 10
    policy = RetryPolicy(6, 1.0, backoff="decorrelated_jitter", max_wait=10.0)
    assert list(policy.delays([1.0] * 5)) == [3.0, 9.0, 10.0, 10.0, 10.0]
    # without a cap it grows by 3 per retry at u = 1
    unbounded = RetryPolicy(5, 0.1, backoff="decorrelated_jitter")
    assert list(unbounded.delays([1.0] * 4)) == pytest.approx([0.3, 0.9, 2.7, 8.1])


@pytest.mark.parametrize(
    "uniforms", [[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.9, 0.1, 0.7, 0.3], [0.25] * 6]
)
def test_polly_decorrelated_v2_matches_polly_formula(uniforms: list[float]) -> None:
    policy = RetryPolicy(len(uniforms) + 1, 2.0, backoff="polly_decorrelated_v2")
    got = list(policy.delays(uniforms))
    assert got == pytest.approx(polly_v2_reference(2.0, uniforms), rel=1e-12)


def test_polly_decorrelated_v2_medians_near_doubling() -> None:
    # Polly's intent: medians near whole multiples of d that double per retry. Over a grid of
    # independent draws the medians are about 0.90d, 1.14d, 2.0d, 4.0d, 8.0d for retries 1-5.
    d = 1.0
    policy = RetryPolicy(2, d, backoff="polly_decorrelated_v2")
    grid = [(i + 0.5) / 60 for i in range(60)]
    first = statistics.median(next(policy.delays([u])) for u in grid)
    assert first == pytest.approx(2**0.5 * math.tanh(math.sqrt(2)) / 1.4, rel=1e-3)  # 0.897
    # retry k depends only on draws k-1 and k
    for retry, want in [(2, 1.14), (3, 2.0), (4, 4.0), (5, 8.0)]:
        fill = [0.5] * (retry - 2)
        policy = RetryPolicy(retry + 1, d, backoff="polly_decorrelated_v2")
        median = statistics.median(
            list(policy.delays([*fill, a, b]))[-1] for a in grid for b in grid
        )
        assert median == pytest.approx(want * d, rel=0.02)


def test_polly_decorrelated_v2_telescopes() -> None:
    # Uncapped waits sum to 2^t tanh(sqrt(4t)) / 1.4 x d at the last t: the earlier draws
    # only move time between retries, never the total.
    policy = RetryPolicy(4, 1.0, backoff="polly_decorrelated_v2")
    for uniforms in ([0.1, 0.9, 0.3], [0.8, 0.2, 0.3]):
        t = 2 + 0.3
        total = 2**t * math.tanh(math.sqrt(4 * t)) / 1.4
        assert sum(policy.delays(uniforms)) == pytest.approx(total, rel=1e-12)


def test_polly_decorrelated_v2_first_draw_zero_gives_zero_wait() -> None:
    assert next(RetryPolicy(2, 3.0, backoff="polly_decorrelated_v2").delays([0.0])) == 0.0


def test_polly_decorrelated_v2_cap_and_overflow() -> None:
    capped = RetryPolicy(1200, 1.0, backoff="polly_decorrelated_v2", max_wait=30.0)
    waits = list(capped.delays([0.5] * 1199))
    assert max(waits) == 30.0
    assert waits[-1] == 30.0  # 2**t overflows past t = 1024: the cap, as in Polly
    uncapped = RetryPolicy(1200, 1.0, backoff="polly_decorrelated_v2")
    assert list(uncapped.delays([0.5] * 1199))[-1] == math.inf


def test_exponential_overflow_is_capped_not_an_error() -> None:
    policy = RetryPolicy(3000, 1.0, 2.0, 60.0)
    assert policy.delay(2000, 0.3) == 60.0
    assert RetryPolicy(3000, 1.0, 2.0, None, 1.0).delay(2000, 0.0) == 0.0  # not nan


@pytest.mark.parametrize("backoff", sorted(BACKOFFS))
def test_zero_wait_gives_zero_for_every_family(backoff: str) -> None:
    extra: dict[str, Any] = {"jitter": 0.5} if backoff == "randomized" else {}
    policy = RetryPolicy(4, 0.0, backoff=backoff, **extra)  # type: ignore[arg-type]
    assert list(policy.delays([0.3, 0.9, 0.0])) == [0.0, 0.0, 0.0]


# -- delay() versus delays() -----------------------------------------------------------------


@pytest.mark.parametrize("backoff", sorted(STATEFUL_BACKOFFS))
def test_delay_refuses_stateful_families(backoff: str) -> None:
    policy = RetryPolicy(3, 1.0, backoff=backoff)  # type: ignore[arg-type]
    assert policy.stateful
    with pytest.raises(ValueError, match=r"delays\(uniforms\)"):
        policy.delay(1, 0.5)


def test_delays_draws_one_uniform_per_retry_lazily() -> None:
    # One draw per retry even when the family ignores it, so streams stay aligned across
    # configurations (common random numbers), exactly as the engine draws today.
    draws = iter([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    waits = RetryPolicy(4, 1.0).delays(draws)
    assert next(draws) == 0.1  # nothing drawn before the first retry is asked for
    assert next(waits) == 1.0  # draws 0.2
    assert next(draws) == 0.3
    assert list(waits) == [1.0, 1.0]  # retries 2 and 3 (max_attempts 4) draw 0.4 and 0.5
    assert next(draws) == 0.6


def test_delays_yields_max_attempts_minus_one_waits() -> None:
    assert list(RetryPolicy(1).delays([])) == []
    assert len(list(RetryPolicy(5).delays([0.5] * 10))) == 4


def test_delays_running_out_of_draws_is_an_error() -> None:
    with pytest.raises(ValueError, match="ran out"):
        list(RetryPolicy(4, backoff="decorrelated_jitter").delays([0.5]))


@pytest.mark.parametrize("u", [-0.01, 1.01, math.nan])
def test_uniform_outside_unit_interval_is_refused(u: float) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(2, 1.0, jitter=0.5).delay(1, u)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"backoff": "nope"},
        {"backoff": "fixed", "multiplier": 2.0},
        {"backoff": "linear", "multiplier": 1.5},
        {"backoff": "decorrelated_jitter", "multiplier": 2.0},
        {"backoff": "polly_decorrelated_v2", "multiplier": 2.0},
        {"backoff": "full_jitter", "jitter": 0.1},
        {"backoff": "equal_jitter", "jitter": 0.1},
        {"backoff": "decorrelated_jitter", "jitter": 0.1},
        {"backoff": "polly_decorrelated_v2", "jitter": 0.25},
        {"backoff": "randomized"},  # needs jitter > 0
        {"retry_on": frozenset({"timeout", "declined"})},
        {"retry_on": frozenset({"success"})},
        {"deadline": 0.0},
        {"deadline": -1.0},
    ],
)
def test_invalid_combinations_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_retry_on_must_not_be_a_bare_string() -> None:
    with pytest.raises(TypeError):
        RetryPolicy(retry_on="timeout")  # type: ignore[arg-type]


def test_positional_construction_is_unchanged() -> None:
    policy = RetryPolicy(3, 0.5, 2.0, 5.0, 0.1)
    assert (policy.max_attempts, policy.wait, policy.multiplier) == (3, 0.5, 2.0)
    assert (policy.max_wait, policy.jitter, policy.backoff) == (5.0, 0.1, "exponential")
    assert policy.retry_on == DEFAULT_RETRY_ON
    assert policy.deadline is None
    assert policy.retries == 2
    assert not policy.stateful


def test_retry_on_accepts_any_collection_and_stays_hashable() -> None:
    policy = RetryPolicy(retry_on={"timeout"})  # type: ignore[arg-type]
    assert policy.retry_on == frozenset({"timeout"})
    assert hash(policy) == hash(RetryPolicy(retry_on=frozenset({"timeout"})))


# -- retry_on --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry_on", "outcome", "expected"),
    [
        (DEFAULT_RETRY_ON, "timeout", True),
        (DEFAULT_RETRY_ON, "connection", True),
        (DEFAULT_RETRY_ON, "server_error", True),
        (DEFAULT_RETRY_ON, "declined", False),
        (DEFAULT_RETRY_ON, "success", False),
        (DEFAULT_RETRY_ON, "breaker_open", False),
        (frozenset({"connection"}), "timeout", False),
        (frozenset({"connection"}), "connection", True),
        (frozenset(), "server_error", False),
    ],
)
def test_should_retry(retry_on: frozenset[str], outcome: str, expected: bool) -> None:
    assert RetryPolicy(3, retry_on=retry_on).should_retry(outcome) is expected


# -- overall deadline ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deadline", "attempt", "now", "next_delay", "expected"),
    [
        (None, 1, 100.0, 0.0, True),
        (None, 3, 1e9, 1e9, True),  # no deadline: only the attempt count matters
        (None, 4, 100.0, 0.0, False),  # beyond max_attempts = 3
        (10.0, 1, 100.0, 0.0, True),  # the first call itself
        (10.0, 2, 105.0, 4.5, True),  # starts at 109.5 < 110
        (10.0, 2, 105.0, 5.0, False),  # would start exactly at the deadline: refused
        (10.0, 2, 110.0, 0.0, False),
        (10.0, 3, 101.0, 8.999, True),
        (10.0, 4, 101.0, 0.0, False),  # attempts run out before the deadline does
    ],
)
def test_allows(
    deadline: float | None, attempt: int, now: float, next_delay: float, expected: bool
) -> None:
    policy = RetryPolicy(3, 1.0, deadline=deadline)
    assert policy.allows(attempt, 100.0, now, next_delay) is expected


def test_allows_refuses_attempt_zero() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(3).allows(0, 0.0, 0.0)


def test_deadline_cuts_a_retry_sequence_short() -> None:
    # waits 1, 2, 4, 8 after attempts that each take 0.5 s; deadline 6 s from t0 = 0
    policy = RetryPolicy(5, 1.0, 2.0, deadline=6.0)
    now, started, attempts = 0.0, 0.0, 1
    for wait in policy.delays([0.5] * 4):
        now += 0.5  # the failed attempt
        if not policy.allows(attempts + 1, started, now, wait):
            break
        now += wait
        attempts += 1
    assert attempts == 3  # starts at 0, 1.5, 4.0; the next would start at 8.5 > 6


# -- library builders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "attempts", "backoff", "uniforms", "expected"),
    [
        ({}, 3, "fixed", [0.0, 0.9], [0.5, 0.5]),
        ({"exponential": True}, 3, "exponential", [0.0, 0.9], [0.5, 0.75]),
        ({"exponential": True, "max_attempts": 5}, 5, "exponential", [0.5] * 4,
         [0.5, 0.75, 1.125, 1.6875]),
        ({"randomized": True}, 3, "randomized", [0.0, ALMOST_ONE], [0.25, 0.75]),
        ({"exponential": True, "randomized": True}, 3, "randomized", [0.0, 0.5], [0.25, 0.75]),
        ({"exponential": True, "multiplier": 2.0, "max_wait": 1.5, "max_attempts": 4}, 4,
         "exponential", [0.5] * 3, [0.5, 1.0, 1.5]),
        ({"multiplier": 3.0}, 3, "fixed", [0.5] * 2, [0.5, 0.5]),  # ignored unless exponential
    ],
)  # fmt: skip
def test_resilience4j_builder(
    kwargs: dict[str, Any],
    attempts: int,
    backoff: str,
    uniforms: list[float],
    expected: list[float],
) -> None:
    policy = RetryPolicy.resilience4j(**kwargs)
    assert policy.max_attempts == attempts
    assert policy.backoff == backoff
    assert list(policy.delays(uniforms)) == pytest.approx(expected)


def test_resilience4j_randomization_factor_default() -> None:
    assert RetryPolicy.resilience4j(randomized=True).jitter == 0.5
    assert RetryPolicy.resilience4j(randomized=True, randomization_factor=0.2).jitter == 0.2


@pytest.mark.parametrize(
    ("kwargs", "attempts", "backoff", "uniforms", "expected"),
    [
        ({}, 4, "fixed", [0.3] * 3, [2.0, 2.0, 2.0]),
        ({"use_jitter": True}, 4, "fixed", [0.0, 0.5, ALMOST_ONE], [1.5, 2.0, 2.5]),
        ({"backoff_type": "linear"}, 4, "linear", [0.3] * 3, [2.0, 4.0, 6.0]),
        ({"backoff_type": "linear", "use_jitter": True}, 4, "linear", [0.0] * 3, [1.5, 3.0, 4.5]),
        ({"backoff_type": "exponential"}, 4, "exponential", [0.3] * 3, [2.0, 4.0, 8.0]),
        ({"backoff_type": "exponential", "max_delay": 5.0}, 4, "exponential", [0.3] * 3,
         [2.0, 4.0, 5.0]),
        ({"backoff_type": "exponential", "use_jitter": True}, 4, "polly_decorrelated_v2",
         [0.2, 0.6, 0.4], polly_v2_reference(2.0, [0.2, 0.6, 0.4])),
        ({"max_retry_attempts": 0}, 1, "fixed", [], []),
        ({"max_retry_attempts": 1, "delay": 0.1}, 2, "fixed", [0.7], [0.1]),
    ],
)  # fmt: skip
def test_polly_builder(
    kwargs: dict[str, Any],
    attempts: int,
    backoff: str,
    uniforms: list[float],
    expected: list[float],
) -> None:
    policy = RetryPolicy.polly(**kwargs)
    assert policy.max_attempts == attempts  # MaxRetryAttempts + the first call
    assert policy.retries == attempts - 1
    assert policy.backoff == backoff
    assert list(policy.delays(uniforms)) == pytest.approx(expected, rel=1e-12)


def test_polly_builder_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        RetryPolicy.polly(-1)
    with pytest.raises(ValueError):
        RetryPolicy.polly(backoff_type="fibonacci")  # type: ignore[arg-type]


def test_builders_pass_retry_on_and_deadline() -> None:
    for policy in (
        RetryPolicy.resilience4j(retry_on=["timeout"], deadline=3.0),
        RetryPolicy.polly(retry_on=["timeout"], deadline=3.0),
    ):
        assert policy.retry_on == frozenset({"timeout"})
        assert policy.deadline == 3.0


# -- properties ------------------------------------------------------------------------------


@st.composite
def policies(draw: st.DrawFn) -> RetryPolicy:
    """Any valid policy: each family with only the parameters it uses."""
    backoff = draw(st.sampled_from(sorted(BACKOFFS)))
    multiplier = 1.0
    if backoff in {"exponential", "randomized", "full_jitter", "equal_jitter"}:
        multiplier = draw(st.floats(min_value=1.0, max_value=4.0))
    jitter = 0.0
    if backoff in {"fixed", "linear", "exponential"}:
        jitter = draw(st.floats(min_value=0.0, max_value=1.0))
    elif backoff == "randomized":
        jitter = draw(st.floats(min_value=0.01, max_value=1.0))
    return RetryPolicy(
        max_attempts=draw(st.integers(min_value=1, max_value=12)),
        wait=draw(st.floats(min_value=0.0, max_value=50.0)),
        multiplier=multiplier,
        max_wait=draw(st.none() | st.floats(min_value=0.0, max_value=300.0)),
        jitter=jitter,
        backoff=backoff,  # type: ignore[arg-type]
    )


@settings(max_examples=300, deadline=None)
@given(policy=policies(), uniforms=st.lists(UNIFORM, min_size=11, max_size=11))
def test_waits_are_finite_non_negative_and_never_above_the_cap(
    policy: RetryPolicy, uniforms: list[float]
) -> None:
    waits = list(policy.delays(uniforms))
    assert len(waits) == policy.max_attempts - 1
    for w in waits:
        assert w >= 0.0
        assert math.isfinite(w)
        if policy.max_wait is not None:
            assert w <= policy.max_wait


@given(
    wait=st.floats(min_value=0.001, max_value=10.0),
    extra=st.floats(min_value=0.0, max_value=100.0),
    uniforms=st.lists(UNIFORM, min_size=1, max_size=15),
)
def test_decorrelated_stays_within_base_and_cap(
    wait: float, extra: float, uniforms: list[float]
) -> None:
    cap = wait + extra
    policy = RetryPolicy(len(uniforms) + 1, wait, max_wait=cap, backoff="decorrelated_jitter")
    previous = wait
    for w in policy.delays(uniforms):
        assert wait <= w <= cap
        assert w <= 3 * previous * (1 + 1e-12)  # never more than 3x the previous wait
        previous = w


@given(
    backoff=st.sampled_from(STATELESS),
    wait=st.floats(min_value=0.0, max_value=10.0),
    uniforms=st.lists(UNIFORM, min_size=1, max_size=8),
)
def test_stateless_delays_match_delay(backoff: str, wait: float, uniforms: list[float]) -> None:
    jitter = 0.3 if backoff in {"fixed", "linear", "exponential", "randomized"} else 0.0
    multiplier = 1.0 if backoff in {"fixed", "linear"} else 2.0
    policy = RetryPolicy(len(uniforms) + 1, wait, multiplier, 40.0, jitter, backoff)  # type: ignore[arg-type]
    assert list(policy.delays(uniforms)) == [
        policy.delay(n, u) for n, u in enumerate(uniforms, start=1)
    ]


@given(
    wait=st.floats(min_value=0.0, max_value=10.0),
    max_wait=st.none() | st.floats(min_value=0.0, max_value=100.0),
    retry=st.integers(min_value=1, max_value=10),
    u=UNIFORM,
)
def test_brooker_jitter_bounds(wait: float, max_wait: float | None, retry: int, u: float) -> None:
    v = wait * 2.0 ** (retry - 1)
    if max_wait is not None:
        v = min(v, max_wait)
    full = RetryPolicy(retry + 1, wait, 2.0, max_wait, backoff="full_jitter").delay(retry, u)
    equal = RetryPolicy(retry + 1, wait, 2.0, max_wait, backoff="equal_jitter").delay(retry, u)
    assert 0.0 <= full <= v
    assert v / 2 <= equal <= v
    assert full == pytest.approx(u * v)
    assert equal == pytest.approx(v / 2 + u * v / 2)


def _uniform_stream(values: list[float]) -> Iterator[float]:
    """A one-shot iterator, as the engine's draw stream is."""
    yield from values


@given(uniforms=st.lists(UNIFORM, min_size=1, max_size=10), delay=st.floats(0.01, 5.0))
def test_polly_v2_waits_are_non_negative_and_match_reference(
    uniforms: list[float], delay: float
) -> None:
    policy = RetryPolicy.polly(len(uniforms), delay, backoff_type="exponential", use_jitter=True)
    got = list(policy.delays(_uniform_stream(uniforms)))
    assert all(w >= 0.0 for w in got)
    assert got == pytest.approx(polly_v2_reference(delay, uniforms), rel=1e-9, abs=1e-12)
