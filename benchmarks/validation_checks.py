"""Engine against theory: what each replication measures, and the verdict of a check.

A check holds one value per replication (independent seeds) and the theory's value, bound
or interval. ``equal`` passes when the theory value lies inside the interval of the
simulated mean at the check's ``level`` (95 % unless the caller widens it for a family of
checks), ``within`` when that whole interval lies inside the theory's interval.
``at_most`` is a guarantee (a retry budget's most retries), which holds run by run and is
often attained exactly, so every replication must lie at or below its own bound; an
interval of the mean would straddle a bound that is reached. benchmarks/validate_engine.py
builds the scenarios and runs them; this module only reads their records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sim.analysis.stats import mean_ci
from sim.engine.records import ABANDONED, RunResult

Kind = Literal["equal", "at_most", "within"]
TOLERANCE = 1e-9  # relative: float noise in a bound that is attained exactly


@dataclass(frozen=True)
class Check:
    """One comparison of the engine with theory."""

    group: str  # what is validated, e.g. "Erlang C (M/M/c) at checkout"
    name: str  # the quantity, e.g. "mean time in checkout (s)"
    kind: Kind
    values: tuple[float, ...]  # one per replication
    theory: float  # the value (equal), the mean bound (at_most) or the interval's low end
    theory_high: float = math.nan  # the interval's high end (within)
    bounds: tuple[float, ...] = field(default=())  # per replication (at_most), else empty
    level: float = 0.95  # of the interval the verdict reads

    @property
    def interval95(self) -> tuple[float, float]:
        """The 95 % interval of the simulated mean, whatever level the verdict reads."""
        _, low, high = mean_ci(np.asarray(self.values), 0.95)
        return low, high

    @property
    def mean(self) -> float:
        return mean_ci(np.asarray(self.values))[0]

    @property
    def interval(self) -> tuple[float, float]:
        """The interval of the simulated mean at ``level``: the one the verdict reads."""
        _, low, high = mean_ci(np.asarray(self.values), self.level)
        return low, high

    @property
    def passed(self) -> bool:
        low, high = self.interval
        if any(math.isnan(v) for v in (low, high)):
            return False
        if self.kind == "equal":
            return low <= self.theory <= high
        if self.kind == "within":
            return self.theory <= low and high <= self.theory_high
        bounds = np.asarray(self.bounds or [self.theory] * len(self.values))
        excess = np.asarray(self.values) - bounds
        return bool(excess.max() <= TOLERANCE * max(1.0, float(np.abs(bounds).max())))

    @property
    def theory_text(self) -> str:
        if self.kind == "within":
            return f"[{_fmt(self.theory)}, {_fmt(self.theory_high)}]"
        if self.kind == "at_most":
            return f"≤ {_fmt(self.theory)}"
        return _fmt(self.theory)


def equal(group: str, name: str, values: Sequence[float], theory: float) -> Check:
    return Check(group, name, "equal", tuple(float(v) for v in values), float(theory))


def at_most(group: str, name: str, values: Sequence[float], bounds: Sequence[float]) -> Check:
    """Every replication's value against its own bound (e.g. one that depends on its count
    of orders; float noise of a bound attained exactly is tolerated); the bound shown is
    their mean."""
    b = tuple(float(v) for v in bounds)
    return Check(
        group, name, "at_most", tuple(float(v) for v in values), float(np.mean(b)), bounds=b
    )


def within(group: str, name: str, values: Sequence[float], low: float, high: float) -> Check:
    return Check(group, name, "within", tuple(float(v) for v in values), low, float(high))


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


# -- what one replication measures ---------------------------------------------------------
def counted(result: RunResult) -> np.ndarray:
    """Orders arriving after the warm-up."""
    return np.asarray(result.arrival >= result.warmup)


def queue_abandoned(result: RunResult) -> np.ndarray:
    """Orders whose customer left the checkout queue before getting a worker."""
    names = result.cause_names
    code = names.index("queue") if "queue" in names else -2
    return np.asarray((result.outcome == ABANDONED) & (result.cause == code))


def checkout_time(result: RunResult) -> np.ndarray:
    """From arrival to the end of checkout (or to leaving its queue), per order."""
    return np.asarray(result.checkout_end - result.arrival)


def mean_checkout_time(result: RunResult, *, served: bool | None = None) -> float:
    """Mean time in checkout of counted orders: all, the served (``True``: they got a
    worker) or those who left the queue (``False``: their time in it)."""
    keep = counted(result)
    if served is not None:
        left = queue_abandoned(result)
        keep &= ~left if served else left
    times = checkout_time(result)[keep]
    return float(times.mean()) if times.size else math.nan


def abandon_share(result: RunResult) -> float:
    """Share of counted orders whose customer left the checkout queue."""
    keep = counted(result)
    return float(queue_abandoned(result)[keep].mean()) if keep.any() else math.nan


def mean_sampled(result: RunResult, column: str) -> float:
    """Time average of a once-per-second sample after the warm-up, up to the horizon."""
    times = np.asarray(result.samples["time"])
    values = np.asarray(result.samples[column], dtype=float)
    keep = (times > result.warmup) & (times <= result.horizon)
    return float(values[keep].mean())


def little_ratio(result: RunResult, stage: str) -> float:
    """L / (lambda W) for one stage over the whole run (which starts and ends empty, so
    Little's law holds exactly): L the mean of the once-per-second occupancy samples,
    lambda W the stage's total time over the run's length (nan: nobody entered)."""
    seconds = len(result.samples["time"])
    entries, total = result.stage_stats[stage]
    if not entries or not seconds:
        return math.nan
    occupancy = float(np.mean(result.samples[f"in_stage_{stage}"]))
    return occupancy / (total / seconds)


def calls_per_order(result: RunResult, dependency: str, stage: str = "payment") -> float:
    """Calls to ``dependency`` over the orders that entered ``stage`` (its first attempts),
    over the whole run."""
    entries = result.stage_stats[stage][0]
    return result.dependency_calls[dependency] / entries if entries else math.nan


def successes(result: RunResult, dependency: str) -> int:
    """Calls to ``dependency`` that did not fail, over the whole run."""
    return result.dependency_calls[dependency] - len(result.dependency_errors[dependency])
