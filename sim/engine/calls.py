"""A dependency call through a resilience set-up: timeout, retry with backoff, breaker.

Order of decoration as in resilience4j's default: Retry(CircuitBreaker(TimeLimiter(call))).
An open breaker fails the call fast and is not retried: waiting to hit it again would
only spend the customer's patience.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from sim.engine.dependency import DECLINED, SUCCESS, CallGen, DependencyRuntime
from sim.resilience import CircuitBreaker, RetryPolicy

BREAKER_OPEN = "breaker_open"
ABANDONED = "abandoned"  # the customer left before the call could start


class GuardedDependency:
    """A dependency with the timeout, retry policy and breaker of one configuration."""

    __slots__ = ("_jitter", "breaker", "dependency", "env", "retry", "timeout")

    def __init__(
        self,
        dependency: DependencyRuntime,
        timeout: float,
        retry: RetryPolicy,
        breaker: CircuitBreaker | None,
        jitter: Iterator[float],
    ) -> None:
        self.dependency = dependency
        self.env = dependency.env
        self.timeout = timeout
        self.retry = retry
        self.breaker = breaker
        self._jitter = jitter

    @property
    def name(self) -> str:
        return self.dependency.name

    def call(self, deadline: float = math.inf) -> CallGen:
        """Returns success, declined, a failure category, breaker_open or abandoned.

        ``deadline`` is when the waiting customer leaves: no attempt starts after it.
        """
        env = self.env
        dependency = self.dependency
        breaker = self.breaker
        retry = self.retry
        outcome = ABANDONED
        for attempt in range(1, retry.max_attempts + 1):
            if attempt > 1:
                yield env.timeout(retry.delay(attempt - 1, next(self._jitter)))
            if env.now >= deadline:
                return ABANDONED
            if breaker is None:
                outcome = yield from dependency.call(self.timeout)
            else:
                start = env.now
                if not breaker.allow(start):
                    return BREAKER_OPEN
                generation = breaker.generation
                outcome = yield from dependency.call(self.timeout)
                breaker.record(env.now, outcome, env.now - start, generation)
            if outcome is SUCCESS or outcome is DECLINED:
                return outcome
        return outcome
