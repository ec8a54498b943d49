"""How much the checkout nodes disagreed: about the configuration while a change was still
propagating, and about a dependency's health when each node keeps its own breakers."""

from __future__ import annotations

import math
import re
from collections import defaultdict

from sim.engine.records import RunResult

NODE_INSTANCE = re.compile(r"@\d+")  # gateway_a@2:timeout -> gateway_a:timeout


def topology_row(result: RunResult) -> dict[str, float]:
    """``config_disagreement_s``: seconds after the warm-up when nodes ran different
    configurations. ``config_propagation_max_s``: the slowest change's time from issue to
    the last node, or to the run's end if it never got there (nan: no change).
    ``breaker_disagreement_s``: seconds after the warm-up when one dependency's per-node
    breakers were not all in the same state, summed over dependencies."""
    start, end = result.warmup, result.end_time
    spread = result.config_propagation
    return {
        "config_disagreement_s": sum(
            _clipped(a, b, start, end) for a, b in result.config_disagreement
        ),
        "config_propagation_max_s": max(spread) if spread else math.nan,
        "breaker_disagreement_s": breaker_disagreement(result, start, end),
    }


def breaker_disagreement(result: RunResult, start: float, end: float) -> float:
    """Seconds in [start, end] when the node instances of a breaker differed in state."""
    by_breaker: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for time, name, _old, new in result.transitions:
        if "@" in name:
            node = name.split("@")[1].split(":")[0]
            by_breaker[NODE_INSTANCE.sub("", name)].append((time, node, new))
    total = 0.0
    for events in by_breaker.values():
        events.sort(key=lambda e: e[0])  # lazily applied timers are stamped when due
        states = dict.fromkeys((str(k) for k in range(result.nodes)), "closed")
        since = 0.0
        for time, node, new in events:
            if len(set(states.values())) > 1:
                total += _clipped(since, time, start, end)
            states[node] = new
            since = time
        if len(set(states.values())) > 1:
            total += _clipped(since, end, start, end)
    return total


def _clipped(a: float, b: float, start: float, end: float) -> float:
    return max(0.0, min(b, end) - max(a, start))
