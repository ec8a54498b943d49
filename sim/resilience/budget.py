"""Retry budgets: a shared allowance that stops retries from multiplying load in an outage.

One small protocol for every budget, driven by the caller:

* ``acquire(now, *, timeout, active_requests, active_retries) -> bool`` before each retry
  (never before a first attempt); ``False`` means give up instead of retrying.
* ``on_success(now, retried, *, timeout)`` when a request finally succeeds; ``retried``
  says whether it needed retries, ``timeout`` whether its last retry was granted after a
  timeout (the AWS quota refunds that retry's own cost).

Budgets ignore the arguments they do not need, so the engine can call any of them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

_ROUND: Final = 12  # decimal places kept, so that ten deposits of 0.1 make exactly 1.0


@runtime_checkable
class RetryBudget(Protocol):
    """What the engine asks a retry budget: may I retry now, and a request succeeded."""

    def acquire(
        self,
        now: float,
        *,
        timeout: bool = False,
        active_requests: int = 0,
        active_retries: int = 0,
    ) -> bool:
        """Ask for one retry; True grants it (and spends whatever the budget charges)."""
        ...

    def on_success(self, now: float, retried: bool, *, timeout: bool = False) -> None:
        """A request succeeded, after retries if ``retried``; budgets may refill on it."""
        ...


@dataclass(slots=True)
class UnlimitedBudget:
    """No budget at all: every retry the policy wants is granted (the plain N-retries case)."""

    def acquire(
        self,
        now: float,
        *,
        timeout: bool = False,
        active_requests: int = 0,
        active_retries: int = 0,
    ) -> bool:
        """Always grants: retries are bounded only by the retry policy."""
        return True

    def on_success(self, now: float, retried: bool, *, timeout: bool = False) -> None:
        """Nothing to refill."""


@dataclass(slots=True)
class AwsRetryQuota:
    """AWS SDK "standard" retry quota: 500 tokens; a retry costs 5, a retry after a timeout 10.

    A first-try success refunds 1, a success after retries refunds the cost of its last
    retry; the quota never exceeds its initial size. A retry is refused when the available
    tokens are below its cost (exactly the cost is enough), as in botocore and the Java SDK.
    """

    capacity: int = 500
    retry_cost: int = 5
    timeout_retry_cost: int = 10
    no_retry_increment: int = 1
    available: int = field(init=False)

    def __post_init__(self) -> None:
        if self.capacity < 0 or self.retry_cost < 0 or self.timeout_retry_cost < 0:
            raise ValueError("capacity and costs must be >= 0")
        if self.no_retry_increment < 0:
            raise ValueError("no_retry_increment must be >= 0")
        self.available = self.capacity

    def acquire(
        self,
        now: float,
        *,
        timeout: bool = False,
        active_requests: int = 0,
        active_retries: int = 0,
    ) -> bool:
        """Spend the retry's cost (10 after a timeout, else 5) if that many tokens are left."""
        cost = self.timeout_retry_cost if timeout else self.retry_cost
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def on_success(self, now: float, retried: bool, *, timeout: bool = False) -> None:
        """Refund 1 for a first-try success, else the last retry's cost; capped at capacity."""
        if retried:
            refund = self.timeout_retry_cost if timeout else self.retry_cost
        else:
            refund = self.no_retry_increment
        self.available = min(self.capacity, self.available + refund)


@dataclass(slots=True)
class TokenBucketBudget:
    """Brooker's adaptive retries: each success deposits ``deposit`` (0.1) token, up to
    ``max_tokens``; each retry spends ``retry_cost`` (1) and needs that many whole tokens.

    Below ~10 % failures it behaves like N retries; well above, retries are paid for by
    successes: about 0.1 retry per success, and none left at 100 % failure once the bucket is
    empty. ``max_tokens`` (10) and starting full are this project's choices: Brooker fixes
    neither.
    """

    deposit: float = 0.1
    retry_cost: float = 1.0
    max_tokens: float = 10.0
    initial_tokens: float | None = None
    tokens: float = field(init=False)

    def __post_init__(self) -> None:
        if self.deposit < 0 or self.retry_cost <= 0 or self.max_tokens < 0:
            raise ValueError("deposit >= 0, retry_cost > 0 and max_tokens >= 0 are required")
        start = self.max_tokens if self.initial_tokens is None else self.initial_tokens
        if not 0 <= start <= self.max_tokens:
            raise ValueError("initial_tokens must be within [0, max_tokens]")
        self.tokens = start

    def acquire(
        self,
        now: float,
        *,
        timeout: bool = False,
        active_requests: int = 0,
        active_retries: int = 0,
    ) -> bool:
        """Spend ``retry_cost`` tokens if the bucket holds at least that many."""
        if self.tokens < self.retry_cost:
            return False
        self.tokens = max(0.0, round(self.tokens - self.retry_cost, _ROUND))
        return True

    def on_success(self, now: float, retried: bool, *, timeout: bool = False) -> None:
        """Deposit ``deposit`` tokens for any success, first try or retry, up to the max."""
        self.tokens = min(self.max_tokens, round(self.tokens + self.deposit, _ROUND))


@dataclass(slots=True)
class EnvoyRetryBudget:
    """Envoy ``retry_budget``: a retry may start while active retries are below
    max(min_retry_concurrency, budget_percent % of active requests).

    As in Envoy, the percentage is truncated to an integer and ``active_requests`` counts
    active plus pending requests to the upstream (retries included). Stateless: the caller
    passes both counts.
    """

    budget_percent: float = 20.0
    min_retry_concurrency: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.budget_percent <= 100 or self.min_retry_concurrency < 0:
            raise ValueError("0 <= budget_percent <= 100 and min_retry_concurrency >= 0")

    def max_retries(self, active_requests: int) -> int:
        """Concurrent retries allowed with ``active_requests`` in flight (Envoy's ``max()``)."""
        by_percent = int(self.budget_percent / 100.0 * active_requests)
        return max(by_percent, self.min_retry_concurrency)

    def acquire(
        self,
        now: float,
        *,
        timeout: bool = False,
        active_requests: int = 0,
        active_retries: int = 0,
    ) -> bool:
        """Grant when ``active_retries`` (not counting this one) is below the limit."""
        if active_requests < 0 or active_retries < 0:
            raise ValueError("active counts must be >= 0")
        return active_retries < self.max_retries(active_requests)

    def on_success(self, now: float, retried: bool, *, timeout: bool = False) -> None:
        """Nothing to refill: the limit follows the live counts."""
