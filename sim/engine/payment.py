"""Payment orchestration: one payment call for checkout, several gateways behind it.

Routing picks the first gateway (priority, weights, health, fewest calls in flight);
failover tries the others in priority order after a failure or an open breaker. A decline
is the customer's bank answering: it is final, never retried elsewhere. A gateway whose
breaker has just closed gets its traffic back gradually (slow start).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from typing import Any

import simpy

from sim.config.scenario import PaymentPolicy
from sim.engine.calls import GuardedDependency
from sim.engine.clock import Step
from sim.resilience.outcomes import ABANDONED, ANSWERED, BREAKER_OPEN

OPEN_STATES = ("open", "forced_open")


class Gateway:
    """A guarded gateway with what routing needs to know about it."""

    __slots__ = ("code", "guarded", "in_flight", "latency", "recovered_at", "success")

    def __init__(self, code: int, guarded: GuardedDependency, typical_latency: float) -> None:
        self.code = code  # index in the model's gateway list
        self.guarded = guarded
        self.in_flight = 0
        self.success = 1.0  # moving averages for health routing
        self.latency = typical_latency
        self.recovered_at = -math.inf

    def is_open(self) -> bool:
        breaker = self.guarded.breaker
        return breaker is not None and breaker.state in OPEN_STATES


class PaymentOrchestrator:
    """Presents one payment call to checkout: ``pay(deadline)``."""

    def __init__(
        self,
        env: simpy.Environment,
        policy: PaymentPolicy,
        gateways: list[Gateway],
        draws: Iterator[float],
    ) -> None:
        self.env = env
        self.policy = policy
        self.gateways = gateways  # in priority order
        self.by_code = {g.code: g.guarded for g in gateways}
        self._preferred: Gateway | None = None
        self.weights = [
            (policy.weights or {}).get(g.guarded.name, 0.0) if policy.routing == "weighted" else 1.0
            for g in gateways
        ]
        self._draws = draws

    def set_policy(self, policy: PaymentPolicy) -> None:
        """New routing at run time (the gateways themselves stay)."""
        self.policy = policy
        self.weights = [
            (policy.weights or {}).get(g.guarded.name, 0.0) if policy.routing == "weighted" else 1.0
            for g in self.gateways
        ]

    def prefer(self, code: int | None) -> None:
        """Send every payment to gateway ``code`` first (a rule's route_to); None lifts it."""
        self._preferred = next((g for g in self.gateways if g.code == code), None)

    def recovered(self, gateway: str, now: float) -> None:
        """A gateway's breaker closed again: start its slow start."""
        for g in self.gateways:
            if g.guarded.name == gateway:
                g.recovered_at = now

    def pay(self, deadline: float) -> Generator[Step, Any, tuple[str, int, bool]]:
        """(outcome, gateway code, whether it failed over) for one payment."""
        env = self.env
        order = self._route()
        outcome = ABANDONED
        code = order[0].code
        tried = 0
        for gateway in order:
            if tried and not self.policy.fails_over:
                break
            tried += 1
            code = gateway.code
            start = env.now
            gateway.in_flight += 1
            outcome = yield from gateway.guarded.call(deadline)
            gateway.in_flight -= 1
            self._observe(gateway, outcome, env.now - start)
            if outcome in ANSWERED or outcome == ABANDONED:
                break
        return outcome, code, tried > 1

    def _route(self) -> list[Gateway]:
        """Gateways in the order to try them: the routed first choice, then by priority."""
        gateways = self.gateways
        if self._preferred is not None:
            first = self._preferred
            return [first, *(g for g in gateways if g is not first)]
        if len(gateways) == 1:
            return gateways
        policy = self.policy
        routing = policy.routing
        if routing == "priority":
            return gateways if policy.slow_start is None else self._priority_with_slow_start()
        if routing == "least_outstanding":
            candidates = [g for g in gateways if not g.is_open()] or gateways
            first = min(candidates, key=lambda g: g.in_flight)
        else:
            weights = [
                0.0 if g.is_open() else self._weight(i, g) * self._slow_start(g)
                for i, g in enumerate(gateways)
            ]
            total = sum(weights)
            if total <= 0:
                return gateways
            pick = next(self._draws) * total
            first = gateways[-1]
            for g, w in zip(gateways, weights, strict=True):
                pick -= w
                if pick < 0:
                    first = g
                    break
        return [first, *(g for g in gateways if g is not first)]

    def _priority_with_slow_start(self) -> list[Gateway]:
        """Priority order; a recovering gateway keeps its place only for its share."""
        now = self.env.now
        kept, deferred = [], []
        for g in self.gateways:
            share = self._slow_start(g, now)
            if share < 1.0 and next(self._draws) >= share:
                deferred.append(g)
            else:
                kept.append(g)
        return kept + deferred

    def _weight(self, index: int, g: Gateway) -> float:
        if self.policy.routing == "health":
            return g.success / max(g.latency, 1e-3)
        return self.weights[index]

    def _slow_start(self, g: Gateway, now: float | None = None) -> float:
        spec = self.policy.slow_start
        if spec is None:
            return 1.0
        elapsed = (self.env.now if now is None else now) - g.recovered_at
        if elapsed >= spec.window:
            return 1.0
        ramp = float((elapsed / spec.window) ** (1.0 / spec.aggression))
        return max(spec.min_weight, ramp)

    def _observe(self, g: Gateway, outcome: str, duration: float) -> None:
        if outcome in (ABANDONED, BREAKER_OPEN):
            return
        alpha = self.policy.health_smoothing
        ok = 1.0 if outcome in ANSWERED else 0.0
        g.success += alpha * (ok - g.success)
        g.latency += alpha * (duration - g.latency)
