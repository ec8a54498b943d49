"""Retry budgets: AWS SDK standard quota, Brooker's adaptive token bucket, Envoy retry_budget."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.resilience.budget import (
    AwsRetryQuota,
    EnvoyRetryBudget,
    RetryBudget,
    TokenBucketBudget,
    UnlimitedBudget,
)


@pytest.mark.parametrize(
    "budget", [UnlimitedBudget(), AwsRetryQuota(), TokenBucketBudget(), EnvoyRetryBudget()]
)
def test_every_budget_follows_the_protocol(budget: RetryBudget) -> None:
    assert isinstance(budget, RetryBudget)
    assert budget.acquire(0.0, timeout=False, active_requests=1, active_retries=0) is True
    budget.on_success(0.0, True, timeout=False)


# -- AWS SDK standard retry quota ------------------------------------------------------------


def test_aws_defaults() -> None:
    q = AwsRetryQuota()
    assert (q.capacity, q.available, q.retry_cost, q.timeout_retry_cost) == (500, 500, 5, 10)
    assert q.no_retry_increment == 1


@pytest.mark.parametrize(
    ("timeout", "granted"),
    [(False, 100), (True, 50)],  # 500 / 5 and 500 / 10
)
def test_aws_quota_drains_to_zero(timeout: bool, granted: int) -> None:
    q = AwsRetryQuota()
    results = [q.acquire(float(i), timeout=timeout) for i in range(granted + 5)]
    assert results == [True] * granted + [False] * 5
    assert q.available == 0


@pytest.mark.parametrize(
    ("available", "timeout", "granted", "left"),
    [
        (5, False, True, 0),  # exactly the cost is enough
        (4, False, False, 4),
        (10, True, True, 0),
        (9, True, False, 9),  # a refused retry costs nothing
        (9, False, True, 4),
    ],
)
def test_aws_acquire_boundaries(available: int, timeout: bool, granted: bool, left: int) -> None:
    q = AwsRetryQuota()
    q.available = available
    assert q.acquire(0.0, timeout=timeout) is granted
    assert q.available == left


@pytest.mark.parametrize(
    ("available", "retried", "timeout", "after"),
    [
        (400, False, False, 401),  # first-try success refunds 1
        (400, False, True, 401),  # timeout flag is irrelevant without a retry
        (400, True, False, 405),  # success after a retry refunds that retry's cost
        (400, True, True, 410),  # ... 10 if it was a timeout retry
        (500, False, False, 500),  # capped at the initial quota
        (497, True, True, 500),
    ],
)
def test_aws_refunds(available: int, retried: bool, timeout: bool, after: int) -> None:
    q = AwsRetryQuota()
    q.available = available
    q.on_success(0.0, retried, timeout=timeout)
    assert q.available == after


def test_aws_quota_recovers_with_successes() -> None:
    q = AwsRetryQuota()
    for _ in range(100):
        assert q.acquire(0.0)
    assert not q.acquire(0.0)
    for _ in range(5):
        q.on_success(1.0, False)  # five first-try successes buy one retry
    assert q.acquire(1.0)


def test_aws_rejects_negative_settings() -> None:
    with pytest.raises(ValueError):
        AwsRetryQuota(capacity=-1)
    with pytest.raises(ValueError):
        AwsRetryQuota(no_retry_increment=-1)


# -- Brooker's adaptive token bucket ---------------------------------------------------------


def test_token_bucket_boundaries() -> None:
    b = TokenBucketBudget(initial_tokens=0.0)
    for _ in range(9):
        b.on_success(0.0, False)
    assert b.tokens == pytest.approx(0.9)
    assert not b.acquire(0.0)  # 0.9 < 1: no retry
    b.on_success(0.0, False)
    assert b.tokens == 1.0  # ten deposits of 0.1 make exactly one token, no float drift
    assert b.acquire(0.0)
    assert b.tokens == 0.0
    assert not b.acquire(0.0)


def test_token_bucket_starts_full_and_caps() -> None:
    b = TokenBucketBudget()
    assert b.tokens == b.max_tokens == 10.0
    b.on_success(0.0, True)
    assert b.tokens == 10.0
    with pytest.raises(ValueError):
        TokenBucketBudget(initial_tokens=11.0)
    with pytest.raises(ValueError):
        TokenBucketBudget(retry_cost=0.0)


@dataclass
class Run:
    """Counts from one simulated stream of requests (after warm-up)."""

    requests: int = 0
    successes: int = 0
    retries_wanted: int = 0
    retries_granted: int = 0


def simulate(budget: RetryBudget, failure: float, requests: int, *, warmup: int = 0) -> Run:
    """Requests with up to 3 retries each against a dependency failing with ``failure``."""
    rng = random.Random(1234)
    run = Run()
    for i in range(warmup + requests):
        counted = i >= warmup
        retried = False
        ok = rng.random() >= failure
        retries = 0
        while not ok and retries < 3:
            if counted:
                run.retries_wanted += 1
            if not budget.acquire(float(i)):
                break
            retries += 1
            retried = True
            if counted:
                run.retries_granted += 1
            ok = rng.random() >= failure
        if ok:
            budget.on_success(float(i), retried)
            if counted:
                run.successes += 1
        if counted:
            run.requests += 1
    return run


def test_token_bucket_allows_nearly_every_retry_at_low_failure() -> None:
    run = simulate(TokenBucketBudget(), 0.05, 20_000)
    assert run.retries_wanted > 900
    assert run.retries_granted / run.retries_wanted > 0.99  # behaves like N retries


@pytest.mark.parametrize("failure", [0.5, 0.9])
def test_token_bucket_pays_retries_with_successes_at_high_failure(failure: float) -> None:
    # Steady state with the bucket empty: tokens in = 0.1 x successes = tokens out = retries,
    # so ~0.1 retry per success, i.e. r = 0.1(1-p)(1+r) retries per request.
    run = simulate(TokenBucketBudget(), failure, 50_000, warmup=2_000)
    assert run.retries_granted / run.successes == pytest.approx(0.1, abs=0.002)
    s = 0.1 * (1 - failure)
    assert run.retries_granted / run.requests == pytest.approx(s / (1 - s), rel=0.05)
    assert run.retries_granted / run.retries_wanted < 0.2  # far from N retries (all granted)


def test_token_bucket_at_total_failure_stops_retrying() -> None:
    # Brooker's rule deposits on success only: at 100 % failure nothing refills the bucket,
    # so after its 10 starting tokens the steady state is 0 retries per request (not 0.1).
    b = TokenBucketBudget()
    run = simulate(b, 1.0, 10_000)
    assert run.retries_granted == 10
    assert b.tokens == 0.0
    steady = simulate(b, 1.0, 10_000)
    assert steady.retries_granted == 0
    # N = 3 retries without a budget would have done (1 + 3) x the work
    plain = simulate(UnlimitedBudget(), 1.0, 10_000)
    assert plain.retries_granted == 3 * plain.requests


# -- Envoy retry_budget ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("active_requests", "active_retries", "granted"),
    [
        (0, 0, True),
        (0, 2, True),
        (0, 3, False),  # min_retry_concurrency = 3
        (15, 2, True),  # 20 % of 15 = 3
        (15, 3, False),
        (19, 3, False),  # 3.8 truncated to 3, as Envoy's uint64 conversion does
        (20, 3, True),  # 4
        (20, 4, False),
        (100, 19, True),
        (100, 20, False),
        (1000, 199, True),
        (1000, 200, False),
    ],
)
def test_envoy_budget_table(active_requests: int, active_retries: int, granted: bool) -> None:
    budget = EnvoyRetryBudget()
    got = budget.acquire(0.0, active_requests=active_requests, active_retries=active_retries)
    assert got is granted


@pytest.mark.parametrize(
    ("percent", "minimum", "active", "limit"),
    [(20.0, 3, 0, 3), (20.0, 0, 0, 0), (50.0, 1, 7, 3), (100.0, 3, 10, 10), (25.0, 3, 100, 25)],
)
def test_envoy_max_retries(percent: float, minimum: int, active: int, limit: int) -> None:
    assert EnvoyRetryBudget(percent, minimum).max_retries(active) == limit


def test_envoy_rejects_bad_settings_and_counts() -> None:
    with pytest.raises(ValueError):
        EnvoyRetryBudget(budget_percent=101.0)
    with pytest.raises(ValueError):
        EnvoyRetryBudget(min_retry_concurrency=-1)
    with pytest.raises(ValueError):
        EnvoyRetryBudget().acquire(0.0, active_requests=-1)


# -- properties ------------------------------------------------------------------------------

OPS = st.lists(st.tuples(st.sampled_from(["acquire", "success"]), st.booleans(), st.booleans()))


@settings(max_examples=200, deadline=None)
@given(ops=OPS, start=st.integers(min_value=0, max_value=500))
def test_aws_quota_stays_within_zero_and_capacity(
    ops: list[tuple[str, bool, bool]], start: int
) -> None:
    q = AwsRetryQuota()
    q.available = start
    for op, timeout, retried in ops:
        before = q.available
        if op == "acquire":
            granted = q.acquire(0.0, timeout=timeout)
            assert granted == (before >= (10 if timeout else 5))
        else:
            q.on_success(0.0, retried, timeout=timeout)
        assert 0 <= q.available <= q.capacity


@settings(max_examples=200, deadline=None)
@given(
    ops=OPS,
    deposit=st.floats(min_value=0.0, max_value=2.0),
    cost=st.floats(min_value=0.01, max_value=5.0),
    max_tokens=st.floats(min_value=0.0, max_value=50.0),
)
def test_token_bucket_stays_within_zero_and_max(
    ops: list[tuple[str, bool, bool]], deposit: float, cost: float, max_tokens: float
) -> None:
    b = TokenBucketBudget(deposit=deposit, retry_cost=cost, max_tokens=max_tokens)
    for op, timeout, retried in ops:
        before = b.tokens
        if op == "acquire":
            assert b.acquire(0.0, timeout=timeout) == (before >= cost)
        else:
            b.on_success(0.0, retried)
        assert 0.0 <= b.tokens <= b.max_tokens


@given(
    percent=st.floats(min_value=0.0, max_value=100.0),
    minimum=st.integers(min_value=0, max_value=10),
    active=st.integers(min_value=0, max_value=10_000),
)
def test_envoy_limit_is_at_least_the_minimum_and_at_most_the_percentage(
    percent: float, minimum: int, active: int
) -> None:
    limit = EnvoyRetryBudget(percent, minimum).max_retries(active)
    assert limit >= minimum
    assert limit <= max(minimum, percent / 100 * active)
    budget = EnvoyRetryBudget(percent, minimum)
    assert budget.acquire(0.0, active_requests=active, active_retries=limit) is False
    if limit > 0:
        assert budget.acquire(0.0, active_requests=active, active_retries=limit - 1) is True
