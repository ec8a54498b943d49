"""The data behind every plot, computed apart from drawing so notebooks and the report
never disagree (Optuna's split)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.binned import BinnedValues
from sim.analysis.stats import mean_ci
from sim.analysis.summary import lost_causes
from sim.config.scenario import Scenario


def fault_windows(scenario: Scenario) -> pd.DataFrame:
    """One row per fault: target, kind, start_s, end_s (for shading)."""
    return pd.DataFrame(
        [
            {"target": f.target, "kind": f.kind, "start_s": f.start, "end_s": f.end}
            for f in scenario.faults
        ],
        columns=["target", "kind", "start_s", "end_s"],
    )


def revenue_lost(summary: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: mean revenue lost by cause (every cause the summary has a column
    for, so the causes add up to the total), the total with its 95 % interval, and
    ``ci_low_clipped``: the interval's low end, never below 0 (revenue lost cannot be
    negative; a t interval over few, spread replications can reach below it)."""
    causes = lost_causes(summary)
    rows = []
    for config, part in summary.groupby("configuration", sort=False, observed=True):
        mean, low, high = mean_ci(part["revenue_lost"].to_numpy(dtype=float))
        row = {"configuration": config, "total": mean, "ci_low": low, "ci_high": high}
        row["ci_low_clipped"] = max(low, 0.0) if not np.isnan(low) else low
        for cause in causes:
            row[cause] = float(part[f"revenue_lost_{cause}"].fillna(0.0).mean())
        rows.append(row)
    columns = ["configuration", "total", "ci_low", "ci_high", "ci_low_clipped", *causes]
    return pd.DataFrame(rows, columns=columns)


def causes_shown(lost: pd.DataFrame) -> list[str]:
    """The causes of ``revenue_lost(...)`` with revenue in some configuration."""
    fixed = {"configuration", "total", "ci_low", "ci_high", "ci_low_clipped"}
    return [c for c in lost.columns if c not in fixed and bool((lost[c].fillna(0) != 0).any())]


def latency_over_time(
    orders: pd.DataFrame,
    horizon: float,
    bin_s: float = 30.0,
    configurations: list[str] | None = None,
) -> pd.DataFrame:
    """Latency percentiles by the time the customer saw the result, pooled over
    replications: configuration, time_s (bin start); p50_s, p95_s, p99_s and orders for
    completed orders (checkout latency); result_p50_s, result_p99_s and results for every
    order with a result page (completed, failed or declined: how long the customer waited
    for an answer, so failing fast shows as fast).

    Every configuration (``configurations``, else the orders' own) gets every bin up to the
    horizon; bins without orders hold NaN, so plotted lines break instead of bridging an
    outage, and a run with no such order gives a frame of NaN, never an error. The drain
    after the horizon is left out (only slow stragglers finish there). ``LatencyOverTime``
    makes the same table from the orders a run at a time.
    """
    if configurations is None:
        column = orders["configuration"]
        known = column.cat.categories if hasattr(column, "cat") else column.unique()
        configurations = [str(c) for c in known]
    table = LatencyOverTime(horizon, bin_s, configurations)
    table.add(orders)
    return table.frame()


