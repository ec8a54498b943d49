"""The data behind every plot, computed apart from drawing so notebooks and the report
never disagree (Optuna's split)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.stats import mean_ci
from sim.analysis.summary import LOST_CAUSES
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
    """Per configuration: mean revenue lost by cause, and the total with its 95 % interval."""
    rows = []
    for config, part in summary.groupby("configuration", sort=False, observed=True):
        mean, low, high = mean_ci(part["revenue_lost"].to_numpy())
        row = {"configuration": config, "total": mean, "ci_low": low, "ci_high": high}
        for cause in LOST_CAUSES:
            row[cause] = float(part[f"revenue_lost_{cause}"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def latency_over_time(orders: pd.DataFrame, horizon: float, bin_s: float = 30.0) -> pd.DataFrame:
    """Checkout latency percentiles of completed orders by completion time, pooled over
    replications: configuration, time_s (bin start), p50_s, p95_s, p99_s, orders.

    Bins without completions are kept with NaN so plotted lines break instead of bridging
    an outage; the drain after the horizon is left out (only slow stragglers finish there).
    """
    done = orders[orders["outcome"] == "completed"]
    finish = done["arrival_s"] + done["checkout_latency_s"]
    binned = done.assign(time_s=(finish // bin_s) * bin_s)
    binned = binned[binned["time_s"] + bin_s <= horizon]
    grouped = binned.groupby(["configuration", "time_s"], observed=True)["checkout_latency_s"]
    out = grouped.quantile(np.array([0.5, 0.95, 0.99])).unstack()
    out.columns = ["p50_s", "p95_s", "p99_s"]
    out["orders"] = grouped.size()
    configs = (
        orders["configuration"].cat.categories
        if hasattr(orders["configuration"], "cat")
        else orders["configuration"].unique()
    )
    full = pd.MultiIndex.from_product(
        [list(configs), [i * bin_s for i in range(int(horizon // bin_s))]],
        names=["configuration", "time_s"],
    )
    out = out.reindex(full)
    out["orders"] = out["orders"].fillna(0).astype(int)
    return out.reset_index()


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
