"""A dependency call through a resilience set-up: timeout, retry with backoff, breaker.

Order of decoration as in resilience4j's default: Retry(CircuitBreaker(TimeLimiter(call))).
An open breaker fails the call fast and is not retried: waiting to hit it again would
only spend the customer's patience.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from sim.engine.breakers import Breaker
from sim.engine.dependency import DECLINED, SUCCESS, TIMEOUT, CallGen, DependencyRuntime
from sim.resilience import RetryPolicy
from sim.resilience.budget import RetryBudget

BREAKER_OPEN = "breaker_open"
ABANDONED = "abandoned"  # the customer left before the call could start


class GuardedDependency:
    """A dependency with the timeout, retry policy, budget and breaker of a configuration."""

    __slots__ = (
        "_jitter",
        "active",
        "breaker",
        "budget",
        "dependency",
        "env",
        "retries_denied",
        "retry",
        "retrying",
        "timeout",
    )

    def __init__(
        self,
        dependency: DependencyRuntime,
        timeout: float,
        retry: RetryPolicy,
        breaker: Breaker | None,
        jitter: Iterator[float],
        budget: RetryBudget | None = None,
    ) -> None:
        self.dependency = dependency
        self.env = dependency.env
        self.timeout = timeout
        self.retry = retry
        self.breaker = breaker
        self.budget = budget
        self._jitter = jitter
        self.active = 0  # calls in progress, first attempts and retries (Envoy's budget)
        self.retrying = 0  # of which are past their first attempt
        self.retries_denied = 0

    @property
    def name(self) -> str:
        return self.dependency.name

    def call(self, deadline: float = math.inf) -> CallGen:
        """Returns success, declined, a failure category, breaker_open or abandoned.

        ``deadline`` is when the waiting customer leaves: no attempt starts after it.
        """
        if self.retry.max_attempts == 1 and self.budget is None:
            return (yield from self._attempt(deadline))
        self.active += 1
        try:
            return (yield from self._with_retries(deadline))
        finally:
            self.active -= 1

    def _attempt(self, deadline: float) -> CallGen:
        env = self.env
        if env.now >= deadline:
            return ABANDONED
        breaker = self.breaker
        if breaker is None:
            return (yield from self.dependency.call(self.timeout))
        start = env.now
        if not breaker.allow(start):
            return BREAKER_OPEN
        generation = breaker.generation
        outcome = yield from self.dependency.call(self.timeout)
        breaker.record(env.now, outcome, env.now - start, generation)
        return outcome

    def _with_retries(self, deadline: float) -> CallGen:
        env = self.env
        retry = self.retry
        budget = self.budget
        started = env.now
        outcome = yield from self._attempt(deadline)
        waits: Iterator[float] | None = None
        retried = False
        last = outcome
        try:
            for attempt in range(2, retry.max_attempts + 1):
                if outcome is SUCCESS or outcome is DECLINED:
                    break
                if not retry.should_retry(outcome):
                    break
                if waits is None:
                    waits = retry.delays(self._jitter)
                wait = next(waits)
                if not retry.allows(attempt, started, env.now, wait):
                    break
                if budget is not None and not budget.acquire(
                    env.now,
                    timeout=outcome == TIMEOUT,
                    active_requests=self.active,
                    active_retries=self.retrying,
                ):
                    self.retries_denied += 1
                    break
                if not retried:
                    retried = True
                    self.retrying += 1
                yield env.timeout(wait)
                last = outcome
                outcome = yield from self._attempt(deadline)
                if outcome is ABANDONED:
                    break
            if budget is not None and (outcome is SUCCESS or outcome is DECLINED):
                budget.on_success(env.now, retried, timeout=retried and last == TIMEOUT)
        finally:
            if retried:
                self.retrying -= 1
        return outcome
