"""Faults as the engine applies them, call by call.

Probabilistic faults (outage, error_rate, latency, hang, flapping) are checked lazily on
each call against the clock: a dependency without faults pays one empty loop. Capacity
faults change a pool's size, so a small process drives them at their start and end.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.config.scenario import Fault
from sim.engine.pool import SlotPool

# What a fault does to one call, in order of precedence.
REFUSE = 1
HANG = 2
ERROR = 3
SLOW = 4


@dataclass(slots=True)
class ActiveFault:
    """One fault of the timeline, with its own random stream."""

    kind: str
    start: float
    end: float
    ramp: float
    probability: float
    draws: Iterator[float]
    category: str = "server_error"
    multiplier: float = 1.0
    add: float = 0.0
    jitter: float = 0.0
    down: float = 0.0
    period: float = 0.0

    def intensity(self, now: float) -> float:
        if self.ramp and now < self.start + self.ramp:
            return (now - self.start) / self.ramp
        return 1.0

    def effect(self, now: float, latency: float) -> tuple[int, float]:
        """(effect, latency) for a call starting at ``now``; effect 0 means untouched."""
        kind = self.kind
        if kind == "flapping" and (now - self.start) % self.period >= self.down:
            return 0, latency
        strength = self.intensity(now)
        if next(self.draws) >= self.probability * (1.0 if kind == "latency" else strength):
            return 0, latency
        if kind == "outage" or kind == "flapping":
            return REFUSE, latency
        if kind == "hang":
            return HANG, latency
        if kind == "error_rate":
            return ERROR, latency
        if kind == "latency":
            slowed = latency * (1.0 + (self.multiplier - 1.0) * strength) + self.add * strength
            if self.jitter:
                slowed *= 1.0 - self.jitter + 2.0 * self.jitter * next(self.draws)
            return SLOW, slowed
        return 0, latency


def active_fault(spec: Fault, draws: Iterator[float]) -> ActiveFault:
    """The engine's view of a fault spec."""
    fault = ActiveFault(
        kind=spec.kind,
        start=spec.start,
        end=spec.end,
        ramp=spec.ramp,
        probability=spec.probability,
        draws=draws,
    )
    if spec.kind == "error_rate":
        fault.category = spec.category
    elif spec.kind == "latency":
        fault.multiplier, fault.add, fault.jitter = spec.multiplier, spec.add, spec.jitter
    elif spec.kind == "flapping":
        fault.down, fault.period = spec.down, spec.down + spec.up
    return fault


def drive_capacity(
    env: simpy.Environment, pool: SlotPool, faults: list[tuple[float, float, int]]
) -> Generator[simpy.Event, Any, None]:
    """Apply capacity faults (start, end, capacity) to ``pool``; overlapping ones take the
    smallest capacity."""
    normal = pool.capacity
    edges = sorted({t for start, end, _ in faults for t in (start, end)})
    for t in edges:
        if t > env.now:
            yield env.timeout(t - env.now)
        active = [cap for start, end, cap in faults if start <= t < end]
        pool.set_capacity(min([normal, *active]))
