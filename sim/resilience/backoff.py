"""Retry policy: how many attempts and how long to wait between them (resilience4j Retry)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts include the first call, as in resilience4j's ``maxAttempts``.

    The n-th wait (n = 1 after the first failure) is ``wait * multiplier**(n-1)``, then
    randomised uniformly in ``[d(1-jitter), d(1+jitter)]``, then capped at ``max_wait``:
    resilience4j applies the cap after randomising.
    """

    max_attempts: int = 1
    wait: float = 0.5
    multiplier: float = 1.0
    max_wait: float | None = None
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts counts the first call, so it must be at least 1")
        if self.wait < 0 or self.multiplier < 1 or not 0 <= self.jitter <= 1:
            raise ValueError("wait >= 0, multiplier >= 1 and 0 <= jitter <= 1 are required")
        if self.max_wait is not None and self.max_wait < 0:
            raise ValueError("max_wait must be >= 0")

    def delay(self, retry: int, u: float = 0.5) -> float:
        """Wait before retry number ``retry`` (1-based); ``u`` in [0, 1) drives the jitter."""
        if retry < 1:
            raise ValueError("retry numbers start at 1 (the wait after the first failure)")
        base = self.wait * self.multiplier ** (retry - 1)
        if self.jitter:
            base *= 1 - self.jitter + 2 * self.jitter * u
        if self.max_wait is not None and base > self.max_wait:
            return self.max_wait
        return base
