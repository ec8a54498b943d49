"""Building the pieces of a stage's resilience stack from its configuration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from sim.config.configuration import RetrySpec, SemaphoreBulkhead, StagePolicy
from sim.config.model import ShopModel
from sim.dists import stream, vector_sampler
from sim.engine.pool import SlotPool, ThreadPoolSlots
from sim.resilience import RetryPolicy
from sim.resilience.budget import AwsRetryQuota, EnvoyRetryBudget, RetryBudget, TokenBucketBudget
from sim.resilience.ratelimit import RateLimiter

NO_RETRY = RetryPolicy()
BUDGETS: dict[str, Callable[[], RetryBudget]] = {
    "aws": AwsRetryQuota,
    "token_bucket": TokenBucketBudget,
    "envoy": EnvoyRetryBudget,
}


def stack_setup(env: simpy.Environment, policy: StagePolicy) -> dict[str, Any]:
    """Bulkhead, rate limiter and hedging of a stage policy, for GuardedDependency."""
    out: dict[str, Any] = {}
    bulkhead = policy.bulkhead
    if isinstance(bulkhead, SemaphoreBulkhead):
        out["bulkhead"] = SlotPool(env, bulkhead.max_concurrent_calls)
        out["bulkhead_wait"] = bulkhead.max_wait_duration
    elif bulkhead is not None:
        out["bulkhead"] = ThreadPoolSlots(
            env,
            bulkhead.core_thread_pool_size,
            bulkhead.max_thread_pool_size,
            bulkhead.queue_capacity,
        )
    if policy.rate_limiter is not None:
        spec = policy.rate_limiter
        out["limiter"] = RateLimiter(
            spec.limit_for_period, spec.limit_refresh_period, spec.timeout_duration
        )
    if policy.hedging is not None:
        out["hedging"] = (policy.hedging.max_hedged_attempts, policy.hedging.delay)
    return out


def initial_stock(shop: ShopModel, seed: int, replication: int) -> list[int] | None:
    """Units per product at the start (None: unlimited), the same for every configuration."""
    catalogue = shop.catalogue
    if catalogue is None:
        return None
    units = vector_sampler(catalogue.stock)(stream(seed, replication, "stock"), catalogue.products)
    return [max(0, round(u)) for u in units.tolist()]


def retry_setup(spec: RetrySpec | None) -> tuple[RetryPolicy, RetryBudget | None]:
    """The retry policy and budget of a stage's configuration (none: a single attempt)."""
    if spec is None:
        return NO_RETRY, None
    policy = RetryPolicy(
        max_attempts=spec.attempts,
        wait=spec.wait,
        multiplier=spec.multiplier,
        max_wait=spec.max_wait,
        jitter=spec.jitter,
        backoff=spec.backoff,
        retry_on=frozenset(spec.retry_on),
        deadline=spec.deadline,
    )
    return policy, BUDGETS[spec.budget]() if spec.budget else None
