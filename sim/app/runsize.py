"""How big an experiment will be, estimated before anything is written: a scenario that
validates may still ask for more than any machine holds (``replications: 1000000000``,
``horizon: 100000h``, ``rate: 1e9/s``, a breaker window of a billion calls, a hundred
million checkout nodes). Such a run used to create its directory and then die of a
MemoryError or run until killed; it is now refused with the estimate, unless the caller
says it knows better (``--allow-large``).

The figures are rough on purpose (within a factor of a few of what a run holds, measured
with tracemalloc on the reference shop): the check exists for runs off by orders of
magnitude, and never refuses what the shipped scenarios ask for.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.config import LoadedScenario
from sim.dists import rate_breakpoints
from sim.engine.run import DRAIN_LIMIT
from sim.errors import ConfigError

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
FALLBACK_MEMORY = 8 * 1024**3  # when the machine does not say how much it has
# Beyond these, the arithmetic itself fails (array sizes, order ids, float seconds):
# refused even with --allow-large.
MAX_ORDERS_PER_RUN = 2**31 - 1
MAX_SECONDS = 2**31 - 1


@dataclass(frozen=True)
class RunSize:
    """An experiment's estimated size: orders per run, runs, and bytes of memory (the peak
    of one run, and what the whole experiment holds at the end)."""

    orders_per_run: float
    runs: int
    seconds: float  # simulated seconds per run, drain included
    run_bytes: float
    total_bytes: float

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
    run_bytes = orders * ORDER_WHILE_RUNNING + samples + fixed + windows * WINDOW_SLOT
    kept = orders * ORDER_KEPT + samples if keep_orders else 0.0
    return RunSize(orders, runs, seconds, run_bytes, runs * (kept + RUN))


def expected_orders(loaded: LoadedScenario) -> float:
    """Arrivals expected in one run: the integral of the arrival rate over the horizon."""
    traffic = loaded.scenario.traffic
    profile = [(p.at, p.rate, p.ramp) for p in traffic.profile]
    times, rates = rate_breakpoints(traffic.rate, profile, loaded.scenario.horizon)
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


def memory_available() -> int:
    """Bytes of memory this process may use: the machine's, or its container's limit."""
    total = FALLBACK_MEMORY
    with contextlib.suppress(AttributeError, ValueError, OSError):
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    with contextlib.suppress(OSError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text("ascii").strip()
        if limit.isdigit():
            total = min(total, int(limit))
    return total


def check_run_size(
    loaded: LoadedScenario,
    runs: int,
    *,
    keep_orders: bool = True,
    allow_large: bool = False,
    memory: int | None = None,
) -> RunSize:
    """The estimate, or a ConfigError (exit 2, naming the scenario) when the experiment
    cannot fit in ``memory`` (default: this machine's) and ``allow_large`` is not given,
    or cannot be simulated at all."""
    size = estimate(loaded, runs, keep_orders=keep_orders)
    source = loaded.source or None
    if not size.orders_per_run <= MAX_ORDERS_PER_RUN or not size.seconds <= MAX_SECONDS:
        raise ConfigError(
            f"cannot be simulated: about {amount(size.orders_per_run)} orders over "
            f"{amount(size.seconds)} simulated seconds per run (at most "
            f"{amount(MAX_ORDERS_PER_RUN)} of each)",
            file=source,
        )
    if allow_large:
        return size
    budget = memory if memory is not None else memory_available()
    need = size.peak_bytes(os.cpu_count() or 1)
    if need > budget:
        raise ConfigError(
            f"too large for this machine: about {amount(size.orders)} orders "
            f"({amount(size.orders_per_run)} per run x {size.runs:,} run"
            f"{'s' if size.runs != 1 else ''}) need about "
            f"{gigabytes(need)} of memory, and at most {gigabytes(budget)} fit; fewer "
            "replications, a shorter horizon or a lower rate would fit (--allow-large "
            "runs it anyway)",
            file=source,
        )
    return size


def amount(value: float) -> str:
    """A count for people: ``57,600``, ``4.3 million``, ``4.3 billion``, ``1e+308``."""
    if not math.isfinite(value):
        return "infinitely many"
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= scale:
            shown = value / scale
            return f"{shown:.3g} {word}" if shown < 1000 else f"{value:.2g}"
    return f"{value:,.0f}"


def gigabytes(value: float) -> str:
    if not math.isfinite(value):
        return "unboundedly many bytes"
    if value >= 1024**4:
        return f"{value / 1024**4:,.1f} TB"
    return f"{value / 1024**3:,.1f} GB"


def check_breaker_classes(loaded: LoadedScenario) -> None:
    """Every breaker ``class:`` the scenario names is a class with the breaker protocol's
    methods (imported, never called), checked before anything is written: a ConfigError
    naming the scenario otherwise."""
    from sim.experiment.manifest import class_paths
    from sim.resilience.external import BreakerClassError, breaker_class

    named = class_paths(loaded.scenario.model_dump(mode="json", by_alias=True))
    for path in sorted(set(named)):
        try:
            breaker_class(path)
        except BreakerClassError as exc:
            raise ConfigError(exc.message, file=loaded.source or None) from None
