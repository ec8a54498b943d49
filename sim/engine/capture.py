"""Asynchronous order capture: a persistent queue between acceptance and processing,
drained by competing consumers. Checkout only reserves stock and queues the order; a
consumer charges and records it later, retrying while payment is down, unless the customer
cancels first."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import simpy

from sim.engine.clock import Step, sleep, spawn


class Fifo:
    """``simpy.Store`` as the capture queue uses it, event for event, without the general
    put and get events. As in SimPy, a ``put`` serves a waiting taker only when its own
    event is processed, and each put or ``get`` serves at most the first taker in line;
    ``get`` returns an event that fires with the item."""

    __slots__ = ("env", "items", "takers")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.items: deque[int] = deque()
        self.takers: deque[simpy.Event] = deque()

    def put(self, item: int) -> None:
        self.items.append(item)
        sleep(self.env, 0.0).callbacks.append(self._serve)  # SimPy's put event

    def get(self) -> simpy.Event:
        event = self.env.event()
        self.takers.append(event)
        self._serve()
        return event

    def _serve(self, _put: simpy.Event | None = None) -> None:
        if self.takers and self.items:
            self.takers.popleft().succeed(self.items.popleft())


class CaptureQueue:
    """FIFO of order ids with a capacity; consumer ``j`` of ``consumers`` runs
    ``process(i, j)`` on each order it takes."""

    def __init__(
        self,
        env: simpy.Environment,
        capacity: int,
        consumers: int,
        process: Callable[[int, int], Generator[Step, Any, bool]],
        retry_delay: float,
    ) -> None:
        self.env = env
        self.capacity = capacity
        self.fifo = Fifo(env)
        self.process = process
        self.retry_delay = retry_delay
        self.max_depth = 0
        self.busy = 0
        for j in range(consumers):
            spawn(env, self._consume(j))

    @property
    def depth(self) -> int:
        return len(self.fifo.items)

    def offer(self, i: int) -> bool:
        """Queue order ``i``; False (rejected) when the queue is full. An order a consumer
        is working on still holds its place: it is acknowledged only once settled."""
        if len(self.fifo.items) + self.busy >= self.capacity:
            return False
        self.fifo.put(i)
        self.max_depth = max(self.max_depth, len(self.fifo.items))
        return True

    def _consume(self, consumer: int) -> Generator[Step, Any, None]:
        fifo = self.fifo
        while True:
            i = yield fifo.get()
            self.busy += 1
            done = yield from self.process(i, consumer)
            self.busy -= 1
            if not done:
                # The charge failed for a technical reason: the order goes back to the
                # queue after its own retry delay; it keeps its place in the capacity.
                self.busy += 1
                sleep(self.env, self.retry_delay).callbacks.append(partial(self._requeue, i))

    def _requeue(self, i: int, _retry: simpy.Event) -> None:
        self.busy -= 1
        self.fifo.put(i)
