"""Faults as the engine applies them, call by call.

Probabilistic faults (outage, error_rate, latency, hang, flapping) are checked lazily on
each call against the clock: a dependency without faults pays one empty loop. Capacity
faults change a pool's size, so a small process drives them at their start and end.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.config.fields import Distribution
from sim.config.scenario import Fault
from sim.config.trace import Trace
from sim.dists import Z99
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
    replay: TraceReplay | None = None

    def intensity(self, now: float) -> float:
        if self.ramp and now < self.start + self.ramp:
            return (now - self.start) / self.ramp
        return 1.0

    def effect(self, now: float, latency: float) -> tuple[int, float]:
        """(effect, latency) for a call starting at ``now``; effect 0 means untouched."""
        kind = self.kind
        if kind == "trace":
            assert self.replay is not None
            return self.replay.effect(now - self.start, latency, self.draws, self.probability)
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


def active_fault(
    spec: Fault, draws: Iterator[float], baseline: Distribution | None = None
) -> ActiveFault:
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
    elif spec.kind == "trace":
        assert spec.trace is not None, "traces are attached when the scenario is loaded"
        fault.replay = TraceReplay(spec.trace, baseline)
    return fault


class TraceReplay:
    """A dependency's health over time from an incident trace, interpolated linearly."""

    def __init__(self, trace: Trace, baseline: Distribution | None) -> None:
        self.times = trace.times
        self.columns = trace.columns
        self.baseline: tuple[float, float] | None = None
        if baseline is not None and baseline.lognormal is not None:
            mu = math.log(baseline.lognormal.median)
            self.baseline = (mu, (math.log(baseline.lognormal.p99) - mu) / Z99)

    def value(self, name: str, t: float, default: float) -> float:
        column = self.columns.get(name)
        if column is None:
            return default
        times = self.times
        k = bisect.bisect_right(times, t)
        if k <= 0:
            return column[0]
        if k >= len(times):
            return column[-1]
        t0, t1 = times[k - 1], times[k]
        return column[k - 1] + (column[k] - column[k - 1]) * (t - t0) / (t1 - t0)

    def effect(
        self, t: float, latency: float, draws: Iterator[float], share: float
    ) -> tuple[int, float]:
        """(effect, latency) at ``t`` seconds into the trace, for the affected share."""
        if next(draws) >= share:
            return 0, latency
        if next(draws) >= self.value("availability", t, 1.0):
            return REFUSE, latency
        u = next(draws)
        edge = self.value("timeout_rate", t, 0.0)
        if u < edge:
            return HANG, latency
        edge += self.value("connection_rate", t, 0.0)
        if u < edge:
            return REFUSE, latency
        edge += self.value("server_error_rate", t, 0.0)
        if u < edge:
            return ERROR, latency
        latency *= self.value("latency_multiplier", t, 1.0)
        if "latency_median" in self.columns:
            median = self.value("latency_median", t, 0.0)
            if self.baseline is not None and "latency_p99" in self.columns:
                # The same quantile of the trace's lognormal as of the model's.
                mu0, sigma0 = self.baseline
                z = (math.log(max(latency, 1e-12)) - mu0) / sigma0 if sigma0 > 0 else 0.0
                p99 = max(self.value("latency_p99", t, median), median * (1 + 1e-9))
                sigma = (math.log(p99) - math.log(median)) / Z99
                return SLOW, math.exp(math.log(median) + sigma * z)
            if self.baseline is not None:
                return SLOW, latency * median / math.exp(self.baseline[0])
        return SLOW, latency


def drive_capacity(
    env: simpy.Environment, pool: SlotPool, faults: list[tuple[float, float, int]]
) -> Generator[simpy.Event, Any, None]:
    """Apply capacity faults (start, end, capacity) to ``pool``; overlapping ones take the
    smallest capacity."""
    normal = pool.capacity
    edges = sorted({t for start, end, _ in faults for t in (start, end)})
    for t in edges:
        if t > env.now:
            yield env.timeout(t - env.now)  # env.timeout: once per fault edge, off the hot path
        active = [cap for start, end, cap in faults if start <= t < end]
        pool.set_capacity(min([normal, *active]))
