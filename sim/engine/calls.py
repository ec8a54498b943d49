"""A dependency call through a resilience stack: retry, hedging, breaker, rate limiter,
time limiter (the per-attempt timeout) and bulkhead, outermost first.

The default order is resilience4j's: Retry(CircuitBreaker(RateLimiter(TimeLimiter(
Bulkhead(call))))). An open breaker fails the call fast and is not retried ("breaker_open"
is in no retry_on list): waiting to hit it again would only spend the customer's patience.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from functools import partial
from typing import Any

import simpy

from sim.engine.breaker_factory import Breaker
from sim.engine.clock import Step, spawn
from sim.engine.dependency import CallGen, DependencyRuntime
from sim.engine.pool import SlotPool, ThreadPoolSlots
from sim.resilience import RetryPolicy
from sim.resilience.budget import RetryBudget
from sim.resilience.outcomes import (
    ABANDONED,
    ANSWERED,
    BREAKER_OPEN,
    CANCELLED,
    REJECTED,
    TIMEOUT,
)
from sim.resilience.ratelimit import RateLimiter

DEFAULT_LAYERS = ("retry", "hedging", "circuit_breaker", "rate_limiter", "time_limiter", "bulkhead")


class GuardedDependency:
    """A dependency with the resilience stack of one stage of one configuration.

    The common stack (retry, breaker, timeout) runs on a short path; any bulkhead, rate
    limiter, hedging or a custom order runs through the general chain of layers.
    """

    __slots__ = (
        "_general",
        "_jitter",
        "active",
        "breaker",
        "budget",
        "bulkhead",
        "bulkhead_wait",
        "call",
        "dependency",
        "env",
        "hedging",
        "layers",
        "limiter",
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
        *,
        layers: tuple[str, ...] = DEFAULT_LAYERS,
        bulkhead: SlotPool | ThreadPoolSlots | None = None,
        bulkhead_wait: float = 0.0,
        limiter: RateLimiter | None = None,
        hedging: tuple[int, float] | None = None,
    ) -> None:
        self.dependency = dependency
        self.env = dependency.env
        self.breaker = breaker
        self._jitter = jitter
        self.bulkhead = bulkhead
        self.bulkhead_wait = bulkhead_wait
        self.limiter = limiter
        self.hedging = hedging  # (extra attempts, delay)
        self.layers = layers
        self._general = (
            bulkhead is not None
            or limiter is not None
            or hedging is not None
            or layers != DEFAULT_LAYERS
        )
        self.set_policy(timeout, retry, budget)
        self.active = 0  # calls in progress, first attempts and retries (Envoy's budget)
        self.retrying = 0  # of which are past their first attempt

    @property
    def name(self) -> str:
        return self.dependency.name

    def set_policy(self, timeout: float, retry: RetryPolicy, budget: RetryBudget | None) -> None:
        """The per-attempt timeout, retry policy and budget (at the start, or changed at run
        time), and with them which generator ``call`` hands out.

        ``call(deadline=inf, ledger=None)`` is a sub-process returning success, declined,
        a failure category, breaker_open or abandoned; ``deadline`` is when the waiting
        customer leaves: no attempt starts after it. It is chosen here, once, so the common
        stacks pay for no dispatching call and no extra generator level: one attempt with
        nothing around it is the dependency's own call, with a breaker ``_attempt``.
        """
        self.timeout = timeout
        self.retry = retry
        self.budget = budget
        single = not self._general and retry.max_attempts == 1 and budget is None
        self.call: Callable[..., CallGen]
        if single and self.breaker is None:
            self.call = partial(self.dependency.call, timeout)
        elif single:
            self.call = self._attempt
        else:
            self.call = self._chained

    def _chained(self, deadline: float = math.inf, ledger: list[int] | None = None) -> CallGen:
        """``call`` through retries, or through the general chain of layers."""
        if self._general:
            return self._layer(0, deadline, math.inf, ledger)
        return self._retry(deadline, lambda: self._attempt(deadline, ledger))

    # -- short path ---------------------------------------------------------------------
    def _attempt(self, deadline: float = math.inf, ledger: list[int] | None = None) -> CallGen:
        env = self.env
        start = env.now
        if start >= deadline:
            return ABANDONED
        breaker = self.breaker
        if breaker is None:
            return (yield from self.dependency.call(self.timeout, ledger=ledger))
        if not breaker.allow(start):
            return BREAKER_OPEN
        generation = breaker.generation
        outcome = yield from self.dependency.call(self.timeout, ledger=ledger)
        now = env.now
        breaker.record(now, outcome, now - start, generation)
        return outcome

    # -- layers ---------------------------------------------------------------------------
    def _retry(self, deadline: float, attempt: Callable[[], CallGen]) -> CallGen:
        """Attempts with backoff, within the retry policy's deadline and budget."""
        env = self.env
        retry = self.retry
        budget = self.budget
        started = env.now
        self.active += 1
        outcome = yield from attempt()
        waits: Iterator[float] | None = None
        retried = False
        last = outcome
        try:
            for number in range(2, retry.max_attempts + 1):
                if outcome in ANSWERED or outcome == ABANDONED:
                    break
                if not retry.should_retry(outcome):
                    break
                if waits is None:
                    waits = retry.delays(self._jitter)
                wait = next(waits)
                if not retry.allows(number, started, env.now, wait):
                    break
                if budget is not None and not budget.acquire(
                    env.now,
                    timeout=outcome == TIMEOUT,
                    active_requests=self.active,
                    active_retries=self.retrying,
                ):
                    break
                if not retried:
                    retried = True
                    self.retrying += 1
                if env.now + wait >= deadline:
                    # The customer leaves during the wait: free the worker when they do.
                    yield float(max(0.0, deadline - env.now))
                    outcome = ABANDONED
                    break
                yield float(wait)  # a plain delay: a task takes exactly a float
                last = outcome
                outcome = yield from attempt()
            if budget is not None and outcome in ANSWERED:
                budget.on_success(env.now, retried, timeout=retried and last == TIMEOUT)
        finally:
            self.active -= 1
            if retried:
                self.retrying -= 1
        return outcome

    def _layer(
        self, index: int, deadline: float, until: float, ledger: list[int] | None = None
    ) -> CallGen:
        """Layer ``index`` of the stack around the rest; ``until``: the time limiter's end."""
        env = self.env
        if index == len(self.layers):
            if env.now >= deadline:
                return ABANDONED
            if env.now >= until:
                return TIMEOUT
            remaining = min(self.timeout, until - env.now)
            return (yield from self.dependency.call(remaining, ledger=ledger))
        layer = self.layers[index]
        inner = index + 1
        if layer == "retry":
            return (
                yield from self._retry(
                    deadline, lambda: self._layer(inner, deadline, until, ledger)
                )
            )
        if layer == "time_limiter":
            return (
                yield from self._layer(inner, deadline, min(until, env.now + self.timeout), ledger)
            )
        if layer == "circuit_breaker" and self.breaker is not None:
            breaker = self.breaker
            start = env.now
            if start >= deadline:
                return ABANDONED  # never take a permit for a customer who has left
            if not breaker.allow(start):
                return BREAKER_OPEN
            generation = breaker.generation
            outcome = yield from self._layer(inner, deadline, until, ledger)
            # A call abandoned inside the breaker hands its half-open permit back.
            result = CANCELLED if outcome == ABANDONED else outcome
            breaker.record(env.now, result, env.now - start, generation)
            return outcome
        if layer == "rate_limiter" and self.limiter is not None:
            wait = self.limiter.acquire(env.now)
            if wait is None:
                return REJECTED
            if wait > 0:
                if env.now + wait >= until:
                    yield float(max(0.0, until - env.now))
                    return TIMEOUT
                yield float(wait)
            return (yield from self._layer(inner, deadline, until, ledger))
        if layer == "bulkhead" and self.bulkhead is not None:
            return (yield from self._bulkhead(inner, deadline, until, ledger))
        if layer == "hedging" and self.hedging is not None:
            return (yield from self._hedge(inner, deadline, until, ledger))
        return (yield from self._layer(inner, deadline, until, ledger))

    def _bulkhead(
        self, inner: int, deadline: float, until: float, ledger: list[int] | None
    ) -> CallGen:
        env = self.env
        slots = self.bulkhead
        assert slots is not None
        if not slots.try_acquire():
            if isinstance(slots, SlotPool):
                if self.bulkhead_wait <= 0:
                    return REJECTED
                limit = env.now + self.bulkhead_wait
                granted = yield slots.wait(min(limit, until, deadline))
                if not granted:
                    if deadline <= min(limit, until):
                        return ABANDONED
                    return TIMEOUT if until <= limit else REJECTED
            else:
                event = slots.wait()
                if event is None:
                    return REJECTED
                yield event
        try:
            return (yield from self._layer(inner, deadline, until, ledger))
        finally:
            slots.release()

    def _hedge(
        self, inner: int, deadline: float, until: float, ledger: list[int] | None
    ) -> CallGen:
        """Polly hedging: launch another attempt after ``delay`` without an answer (or at
        once on a failure); the first success or decline wins, losers finish unheeded."""
        env = self.env
        assert self.hedging is not None
        extra, delay = self.hedging
        finished: list[str] = []
        wake: list[simpy.Event] = []

        def attempt() -> Generator[Step, Any, None]:
            outcome = yield from self._layer(inner, deadline, until, ledger)
            won = any(o in ANSWERED for o in finished)
            if won and ledger is not None and outcome in ANSWERED:
                ledger.append(1)  # a losing attempt that went through all the same
            finished.append(outcome)
            if wake and not wake[-1].triggered:
                wake[-1].succeed()

        launched = 1
        spawn(env, attempt())
        while True:
            for outcome in finished:
                if outcome in ANSWERED:
                    return outcome
            if len(finished) == launched:
                if launched > extra or finished[-1] == ABANDONED:
                    return finished[-1]
                if env.now >= deadline:
                    return ABANDONED  # no new attempt for a customer who has left
                launched += 1  # every attempt so far failed: hedge at once
                spawn(env, attempt())
                continue
            wake.append(env.event())
            if launched <= extra and delay >= 0 and env.now + delay < deadline:
                # A full SimPy event: raced against the attempts' wake-up with ``|``.
                yield wake[-1] | env.timeout(delay)
                if not wake[-1].triggered:
                    launched += 1
                    spawn(env, attempt())
            else:
                yield wake[-1]
