"""A dependency as the engine runs it: latency, baseline errors, faults and capacity."""

from __future__ import annotations

import math
from array import array
from collections.abc import Generator, Iterator
from typing import Any

import simpy

from sim.config.model import Dependency
from sim.engine.clock import Step, sleep
from sim.engine.faults import ERROR, HANG, REFUSE, ActiveFault
from sim.engine.pool import SlotPool
from sim.resilience.outcomes import (
    ABANDONED,
    ANSWERED,
    CONNECTION,
    DECLINED,
    SERVER_ERROR,
    SUCCESS,
    TIMEOUT,
)

CallGen = Generator[Step, Any, str]


class DependencyRuntime:
    """Serves calls; ``call`` is a sub-process returning the outcome. It waits by yielding
    delays (``clock.Step``), so it runs in an order task or under ``Clock.process``."""

    __slots__ = (
        "_decline_edge",
        "_draws",
        "_error_edge",
        "_latency",
        "_refuse_edge",
        "_timeout_edge",
        "calls",
        "env",
        "error_times",
        "errors",
        "faults",
        "name",
        "pool",
        "refuse_latency",
        "serves_abandoned",
    )

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Dependency,
        latency: Iterator[float],
        draws: Iterator[float],
        faults: list[ActiveFault],
    ) -> None:
        self.env = env
        self.name = name
        self.pool = SlotPool(env, spec.capacity if spec.capacity is not None else math.inf)
        self.refuse_latency = float(spec.refuse_latency)
        self.serves_abandoned = spec.serves_abandoned
        self.faults = tuple(f for f in faults if f.kind != "capacity")
        self._latency = latency
        self._draws = draws
        # One uniform draw per call decides its baseline fate by where it falls.
        rates = spec.errors
        self._timeout_edge = rates.timeout
        self._refuse_edge = rates.timeout + rates.connection
        self._error_edge = self._refuse_edge + rates.server_error
        self._decline_edge = self._error_edge + spec.decline_rate * (1.0 - self._error_edge)
        self.calls = 0
        self.errors = 0
        self.error_times = array("d")  # failure instants

    def call(
        self, timeout: float, deadline: float = math.inf, ledger: list[int] | None = None
    ) -> CallGen:
        """One call with the caller's ``timeout``; returns an outcome string, ``abandoned``
        without calling when the caller's ``deadline`` has passed.

        ``ledger`` collects the calls the dependency carried out although the caller saw a
        timeout (it gave up, the server finished): a retried charge may then charge twice.
        """
        env = self.env
        now = env.now
        if now >= deadline:
            return ABANDONED
        self.calls += 1
        latency = next(self._latency)
        u = next(self._draws)
        if u < self._error_edge:
            if u < self._timeout_edge:
                outcome, hang = TIMEOUT, True
            elif u < self._refuse_edge:
                return (yield from self._refuse())
            else:
                outcome, hang = SERVER_ERROR, False
        else:
            outcome, hang = (DECLINED if u < self._decline_edge else SUCCESS), False
        for fault in self.faults:
            if fault.start <= now < fault.end:
                effect, latency = fault.effect(now, latency)
                if effect == REFUSE:
                    return (yield from self._refuse())
                if effect == HANG:
                    hang = True
                elif effect == ERROR:
                    if fault.category == CONNECTION:
                        return (yield from self._refuse())
                    outcome = fault.category
                    hang = hang or outcome == TIMEOUT
        pool = self.pool
        remaining = timeout
        # The pool's try_acquire and release, inline on the common path (two calls fewer
        # per dependency call, ~2 % of a run).
        if pool.busy < pool.capacity:
            pool.busy += 1
        else:
            work = latency if self.serves_abandoned and not hang else None
            granted = yield pool.wait(now + timeout, work)
            if not granted:
                return self._failed(TIMEOUT)
            remaining = now + timeout - env.now
        if hang or latency > remaining:
            yield remaining
            if hang:
                pool.release()  # the caller hung up; the server drops the request
            else:
                # The server still works on the call after the caller gave up.
                sleep(env, latency - remaining).callbacks.append(lambda _: pool.release())
                if ledger is not None and outcome in ANSWERED:
                    ledger.append(1)
            return self._failed(TIMEOUT)
        yield latency
        if pool.queued or pool.busy > pool.capacity:
            pool.release()  # a waiter takes the slot, or capacity was cut meanwhile
        else:
            pool.busy -= 1
        if outcome in ANSWERED:
            return outcome
        return self._failed(outcome)

    def _refuse(self) -> CallGen:
        yield self.refuse_latency
        return self._failed(CONNECTION)

    def _failed(self, outcome: str) -> str:
        self.errors += 1
        self.error_times.append(self.env.now)
        return outcome
