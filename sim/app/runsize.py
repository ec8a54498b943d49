"""Experiments too large for this machine, refused before anything is written: a scenario
that validates may still ask for more than any machine holds (``replications:
1000000000``, ``horizon: 100000h``, ``rate: 1e9/s``, a breaker window of a billion calls,
a hundred million checkout nodes). Such a run used to create its directory and then die
of a MemoryError or run until killed; it is now refused with the estimate
(sim.experiment.sizing), unless the caller says it knows better (``--allow-large``).
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

from sim.config import LoadedScenario
from sim.errors import ConfigError
from sim.experiment.sizing import RunSize, estimate

FALLBACK_MEMORY = 8 * 1024**3  # when the machine does not say how much it has
# Beyond these, the arithmetic itself fails (array sizes, order ids, float seconds):
# refused even with --allow-large.
MAX_ORDERS_PER_RUN = 2**31 - 1
MAX_SECONDS = 2**31 - 1


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
            f"cannot be simulated: {about(size.orders_per_run)} orders over "
            f"{about(size.seconds)} simulated seconds per run (at most "
            f"{amount(MAX_ORDERS_PER_RUN)} of each)",
            file=source,
        )
    if allow_large:
        return size
    budget = memory if memory is not None else memory_available()
    need = size.peak_bytes(os.cpu_count() or 1)
    if need > budget:
        count = f"{size.runs:,} run" + ("s" if size.runs != 1 else "")
        raise ConfigError(
            f"too large for this machine: {about(size.orders)} orders "
            f"({amount(size.orders_per_run)} per run x {count}) need about {gigabytes(need)} "
            f"of memory, most of it for {size.largest}; at most {gigabytes(budget)} fit "
            "(--allow-large runs it anyway)",
            file=source,
        )
    return size


def about(value: float) -> str:
    """``about 4.3 billion``; ``infinitely many``."""
    return f"about {amount(value)}" if math.isfinite(value) else "infinitely many"


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
    from sim.resilience.plugins import BreakerClassError, breaker_class

    named = class_paths(loaded.scenario.model_dump(mode="json", by_alias=True))
    for path in sorted(set(named)):
        try:
            breaker_class(path)
        except BreakerClassError as exc:
            raise ConfigError(exc.message, file=loaded.source or None) from None
