"""Configuration changes at run time, and how they reach the checkout nodes.

A change is applied at its ``at`` and undone at its ``until``. Without a ``propagation``
delay every node takes it at once. With one, each node takes it after its own delay (a
config service polled by each node, a rolling restart): until the last node has it, nodes
run different configurations, and the time they disagreed is what the run reports.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from typing import Any

import simpy

from sim.config.configuration import Configuration
from sim.config.scenario import ConfigChange
from sim.config.settings import with_settings
from sim.engine.operations import reconfigure, reconfigure_back_office, reconfigure_node
from sim.engine.shop import Shop


class Propagation:
    """Which configuration version each node runs; when the nodes disagreed, and how long
    each version took to reach the last node."""

    def __init__(self, nodes: int) -> None:
        self.applied = [0] * nodes
        self.since: float | None = None  # start of the current disagreement
        self.disagreement: list[tuple[float, float]] = []
        self.issued: list[float] = [0.0]  # by version: when it was issued
        self.spread: list[float] = []  # by version from 1: issue to the last node
        self._settled = 0  # every version up to this one has reached every node

    def issue(self, now: float) -> int:
        """A new version, issued at ``now``."""
        self.issued.append(now)
        self.spread.append(math.nan)
        return len(self.issued) - 1

    def on_latest(self) -> int:
        """How many nodes run the latest version issued."""
        latest = len(self.issued) - 1
        return sum(1 for v in self.applied if v == latest)

    def take(self, node: int, version: int, now: float) -> bool:
        """``node`` receives ``version``; False when it already runs a later one (a slow
        delivery overtaken by a faster one), which it must then ignore."""
        applied = self.applied
        if version <= applied[node]:
            return False
        applied[node] = version
        agree = min(applied) == max(applied)
        if agree and self.since is not None:
            if now > self.since:
                self.disagreement.append((self.since, now))
            self.since = None
        elif not agree and self.since is None:
            self.since = now
        lowest = min(applied)
        while self._settled < lowest:
            self._settled += 1
            self.spread[self._settled - 1] = now - self.issued[self._settled]
        return True

    def close(self, end: float) -> None:
        """The run ended: a disagreement still going counts up to ``end``, and so does a
        change that has not reached every node."""
        if self.since is not None and end > self.since:
            self.disagreement.append((self.since, end))
        self.since = None
        for version, spread in enumerate(self.spread, start=1):
            if math.isnan(spread):
                self.spread[version - 1] = end - self.issued[version]


def change_config(
    env: simpy.Environment,
    shop: Shop,
    base: Configuration,
    changes: list[ConfigChange],
    events: list[tuple[float, str]],
    delays: dict[int, Iterator[float]],
    propagation: Propagation,
) -> Generator[simpy.Event, Any, None]:
    """Apply each change at its time and undo it at its end; overlapping changes stack in
    the order the scenario lists them. ``delays[k]`` draws ``changes[k]``'s per-node delays."""
    edges = sorted({c.at for c in changes} | {c.until for c in changes if c.until is not None})
    nodes = len(shop.nodes)
    for t in edges:
        if t > env.now:
            yield env.timeout(t - env.now)  # env.timeout: once per change, off the hot path
        active = [c for c in changes if c.at <= t and (c.until is None or t < c.until)]
        config = base
        for change in active:
            config = with_settings(config, change.set)
        settings = ", ".join(f"{k}={v}" for c in active for k, v in c.set.items())
        events.append((t, settings or "back to the configuration as written"))
        version = propagation.issue(t)
        # The delay of the change that starts or ends now (the first listed, if several).
        draw = next(
            (delays[k] for k, c in enumerate(changes) if t in (c.at, c.until) and k in delays),
            None,
        )
        if draw is None:
            reconfigure(shop, config)
            for node in range(nodes):
                propagation.take(node, version, t)
            continue
        reconfigure_back_office(shop, config)
        for node in range(nodes):
            env.process(_deliver(env, shop, node, version, config, next(draw), propagation))


def _deliver(
    env: simpy.Environment,
    shop: Shop,
    node: int,
    version: int,
    config: Configuration,
    delay: float,
    propagation: Propagation,
) -> Generator[simpy.Event, Any, None]:
    if delay > 0:
        yield env.timeout(delay)  # env.timeout: once per change and node, off the hot path
    if propagation.take(node, version, env.now):
        reconfigure_node(shop, node, config)
