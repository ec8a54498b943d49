"""resilience4j RateLimiter (``AtomicRateLimiter``) on simulated time.

Time since the limiter's ``start`` is cut into cycles of ``limit_refresh_period``; each cycle
starts with ``limit_for_period`` permits (unused ones do not carry over). A caller that finds
none left reserves one from a later cycle, driving the count negative, and waits for it, as
long as that wait is at most ``timeout_duration`` (inclusive); otherwise it is refused and
reserves nothing. Like resilience4j, which counts integer nanoseconds, times are rounded to
the nanosecond so that cycle boundaries land exactly (0.3 s with 0.1 s cycles is cycle 3).

Defaults are resilience4j's own (``RateLimiterConfig.ofDefaults()``): 50 permits per 500 ns,
timeout 5 s. 50 per 500 ns is 10**8 permits/s, i.e. no limit for any shop: kept on purpose, so
that a configuration copied from resilience4j that omits a setting behaves as it does there
rather than being throttled by an invented default. Set the period for any real use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

NANOS: Final = 1_000_000_000
R4J_LIMIT_FOR_PERIOD: Final = 50
R4J_LIMIT_REFRESH_PERIOD: Final = 500e-9  # seconds (500 ns)
R4J_TIMEOUT_DURATION: Final = 5.0  # seconds


def _nanos(seconds: float) -> int:
    """Seconds to whole nanoseconds (resilience4j's unit), rounded to the nearest."""
    return round(seconds * NANOS)


@dataclass(slots=True)
class RateLimiter:
    """``limit_for_period`` permits per ``limit_refresh_period`` seconds, cycles aligned to
    ``start``; a caller waits at most ``timeout_duration`` seconds for a permit.
    """

    limit_for_period: int = R4J_LIMIT_FOR_PERIOD
    limit_refresh_period: float = R4J_LIMIT_REFRESH_PERIOD
    timeout_duration: float = R4J_TIMEOUT_DURATION
    start: float = 0.0
    _period: int = field(init=False, repr=False)
    _timeout: int = field(init=False, repr=False)
    _start: int = field(init=False, repr=False)
    _cycle: int = field(init=False, repr=False)
    _permissions: int = field(init=False, repr=False)
    _last: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.limit_for_period < 1:
            raise ValueError("limit_for_period must be at least 1")
        self._period = _nanos(self.limit_refresh_period)
        if self._period < 1:
            raise ValueError("limit_refresh_period must be at least 1 ns")
        if self.timeout_duration < 0:
            raise ValueError("timeout_duration must be >= 0")
        self._timeout = _nanos(self.timeout_duration)
        self._start = _nanos(self.start)
        self._cycle = 0
        self._permissions = self.limit_for_period
        self._last = self._start

    def _elapsed(self, now: float) -> int:
        """Nanoseconds since ``start``; time may not run backwards."""
        t = _nanos(now)
        if t < self._last:
            raise ValueError(f"time went backwards: {now} is before the start or the last call")
        self._last = t
        return t - self._start

    def _refreshed(self, elapsed: int) -> tuple[int, int]:
        """(cycle, permissions) at ``elapsed``: unused permits refill up to one period's worth."""
        cycle = elapsed // self._period
        permissions = self._permissions
        if cycle != self._cycle:
            permissions = min(
                permissions + (cycle - self._cycle) * self.limit_for_period,
                self.limit_for_period,
            )
        return cycle, permissions

    def _wait(self, elapsed: int, cycle: int, permissions: int, permits: int) -> int:
        """Nanoseconds until ``permits`` accumulate (resilience4j's nanosToWaitForPermission)."""
        if permissions >= permits:
            return 0
        to_next_cycle = (cycle + 1) * self._period - elapsed
        missing = permits - (permissions + self.limit_for_period)
        full_cycles = -(-missing // self.limit_for_period) if missing > 0 else 0
        return full_cycles * self._period + to_next_cycle

    def acquire(self, now: float, permits: int = 1) -> float | None:
        """Reserve ``permits``: the wait in seconds before they are granted (0.0 if at once),
        or None if that wait would exceed ``timeout_duration`` (nothing is then reserved).
        """
        if permits < 1:
            raise ValueError("permits must be at least 1")
        elapsed = self._elapsed(now)
        cycle, permissions = self._refreshed(elapsed)
        wait = self._wait(elapsed, cycle, permissions, permits)
        self._cycle = cycle
        if wait > self._timeout:
            self._permissions = permissions
            return None
        self._permissions = permissions - permits
        return wait / NANOS

    def available(self, now: float) -> int:
        """Permits left at ``now`` without reserving any (negative when some are reserved)."""
        t = _nanos(now)
        if t < self._last:
            raise ValueError(f"time went backwards: {now} is before the start or the last call")
        return self._refreshed(t - self._start)[1]
