"""Lighter stand-ins for ``simpy.Process`` on the hot path: one per order, and the chain
of arrivals that starts them.

``env.process(gen)`` schedules an event to start the generator and another when it ends,
and resumes it through a general loop (interrupts, failed events, the active process). An
order needs none of that: nothing waits for it, nothing interrupts it, and no engine event
ever fails. A ``_Task`` runs the generator at once, up to its first ``yield``, and
resumes it from each event's callbacks: two SimPy events fewer per order. A delay the
order yields (a number) costs no event object at all: the task itself goes on the queue.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL

from sim.engine.clock import Step


class _Task:
    """One order's generator, resumed from event callbacks. A delay it yields is waited
    without an event: the task puts itself on the queue, as the event it will wake on."""

    __slots__ = ("_send", "callbacks", "env", "wake", "wakes")
    _ok = True  # as an event: never fails, carries no value
    _value = None

    def __init__(self, env: simpy.Environment, generator: Generator[Step, Any, Any]) -> None:
        self.env = env
        self._send = generator.send
        self.wake = self.resume  # one bound method for every wait
        self.wakes = (self.wake,)  # the callbacks of the task as its own wake-up event

    def resume(self, event: Any) -> None:
        """Send ``event``'s value in; wait on whatever the generator yields next."""
        # _value is what simpy.Process itself sends: engine events never fail.
        value = event._value
        send = self._send
        while True:
            try:
                target = send(value)
            except StopIteration:
                del self.wake, self.wakes  # break the cycle: the task is freed at once
                return
            if target.__class__ is float:
                # A delay: scheduled as sleep() would, with this task as the event.
                env = self.env
                self.callbacks = self.wakes
                heappush(env._queue, (env.now + target, NORMAL, next(env._eid), self))  # type: ignore[misc]
                return
            callbacks = target.callbacks  # type: ignore[union-attr]  # an event, then
            if callbacks is not None:
                callbacks.append(self.wake)
                return
            value = target._value  # type: ignore[union-attr]  # processed: carry on, as SimPy


class Arrivals:
    """Starts each customer's order at its arrival instant: a chain of wake-ups, no process.

    Each arrival schedules the next one before its orders start, as the arrival process
    did (it started the order, then waited), so same-instant events keep their order. Like
    a task, the chain is its own wake-up event on the queue.
    """

    __slots__ = ("callbacks", "env", "next", "start", "times", "wakes")
    _ok = True  # as an event: never fails, carries no value
    _value = None

    def __init__(
        self,
        env: simpy.Environment,
        times: Sequence[float],
        start: Callable[[int], Generator[Step, Any, Any]],
    ) -> None:
        self.env = env
        self.times = times
        self.start = start  # order i's process
        self.next = 0
        self.wakes: tuple[Callable[[object], None], ...] = (self._arrive,)
        if times:
            self._wake_after(max(0.0, times[0] - env.now))

    def _wake_after(self, delay: float) -> None:
        """Put the chain on the queue ``delay`` from now, as ``sleep`` would."""
        env = self.env
        self.callbacks = self.wakes
        heappush(env._queue, (env.now + delay, NORMAL, next(env._eid), self))  # type: ignore[misc]

    def _arrive(self, _event: object) -> None:
        times = self.times
        now = self.env.now
        first = self.next
        last = first + 1  # every customer arriving at this very instant comes in now
        while last < len(times) and times[last] - now <= 0:
            last += 1
        self.next = last
        if last < len(times):
            self._wake_after(times[last] - now)
        else:
            self.wakes = ()  # the last arrival: break the cycle through the bound method
        env = self.env
        start = self.start
        for i in range(first, last):
            task = _Task(env, start(i))
            task.resume(task)  # started now, up to its first wait; the first send is None
