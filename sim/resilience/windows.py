"""Where a breaker keeps its recent outcomes: one class per library's window.

Each window answers ``add(now, failed, slow)`` and ``counts(now) -> (calls, failures, slow)``
for the calls it still holds at ``now``. Time is simulated seconds.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol


class Window(Protocol):
    def add(self, now: float, failed: bool, slow: bool) -> None: ...

    def counts(self, now: float) -> tuple[int, int, int]: ...


class ConsecutiveWindow:
    """pybreaker, circuitbreaker, Envoy consecutive_5xx: failures in a row; a success resets."""

    __slots__ = ("calls", "failures")

    def __init__(self) -> None:
        self.calls = 0
        self.failures = 0

    def add(self, now: float, failed: bool, slow: bool) -> None:
        self.calls += 1
        self.failures = self.failures + 1 if failed else 0

    def counts(self, now: float) -> tuple[int, int, int]:
        return self.calls, self.failures, 0


class CountWindow:
    """resilience4j COUNT_BASED: a ring of the last ``size`` outcomes."""

    __slots__ = ("_failed", "_pos", "_slow", "calls", "failures", "size", "slow")

    def __init__(self, size: int) -> None:
        self.size = size
        self._failed = [False] * size
        self._slow = [False] * size
        self._pos = 0
        self.calls = 0
        self.failures = 0
        self.slow = 0

    def add(self, now: float, failed: bool, slow: bool) -> None:
        pos = self._pos
        if self.calls == self.size:
            self.failures -= self._failed[pos]
            self.slow -= self._slow[pos]
        else:
            self.calls += 1
        self._failed[pos] = failed
        self._slow[pos] = slow
        self.failures += failed
        self.slow += slow
        self._pos = (pos + 1) % self.size

    def counts(self, now: float) -> tuple[int, int, int]:
        return self.calls, self.failures, self.slow


class _Buckets:
    """Buckets keyed by an integer, expired from the oldest, with running totals."""

    __slots__ = ("_buckets", "calls", "failures", "slow")

    def __init__(self) -> None:
        self._buckets: deque[list[int]] = deque()  # [key, calls, failures, slow]
        self.calls = self.failures = self.slow = 0

    def add(self, key: int, failed: bool, slow: bool) -> None:
        buckets = self._buckets
        if not buckets or buckets[-1][0] != key:
            buckets.append([key, 0, 0, 0])
        bucket = buckets[-1]
        bucket[1] += 1
        bucket[2] += failed
        bucket[3] += slow
        self.calls += 1
        self.failures += failed
        self.slow += slow

    def expire(self, oldest_key: int) -> None:
        """Drop buckets whose key is below ``oldest_key``."""
        buckets = self._buckets
        while buckets and buckets[0][0] < oldest_key:
            _, calls, failures, slow = buckets.popleft()
            self.calls -= calls
            self.failures -= failures
            self.slow -= slow

    def totals(self, below_key: int | None = None) -> tuple[int, int, int]:
        """Totals, leaving out buckets with key >= ``below_key`` when given."""
        if below_key is None:
            return self.calls, self.failures, self.slow
        calls, failures, slow = self.calls, self.failures, self.slow
        for key, c, f, s in reversed(self._buckets):
            if key < below_key:
                break
            calls, failures, slow = calls - c, failures - f, slow - s
        return calls, failures, slow


class TimeWindow:
    """resilience4j TIME_BASED: ``seconds`` one-second buckets aligned to whole seconds."""

    __slots__ = ("_buckets", "seconds")

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._buckets = _Buckets()

    def add(self, now: float, failed: bool, slow: bool) -> None:
        second = math.floor(now)
        self._buckets.expire(second - self.seconds + 1)
        self._buckets.add(second, failed, slow)

    def counts(self, now: float) -> tuple[int, int, int]:
        self._buckets.expire(math.floor(now) - self.seconds + 1)
        return self._buckets.totals()


class SamplingWindow:
    """Polly v8: ``duration`` split into 10 buckets, each starting at the first call after
    the previous one ended; one single bucket when ``duration`` is under 200 ms."""

    __slots__ = ("_windows", "bucket", "duration")

    def __init__(self, duration: float) -> None:
        self.duration = duration
        self.bucket = duration / 10 if duration >= 0.2 else duration
        self._windows: deque[list[float]] = deque()  # [started_at, calls, failures]

    def _current(self, now: float) -> list[float]:
        windows = self._windows
        if not windows or now - windows[-1][0] >= self.bucket:
            windows.append([now, 0, 0])
        while now - windows[0][0] >= self.duration:
            windows.popleft()
        return windows[-1]

    def add(self, now: float, failed: bool, slow: bool) -> None:
        window = self._current(now)
        window[1] += 1
        window[2] += failed

    def counts(self, now: float) -> tuple[int, int, int]:
        self._current(now)
        return (
            int(sum(w[1] for w in self._windows)),
            int(sum(w[2] for w in self._windows)),
            0,
        )


class RollingWindow:
    """Hystrix: ``duration`` of rolling buckets of ``bucket`` seconds aligned to the epoch;
    read through snapshots, so ``counts(t)`` only sees buckets that ended by ``t``."""

    __slots__ = ("_buckets", "bucket", "count")

    def __init__(self, duration: float, bucket: float) -> None:
        self.bucket = bucket
        self.count = max(1, round(duration / bucket))
        self._buckets = _Buckets()

    def _key(self, now: float) -> int:
        return math.floor(now / self.bucket + 1e-9)

    def add(self, now: float, failed: bool, slow: bool) -> None:
        key = self._key(now)
        self._buckets.expire(key - self.count)
        self._buckets.add(key, failed, slow)

    def counts(self, now: float) -> tuple[int, int, int]:
        key = self._key(now)
        self._buckets.expire(key - self.count)
        return self._buckets.totals(below_key=key)


class AbsoluteWindow:
    """The paper's rule: how many failures within the last ``duration`` seconds."""

    __slots__ = ("_failures", "calls", "duration")

    def __init__(self, duration: float) -> None:
        self.duration = duration
        self._failures: deque[float] = deque()
        self.calls = 0

    def add(self, now: float, failed: bool, slow: bool) -> None:
        self.calls += 1
        if failed:
            self._failures.append(now)

    def counts(self, now: float) -> tuple[int, int, int]:
        failures = self._failures
        while failures and failures[0] <= now - self.duration:
            failures.popleft()
        return self.calls, len(failures), 0


