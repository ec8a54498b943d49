"""What every order pays SimPy for, made cheaper: waiting a delay, reading the clock and
processing the next event.

A process of the engine may yield a plain number instead of an event: "wake me this many
seconds from now". The order tasks (``tasks.py``) take such a delay by scheduling
themselves, with no event object at all; ``spawn(env, generator)`` runs any other as a
``simpy.Process`` that turns each delay into a ``sleep``. Both use the eid SimPy's own
timeout would, so the order of events is unchanged.

``simpy.Timeout`` is a general event built through ``Event.__init__`` and ``schedule``,
``Environment.now`` is a property (a call per read, millions per run) and
``Environment.run`` makes a method call per event. An order waits on plain delays about
seven times (arrival, cart, each dependency call), so ``sleep`` pushes a bare ``Wake``
straight onto the environment's queue, and ``Clock`` keeps ``now`` as a plain attribute
and pops events in one loop. Both keep SimPy's ordering exactly (time, priority, then
insertion id), so a run is byte-identical to one with ``env.timeout`` and ``env.run``.
They reach into ``Environment._queue``, ``_eid`` and ``_now`` (SimPy's own, unchanged
since SimPy 3); tests/test_clock.py checks them against ``timeout`` and ``run``.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappop, heappush
from typing import Any, TypeAlias

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT

Step: TypeAlias = simpy.Event | float  # what an engine process yields: an event, or a delay


class Wake(simpy.Event):
    """A delay's end: a SimPy event made without ``Event.__init__`` or ``schedule``. Like a
    ``Timeout`` it is triggered from the start, never fails and carries no value."""

    _ok = True
    _value = None


_new = object.__new__


def sleep(env: simpy.Environment, delay: float) -> simpy.Event:
    """An event ``delay`` seconds from now, as ``env.timeout(delay)`` but cheaper; yield
    it from a process or append to its callbacks."""
    if delay < 0:
        raise ValueError(f"negative delay {delay}")
    wake = _new(Wake)
    wake.env = env
    wake.callbacks = []
    heappush(env._queue, (env.now + delay, NORMAL, next(env._eid), wake))
    return wake


class Clock(simpy.Environment):
    """A ``simpy.Environment`` whose ``now`` is a plain attribute (SimPy's is a property:
    a call on every read, millions per run) and whose ``run`` loops over events inline (no
    method call per event). SimPy's own ``_now`` becomes a view of ``now``, so the loop
    moves the clock with one store per event; ``schedule`` reads ``now`` directly."""

    now = 0.0  # shadows Environment.now; set on the instance as the clock moves

    @property
    def _now(self) -> float:
        return self.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.now = value

    def schedule(self, event: simpy.Event, priority: int = NORMAL, delay: float = 0) -> None:
        """``Environment.schedule``, reading the clock as an attribute."""
        heappush(self._queue, (self.now + delay, priority, next(self._eid), event))  # type: ignore[misc]

    def step(self) -> None:
        """``Environment.step``, with ``now`` moved before the callbacks run."""
        try:
            self.now, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            # As SimPy: the stop event's other callbacks run when the simulation resumes.
            event.callbacks = callbacks[callbacks.index(callback) + 1 :]
            self.schedule(event, URGENT - 1)
            raise
        _crash_if_failed(event)

    def run(self, until: float | simpy.Event | None = None) -> object:
        """As ``Environment.run``; a number ``until`` takes the inline loop."""
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)  # through step, above
        run_until(self, until)
        return None


def spawn(env: simpy.Environment, generator: Generator[Step, Any, Any]) -> simpy.Process:
    """``env.process(generator)`` for a generator that may also yield delays."""
    return simpy.Process(env, _delays_as_events(env, generator))


def _delays_as_events(
    env: simpy.Environment, generator: Generator[Step, Any, Any]
) -> Generator[simpy.Event, Any, Any]:
    """``generator`` with each delay it yields waited as a ``sleep``; whatever SimPy sends
    or throws in is passed on."""
    value: Any = None
    failure: BaseException | None = None
    while True:
        try:
            target = generator.send(value) if failure is None else generator.throw(failure)
        except StopIteration as stop:
            return stop.value
        failure = None
        if isinstance(target, float | int):
            target = sleep(env, target)
        try:
            value = yield target
        except GeneratorExit:
            generator.close()
            raise
        except BaseException as error:  # a failed event or an interrupt: the process's own
            failure = error


def _crash_if_failed(event: simpy.Event) -> None:
    """A failed event nobody handled crashes the run, as ``Environment.step`` does."""
    if not event._ok and not hasattr(event, "_defused"):
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


def run_until(env: Clock, until: float) -> None:
    """``env.run(until=until)`` with the event loop inline (no method call per event).

    As SimPy does, a stop event is scheduled at ``until`` before every ordinary event at
    that instant, so events at exactly ``until`` stay unprocessed for the next call.
    """
    now = env.now
    if until <= now:
        raise ValueError(f"until ({until}) must be greater than the current time")
    stop = simpy.Event(env)
    stop._ok = True
    stop._value = None
    stop.callbacks.append(StopSimulation.callback)
    # The stop's time computed as SimPy computes it (now + delay), to the last bit.
    queue = env._queue
    heappush(queue, (now + (until - now), URGENT, next(env._eid), stop))
    try:
        while queue:
            when, _, _, event = heappop(queue)
            env.now = when
            callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
            for callback in callbacks:
                callback(event)
            if not event._ok:
                _crash_if_failed(event)
    except StopSimulation:
        return
    raise RuntimeError(f"no events left before {until}")  # the stop event was lost
