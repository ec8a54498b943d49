"""The data behind every plot, computed apart from drawing so notebooks and the report
never disagree (Optuna's split)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    after the horizon is left out (only slow stragglers finish there).
    """
    if configurations is None:
        column = orders["configuration"]
        known = column.cat.categories if hasattr(column, "cat") else column.unique()
        configurations = [str(c) for c in known]
    bins = [i * bin_s for i in range(int(horizon // bin_s))]
    full = pd.MultiIndex.from_product([configurations, bins], names=["configuration", "time_s"])
    out = pd.DataFrame(index=full, columns=["p50_s", "p95_s", "p99_s"], dtype=float)
    out["orders"] = 0.0
    out[["result_p50_s", "result_p99_s"]] = np.nan
    out["results"] = 0.0
    done = orders[orders["outcome"] == "completed"]
    _fill(out, full, done, bin_s, horizon, [0.5, 0.95, 0.99], ["p50_s", "p95_s", "p99_s", "orders"])
    answered = orders[orders["checkout_latency_s"].notna() & (orders["outcome"] != "abandoned")]
    _fill(
        out,
        full,
        answered,
        bin_s,
        horizon,
        [0.5, 0.99],
        ["result_p50_s", "result_p99_s", "results"],
    )
    out["orders"] = out["orders"].astype(int)
    out["results"] = out["results"].astype(int)
    return out.reset_index()


def _fill(
    out: pd.DataFrame,
    full: pd.MultiIndex,
    orders: pd.DataFrame,
    bin_s: float,
    horizon: float,
    levels: list[float],
    columns: list[str],
) -> None:
    """Percentiles at ``levels`` of the orders' latency per configuration and bin of the
    time they ended, and their count: written into ``columns`` of ``out``."""
    finish = orders["arrival_s"] + orders["checkout_latency_s"]
    binned = orders.assign(time_s=(finish // bin_s) * bin_s)
    binned = binned[binned["time_s"] + bin_s <= horizon]
    if binned.empty:
        return
    binned = binned.astype({"configuration": str})
    grouped = binned.groupby(["configuration", "time_s"])["checkout_latency_s"]
    found = grouped.quantile(np.array(levels)).unstack()
    found.columns = columns[:-1]
    found[columns[-1]] = grouped.size()
    found = found[found.index.isin(full)]
    out.loc[found.index, columns] = found.to_numpy()


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
