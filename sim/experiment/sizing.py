"""How big an experiment is, estimated from its scenario alone: orders (the arrival rate
integrated over the horizon, per run) and bytes of memory, so that what cannot fit is
refused before anything is written or simulated (sim.app.runsize does the refusing).

The figures are rough on purpose (within a factor of a few of what a run holds, measured
with tracemalloc on the reference shop): the check exists for runs off by orders of
magnitude, and never refuses what the shipped scenarios ask for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.config import LoadedScenario
from sim.config.rates import breakpoints
from sim.engine.limits import DRAIN_LIMIT

# Bytes, measured on the reference shop (see the module docstring).
ORDER_WHILE_RUNNING = 1_000  # an order in a running simulation, its process included
ORDER_KEPT = 250  # a finished order's columns, and the tables made from them
SAMPLE = 32  # one per-second monitor value (a float in a list)
NODE = 32_000  # a checkout node: its workers, stacks and breakers
PRODUCT = 64  # a product's stock, and each node's cached copy of it
WINDOW_SLOT = 16  # one call remembered by a count-based breaker window
RUN = 64_000  # a finished run's fixed records: events, summary row, stored files
BASE = 256 * 1024**2  # the libraries themselves (pandas, pyarrow, matplotlib)
DRAIN = 600.0  # seconds a run typically goes on after its horizon (at most DRAIN_LIMIT)


@dataclass(frozen=True)
class RunSize:
    """An experiment's estimated size: orders per run, runs, and bytes of memory (the peak
    of one run, and what the whole experiment holds at the end)."""

    orders_per_run: float
    runs: int
    seconds: float  # simulated seconds per run, drain included
    run_bytes: float
    total_bytes: float
    largest: str = ""  # what most of the memory is for, in words

    @property
    def orders(self) -> float:
        return self.orders_per_run * self.runs

    def peak_bytes(self, concurrent: int) -> float:
        """Memory at the end, with ``concurrent`` runs in flight before it."""
        return BASE + self.total_bytes + self.run_bytes * max(1, min(concurrent, self.runs))


def estimate(loaded: LoadedScenario, runs: int, *, keep_orders: bool = True) -> RunSize:
    """The size of ``runs`` runs of ``loaded``; ``keep_orders``: every run's per-order
    columns are kept to the end (``run``), not reduced to a summary row in the worker
    (``sweep``, ``tune``)."""
    scenario, shop = loaded.scenario, loaded.shop
    orders = expected_orders(loaded)
    seconds = scenario.horizon + DRAIN_LIMIT
    series = 10 + 4 * len(shop.dependencies)
    nodes = shop.checkout.nodes
    products = shop.catalogue.products if shop.catalogue is not None else 0
    fixed = nodes * NODE + products * (1 + nodes) * PRODUCT
    windows = max((window_slots(c.model_dump(), nodes) for c in _configs(loaded)), default=0)
    samples = (scenario.horizon + DRAIN) * series * SAMPLE
    kept = orders * ORDER_KEPT + samples if keep_orders else 0.0
    parts: dict[str, float] = {
        f"the results of {runs:,} run{'s' if runs != 1 else ''}": runs * (kept + RUN),
        "the orders of a run while it runs": orders * ORDER_WHILE_RUNNING,
        "a run's per-second monitor": samples,
        "checkout nodes": nodes * NODE,
        "the catalogue": products * (1 + nodes) * PRODUCT,
        "count-based breaker windows": windows * WINDOW_SLOT,
    }
    largest = max(parts, key=lambda name: parts[name])
    run_bytes = orders * ORDER_WHILE_RUNNING + samples + fixed + windows * WINDOW_SLOT
    return RunSize(orders, runs, seconds, run_bytes, runs * (kept + RUN), largest)


def expected_orders(loaded: LoadedScenario) -> float:
    """Arrivals expected in one run: the integral of the arrival rate over the horizon."""
    traffic = loaded.scenario.traffic
    profile = [(p.at, p.rate, p.ramp) for p in traffic.profile]
    times, rates = breakpoints(traffic.rate, profile, loaded.scenario.horizon)
    total = 0.0
    for k in range(len(times) - 1):
        total += (float(times[k + 1]) - float(times[k])) * (float(rates[k]) + float(rates[k + 1]))
    return total / 2


def window_slots(spec: Any, nodes: int) -> int:
    """Calls remembered by the count-based breaker windows in a configuration's dump (a
    resilience4j COUNT_BASED ring, cockatiel's sampling ring), per gateway and, with
    per-node breakers, per node: allocated whole when the breaker is made."""
    per_node = isinstance(spec, dict) and spec.get("breaker_state", {}).get("scope") == "per_node"
    return _slots(spec) * (nodes if per_node else 1) * 4  # up to four stages or gateways


def _slots(spec: Any) -> int:
    if isinstance(spec, list):
        return sum(_slots(item) for item in spec)
    if not isinstance(spec, dict):
        return 0
    own = 0
    size = spec.get("sliding_window_size")
    if isinstance(size, int) and spec.get("sliding_window_type", "COUNT_BASED") == "COUNT_BASED":
        own = 2 * size
    if spec.get("preset") == "cockatiel" and isinstance(spec.get("duration"), int | float):
        own = 3 * max(5, math.ceil(float(spec["duration"]) / 1000))
    return own + sum(_slots(value) for value in spec.values())


def _configs(loaded: LoadedScenario) -> list[Any]:
    return list(loaded.scenario.configurations.values())
