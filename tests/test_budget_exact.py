"""Retry budgets exactly: each refusal's message, zero accepted where the rules allow it,
and the defaults of the arguments a budget does read (the AWS quota's refund after a retry
that was not a timeout, Envoy's counts)."""

from __future__ import annotations

import pytest

from sim.resilience.budget import AwsRetryQuota, EnvoyRetryBudget, TokenBucketBudget


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: AwsRetryQuota(capacity=-1), "capacity and costs must be >= 0"),
        (lambda: AwsRetryQuota(retry_cost=-1), "capacity and costs must be >= 0"),
        (lambda: AwsRetryQuota(timeout_retry_cost=-1), "capacity and costs must be >= 0"),
        (lambda: AwsRetryQuota(no_retry_increment=-1), "no_retry_increment must be >= 0"),
        (
            lambda: TokenBucketBudget(retry_cost=0),
            "deposit >= 0, retry_cost > 0 and max_tokens >= 0 are required",
        ),
        (
            lambda: TokenBucketBudget(initial_tokens=11),
            "initial_tokens must be within [0, max_tokens]",
        ),
        (
            lambda: EnvoyRetryBudget(budget_percent=101),
            "0 <= budget_percent <= 100 and min_retry_concurrency >= 0",
        ),
        (lambda: EnvoyRetryBudget().acquire(0.0, active_retries=-1), "active counts must be >= 0"),
    ],
)
def test_a_refused_budget_says_why(build: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        build()  # type: ignore[operator]
    assert str(info.value) == message


def test_zero_costs_and_capacity_are_allowed() -> None:
    free = AwsRetryQuota(capacity=0, retry_cost=0, timeout_retry_cost=0, no_retry_increment=0)
    assert free.acquire(0.0) and free.acquire(0.0, timeout=True) and free.available == 0
    free.on_success(0.0, False)
    assert free.available == 0


def test_the_aws_quota_refunds_a_plain_retry_unless_told_it_was_a_timeout() -> None:
    quota = AwsRetryQuota(capacity=100)
    assert quota.acquire(0.0, timeout=True) and quota.available == 90
    assert quota.acquire(0.0) and quota.available == 85
    quota.on_success(0.0, True)  # the last retry was a plain one: 5 back
    assert quota.available == 90
    quota.on_success(0.0, True, timeout=True)
    assert quota.available == 100


def test_envoy_counts_default_to_nothing_in_flight() -> None:
    assert EnvoyRetryBudget(min_retry_concurrency=1).acquire(0.0)  # 0 retries < 1
    assert not EnvoyRetryBudget(budget_percent=100, min_retry_concurrency=0).acquire(0.0)