def clock_ms(now: float) -> int:
    """``Date.now()`` of a Node.js process at simulated ``now``: whole milliseconds, the
    float error of an instant that is a whole millisecond absorbed."""
    return math.floor(now * 1000 + 1e-6)


class OpossumWindow:
    """opossum's Status: ``count`` buckets of ``bucket_ms`` rotated by a timer started with
    the breaker (at time 0); ``fires`` counts every call, rejected ones included, when it
    is made, ``failures`` each failure when it ends. Never cleared by a transition."""

    __slots__ = ("_buckets", "bucket_ms", "count", "failures", "fires")

    def __init__(self, bucket_ms: int, count: int) -> None:
        self.bucket_ms = bucket_ms
        self.count = count
        self._buckets: deque[list[int]] = deque()  # [key, fires, failures]
        self.fires = self.failures = 0

    def _bucket(self, now: float) -> list[int]:
        """The current bucket, the ones rotated out of the window dropped."""
        key = clock_ms(now) // self.bucket_ms
        buckets = self._buckets
        while buckets and buckets[0][0] <= key - self.count:
            _, fires, failures = buckets.popleft()
            self.fires -= fires
            self.failures -= failures
        if not buckets or buckets[-1][0] != key:
            buckets.append([key, 0, 0])
        return buckets[-1]

    def fire(self, now: float) -> None:
        """One call made (opossum's 'fire' event)."""
        self._bucket(now)[1] += 1
        self.fires += 1

    def add(self, now: float, failed: bool, slow: bool) -> None:
        """One call ended; only failures are counted (opossum's 'failure' event)."""
        if failed:
            self._bucket(now)[2] += 1
            self.failures += 1

    def counts(self, now: float) -> tuple[int, int, int]:
        """(fires, failures, 0) in the buckets the window holds at ``now``."""
        self._bucket(now)
        return self.fires, self.failures, 0


class CockatielSamplingWindow:
    """cockatiel's SamplingBreaker: max(5, ceil(duration / 1 s)) windows of
    round(duration / count) ms in a ring; a result moves to the next window (one step, even
    after a long pause) when the current one is ``window_ms`` old. Never cleared except
    by ``reset`` (a half-open success)."""

    __slots__ = ("_current", "_failures", "_started", "_successes", "duration_ms", "window_ms")

    def __init__(self, duration_ms: float) -> None:
        count = max(5, math.ceil(duration_ms / 1000))
        self.window_ms = math.floor(duration_ms / count + 0.5)  # JavaScript's Math.round
        self.duration_ms = self.window_ms * count
        self._started = [0] * count
        self._failures = [0] * count
        self._successes = [0] * count
        self._current = 0

    @property
    def totals(self) -> tuple[int, int]:
        """(successes, failures) over the ring."""
        return sum(self._successes), sum(self._failures)

    def reset(self) -> None:
        count = len(self._started)
        self._started = [0] * count
        self._failures = [0] * count
        self._successes = [0] * count

    def add(self, now: float, failed: bool, slow: bool) -> None:
        ms = clock_ms(now)
        current = self._current
        if ms - self._started[current] >= self.window_ms:
            current = self._current = (current + 1) % len(self._started)
            self._started[current] = ms
            self._failures[current] = 0
            self._successes[current] = 0
        if failed:
            self._failures[current] += 1
        else:
            self._successes[current] += 1

    def counts(self, now: float) -> tuple[int, int, int]:
        successes, failures = self.totals
        return successes + failures, failures, 0
