"""A pool of concurrent slots with a FIFO queue whose waiters give up at a deadline.

Lighter than ``simpy.Resource`` on the hot path: a free slot is taken with no event at
all, and a waiter that reaches its deadline is dropped lazily instead of being searched
for in the queue. Used for checkout workers (deadline: the customer's patience) and for
dependency capacity (deadline: the caller's timeout).
"""

from __future__ import annotations

import math
from collections import deque
from functools import partial

import simpy

from sim.engine.clock import sleep


class SlotPool:
    __slots__ = ("_waiting", "busy", "capacity", "env", "queued", "wait_total")

    def __init__(self, env: simpy.Environment, capacity: float = math.inf) -> None:
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self.queued = 0  # entries that will still take a slot (expired ones may linger)
        self.wait_total = 0.0  # seconds callers queued for a slot (the queueing theory tests)
        self._waiting: deque[tuple[simpy.Event, float, float | None]] = deque()

    def try_acquire(self) -> bool:
        """Take a slot if one is free, without any event."""
        if self.busy < self.capacity:
            self.busy += 1
            return True
        return False

    def wait(self, deadline: float, work: float | None = None) -> simpy.Event:
        """An event that fires with True when a slot is handed over, False at ``deadline``.

        With ``work``, the request stays queued after its caller gave up and, once its turn
        comes, occupies a slot for ``work`` seconds: a server that cannot cancel.
        """
        env = self.env
        event = env.event()
        self._waiting.append((event, env.now, work))
        self.queued += 1
        if deadline != math.inf:
            sleep(env, max(0.0, deadline - env.now)).callbacks.append(
                partial(self._expire, event, work is None)
            )
        return event

    def release(self) -> None:
        """Give a slot back: straight to the first live waiter, if any."""
        if self.busy > self.capacity:  # capacity was cut while this slot was busy
            self.busy -= 1
            return
        if self.queued:
            self._hand_over()
        else:
            self.busy -= 1

    def set_capacity(self, capacity: float) -> None:
        """Change the number of slots; waiters take newly freed ones at once."""
        self.capacity = capacity
        while self.queued and self.busy < self.capacity:
            self.busy += 1
            self._hand_over()

    def _hand_over(self) -> None:
        waiting = self._waiting
        while waiting:
            event, since, work = waiting.popleft()
            if not event.triggered:
                self.queued -= 1
                self.wait_total += self.env.now - since
                event.succeed(True)
                return
            if work is not None:
                # Work whose caller already left: the slot is spent on it all the same.
                self.queued -= 1
                sleep(self.env, work).callbacks.append(lambda _: self.release())
                return
        self.busy -= 1  # defensive: queued said a live waiter existed

    def _expire(self, event: simpy.Event, drop: bool, _deadline: simpy.Event) -> None:
        if not event.triggered:
            if drop:
                self.queued -= 1
            event.succeed(False)


class ThreadPoolSlots:
    """A Java ThreadPoolExecutor's admission rule, as resilience4j's thread-pool bulkhead
    uses it: a core thread if one is free, else the queue, else an extra thread up to the
    maximum, else rejection. Extra threads are kept (no keep-alive), a slight overstatement
    of capacity after a burst."""

    __slots__ = ("_pool", "core", "queue_capacity", "threads")

    def __init__(self, env: simpy.Environment, core: int, maximum: int, queue: int) -> None:
        self._pool = SlotPool(env, core)
        self.core = core
        self.threads = maximum
        self.queue_capacity = queue

    def try_acquire(self) -> bool:
        return self._pool.try_acquire()

    def wait(self) -> simpy.Event | None:
        """An event granting a thread later, or None when the call is rejected."""
        pool = self._pool
        if pool.queued < self.queue_capacity:
            return pool.wait(math.inf)
        if pool.capacity < self.threads:
            # A new thread runs the new task; queued ones keep waiting (Java's rule).
            pool.capacity += 1
            pool.busy += 1
            return pool.env.event().succeed(True)
        return None

    def release(self) -> None:
        self._pool.release()
