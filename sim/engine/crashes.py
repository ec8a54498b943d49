"""Crash sites (checkout nodes by index, the orchestrator) and what a restart forgets.

Work in flight notices a crash at its next step (``Sites.is_down``) and waits for the
restart's event; the recovery coordinator then settles it from the event log (see
``sim.engine.checkout``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import simpy

from sim.engine.nodes import NODE_MARK, NodeStack
from sim.resilience.breaker import CircuitBreaker
from sim.resilience.view import BreakerView

Site = int | str  # a checkout node's index, or "orchestrator"
ORCHESTRATOR = "orchestrator"


class Sites:
    """Which sites are down, the event each one's restart fires, and when they restarted."""

    __slots__ = ("_restarts", "any_down", "down", "env", "restart_times")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.down: dict[Site, bool] = {}
        self.any_down = False  # checked first on the hot path: no crash, no lookup
        self.restart_times: list[float] = []
        self._restarts: dict[Site, simpy.Event] = {}

    def is_down(self, site: Site) -> bool:
        return self.down.get(site, False)

    def crash(self, site: Site) -> None:
        self.down[site] = True
        self.any_down = True
        self._restarts[site] = self.env.event()

    def restart(self, site: Site) -> None:
        """The site is back: everything waiting for it resumes."""
        self.down[site] = False
        self.any_down = any(self.down.values())
        self.restart_times.append(self.env.now)
        self._restarts[site].succeed()

    def restarted(self, site: Site) -> simpy.Event:
        """The event the current crash of ``site`` fires on restart."""
        return self._restarts[site]


def forget_node_state(breakers: Mapping[str, Any], stack: NodeStack, node: int, now: float) -> None:
    """A restarted node lost what it held in memory: its own breakers start closed with
    empty windows, and its copies of shared breaker state are read again."""
    mark = f"{NODE_MARK}{node}"
    for name, breaker in breakers.items():
        if isinstance(breaker, CircuitBreaker) and name.split(":")[0].endswith(mark):
            breaker.reset(now)
    guards = [stack.inventory, stack.order_record, *(g.guarded for g in stack.payment.gateways)]
    for guarded in guards:
        if isinstance(guarded.breaker, BreakerView):
            guarded.breaker.forget()
