"""How a scenario's faults become Toxiproxy toxics, shared by both export formats.

Toxiproxy works on TCP connections, so only faults that show up on a connection map: a
refusal (``reset_peer``), a silence (``timeout``), a delay (``latency``). Faults above
the connection (an HTTP 5xx, a capacity limit, a replayed trace, a crashed node) have no
toxic and are listed as unmapped, never dropped silently.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from sim.config import LoadedScenario
from sim.config.fields import Distribution
from sim.config.scenario import (
    ErrorRateFault,
    Fault,
    FlappingFault,
    HangFault,
    LatencyFault,
    Outage,
)

# Toxiproxy's own toxic types and the attributes each takes (its README, "Toxics").
TOXIC_ATTRIBUTES: dict[str, frozenset[str]] = {
    "latency": frozenset({"latency", "jitter"}),
    "bandwidth": frozenset({"rate"}),
    "slow_close": frozenset({"delay"}),
    "timeout": frozenset({"timeout"}),
    "reset_peer": frozenset({"timeout"}),
    "slicer": frozenset({"average_size", "size_variation", "delay"}),
    "limit_data": frozenset({"bytes"}),
}

# Fault kind -> what it becomes; the README's mapping table says the same.
MAPPING: dict[str, str] = {
    "outage": "reset_peer {timeout: 0}: connections reset at once",
    "error_rate": "category connection: reset_peer {timeout: 0}; category timeout: "
    "timeout {timeout: 0}; server_error: unmapped (an HTTP 5xx is above TCP)",
    "latency": "latency {latency: add + (multiplier - 1) x the model's median, jitter}",
    "hang": "timeout {timeout: 0}: no data until the toxic is removed",
    "flapping": "reset_peer {timeout: 0} added for each down period, removed for each up",
    "capacity": "unmapped: Toxiproxy cannot limit concurrent calls",
    "trace": "unmapped: a replayed trace varies over time; no single toxic reproduces it",
    "crash": "unmapped: a crashed checkout node or orchestrator is not a connection fault",
}


@dataclass(frozen=True)
class Toxic:
    """One toxic on one proxy (named after the dependency), present from ``start`` to
    ``end``: seconds since the scenario's first fault."""

    proxy: str
    name: str
    type: str
    toxicity: float
    attributes: dict[str, int]
    start: float
    end: float
    stream: str = "downstream"

    def body(self) -> dict[str, Any]:
        """The JSON Toxiproxy's ``POST /proxies/{proxy}/toxics`` takes."""
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True)
class Unmapped:
    """A fault with no Toxiproxy equivalent: reported to the user, never silently lost."""

    index: int
    kind: str
    target: str
    start: float
    end: float
    reason: str

    def describe(self) -> str:
        return (
            f"faults[{self.index}] {self.kind} on {self.target} "
            f"({_clock(self.start)}-{_clock(self.end)}): {self.reason}"
        )


@dataclass(frozen=True)
class FaultPlan:
    """The toxics a scenario's faults become, with what could not be mapped and the
    approximations made. ``origin`` is the scenario time that becomes time 0."""

    toxics: list[Toxic]
    unmapped: list[Unmapped]
    notes: list[str] = field(default_factory=list)
    origin: float = 0.0

    @property
    def proxies(self) -> list[str]:
        """Proxies the toxics use, in order of first use."""
        return list(dict.fromkeys(t.proxy for t in self.toxics))


def plan_faults(loaded: LoadedScenario) -> FaultPlan:
    """Every fault of the scenario as toxics, or as an unmapped entry saying why."""
    faults = loaded.scenario.faults
    origin = min((f.start for f in faults), default=0.0)
    plan = FaultPlan(toxics=[], unmapped=[], origin=origin)
    for index, fault in enumerate(faults):
        start, end = fault.start - origin, fault.end - origin
        found = _toxic_kind(index, fault, loaded, plan.notes)
        if isinstance(found, str):
            plan.unmapped.append(Unmapped(index, fault.kind, fault.target, start, end, found))
            continue
        if fault.ramp > 0:
            plan.notes.append(
                f"faults[{index}]: a ramp of {fault.ramp:g}s is not reproduced; "
                "the toxic is at full strength from its start"
            )
        kind, attributes = found
        # A flapping fault is down for `down`, up for `up`, ...: one toxic per down period.
        period = (fault.down, fault.up) if isinstance(fault, FlappingFault) else (end - start, 0)
        t, cycle = start, 0
        while t < end - 1e-9:
            suffix = f"-{cycle}" if isinstance(fault, FlappingFault) else ""
            window_end = min(t + period[0], end)
            plan.toxics.append(
                Toxic(
                    proxy=fault.target,
                    name=f"{fault.kind}-{fault.target}-f{index}{suffix}",
                    type=kind,
                    toxicity=round(fault.probability, 6),
                    attributes=attributes,
                    start=t,
                    end=window_end,
                )
            )
            t, cycle = window_end + period[1], cycle + 1
    return plan


def _toxic_kind(
    index: int, fault: Fault, loaded: LoadedScenario, notes: list[str]
) -> tuple[str, dict[str, int]] | str:
    """The toxic type and attributes a fault becomes, or why it has none."""
    if isinstance(fault, Outage | FlappingFault) or (
        isinstance(fault, ErrorRateFault) and fault.category == "connection"
    ):
        return "reset_peer", {"timeout": 0}
    if isinstance(fault, HangFault) or (
        isinstance(fault, ErrorRateFault) and fault.category == "timeout"
    ):
        return "timeout", {"timeout": 0}
    if isinstance(fault, LatencyFault):
        median = distribution_median(loaded.shop.dependencies[fault.target].latency)
        delay = fault.add + (fault.multiplier - 1.0) * median
        if delay <= 0:
            return "a latency fault that speeds calls up has no toxic"
        if fault.multiplier != 1.0:
            notes.append(
                f"faults[{index}]: multiplier {fault.multiplier:g} becomes a fixed "
                f"{delay * 1000:.0f} ms from {fault.target}'s median latency of "
                f"{median * 1000:.0f} ms"
            )
        latency_ms = round(delay * 1000)
        return "latency", {"latency": latency_ms, "jitter": round(fault.jitter * latency_ms)}
    if isinstance(fault, ErrorRateFault):
        return (
            f"{fault.category} errors are answered above TCP (HTTP); Toxiproxy has no toxic "
            "for them"
        )
    return MAPPING[fault.kind].removeprefix("unmapped: ")


def distribution_median(dist: Distribution) -> float:
    """The median of a model distribution (seconds for a latency)."""
    if dist.lognormal is not None:
        return dist.lognormal.median
    if dist.exponential is not None:
        return dist.exponential.mean * 0.6931471805599453  # ln 2
    if dist.constant is not None:
        return dist.constant
    assert dist.empirical is not None
    return float(statistics.median(dist.empirical))


def timeline(plan: FaultPlan) -> list[tuple[float, str, Toxic]]:
    """Every toxic's addition and removal in time order (``add`` or ``remove``); at the
    same instant removals come first, so back-to-back windows never overlap."""
    events = [(t.start, "add", t) for t in plan.toxics] + [
        (t.end, "remove", t) for t in plan.toxics
    ]
    return sorted(events, key=lambda e: (e[0], e[1] != "remove", e[2].name))


def _clock(seconds: float) -> str:
    return f"+{seconds:g}s"