class LatencyOverTime:
    """``latency_over_time`` accumulated over parts of the orders (a run at a time), equal
    to it over all of them at once; each bin's latencies kept as distinct values with
    counts (sim.analysis.binned), so memory does not grow with the replications."""

    COMPLETED = ([0.5, 0.95, 0.99], ["p50_s", "p95_s", "p99_s", "orders"])
    ANSWERED = ([0.5, 0.99], ["result_p50_s", "result_p99_s", "results"])

    def __init__(self, horizon: float, bin_s: float, configurations: list[str]) -> None:
        self.horizon, self.bin_s = horizon, bin_s
        self.configurations = configurations
        self.completed, self.answered = BinnedValues(), BinnedValues()

    def add(self, orders: pd.DataFrame) -> None:
        """Orders with configuration, outcome, arrival_s and checkout_latency_s."""
        code = _codes(orders["configuration"], self.configurations)
        latency = orders["checkout_latency_s"].to_numpy(dtype=float)
        finish = orders["arrival_s"].to_numpy(dtype=float) + latency
        step = finish // self.bin_s
        kept = (step * self.bin_s + self.bin_s <= self.horizon) & (code >= 0)
        key = np.where(kept, code * BIN_KEYS + np.where(kept, step, 0).astype(np.int64), 0)
        outcome = orders["outcome"]
        done = kept & (outcome == "completed").to_numpy(dtype=bool)
        self.completed.add(key[done], latency[done])
        answered = kept & ~np.isnan(latency) & (outcome != "abandoned").to_numpy(dtype=bool)
        self.answered.add(key[answered], latency[answered])

    def frame(self) -> pd.DataFrame:
        """The table ``latency_over_time`` gives."""
        bins = [i * self.bin_s for i in range(int(self.horizon // self.bin_s))]
        full = pd.MultiIndex.from_product(
            [self.configurations, bins], names=["configuration", "time_s"]
        )
        out = pd.DataFrame(index=full, columns=["p50_s", "p95_s", "p99_s"], dtype=float)
        out["orders"] = 0.0
        out[["result_p50_s", "result_p99_s"]] = np.nan
        out["results"] = 0.0
        for values, (levels, columns) in (
            (self.completed, self.COMPLETED),
            (self.answered, self.ANSWERED),
        ):
            keys, quantiles, sizes = values.quantiles(levels)
            if not keys.size:
                continue
            where = pd.MultiIndex.from_arrays(
                [
                    [self.configurations[c] for c in keys // BIN_KEYS],
                    (keys % BIN_KEYS).astype(np.float64) * self.bin_s,
                ]
            )
            out.loc[where, columns] = np.column_stack([quantiles, sizes])
        out["orders"] = out["orders"].astype(int)
        out["results"] = out["results"].astype(int)
        return out.reset_index()


BIN_KEYS = 2**32  # a bin's key: configuration * BIN_KEYS + bin number


def _codes(column: pd.Series, names: list[str]) -> np.ndarray:
    """Each value's position in ``names`` (-1 when not there), from a categorical's codes
    when it is one (no string per order)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        where = {name: code for code, name in enumerate(names)}
        lookup = [where.get(str(c), -1) for c in column.cat.categories]
        table = np.array([*lookup, -1], dtype=np.int64)  # a missing value's code is -1
        return np.asarray(table[column.cat.codes.to_numpy()])
    return np.asarray(pd.Categorical(column.astype(str), categories=names).codes, dtype=np.int64)


def revenue_over_time(timeline: pd.DataFrame, horizon: float, bin_s: int = 60) -> pd.DataFrame:
    """Revenue captured per minute up to the horizon, mean over replications:
    configuration, time_s, revenue_captured."""
    binned = timeline.assign(time_s=(timeline["second"] // bin_s) * bin_s)
    binned = binned[binned["time_s"] + bin_s <= horizon]
    per_rep = binned.groupby(["configuration", "replication", "time_s"], observed=True)[
        "revenue_captured"
    ].sum()
    return per_rep.groupby(["configuration", "time_s"], observed=True).mean().reset_index()


def breaker_states(timeline: pd.DataFrame) -> pd.DataFrame:
    """Per configuration, breaker and second: the state code in the first replication and
    the share of replications in which the breaker was not closed."""
    columns = [c for c in timeline.columns if c.startswith("breaker_")]
    if not columns:
        return pd.DataFrame(columns=["configuration", "breaker", "second", "state", "share_open"])
    long = timeline.melt(
        id_vars=["configuration", "replication", "second"],
        value_vars=columns,
        var_name="breaker",
        value_name="state",
    ).dropna(subset=["state"])
    long["breaker"] = long["breaker"].str.removeprefix("breaker_")
    long["not_closed"] = (long["state"] > 0).astype(float)
    keys = ["configuration", "breaker", "second"]
    share = long.groupby(keys, observed=True)["not_closed"].mean().rename("share_open")
    first = long[long["replication"] == long["replication"].min()]
    state = first.set_index(keys)["state"]
    return pd.DataFrame(pd.concat([state, share], axis=1).reset_index())


def throughput_over_time(timeline: pd.DataFrame, bin_s: int = 60) -> pd.DataFrame:
    """Arrivals and outcomes per second, averaged per bin over replications."""
    metrics = ["arrivals", "completed", "failed", "abandoned"]
    binned = timeline.assign(time_s=(timeline["second"] // bin_s) * bin_s)
    mean = binned.groupby(["configuration", "time_s"], observed=True)[metrics].mean()
    return pd.DataFrame(mean.reset_index())


__all__ = [
    "breaker_states",
    "fault_windows",
    "latency_over_time",
    "revenue_lost",
    "revenue_over_time",
    "throughput_over_time",
]
