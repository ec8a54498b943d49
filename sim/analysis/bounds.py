"""Intervals of quantities that cannot leave a range: counts, money lost, times, shares.

The t interval over few replications that vary a lot can reach below 0 ("failed 78 ± 133")
or above 100 %. Such an interval is clipped at the bound and marked (``clipped``) in every
output: terminal, report.md and report.html, ``--json`` and the CSV files. Clipping never
lowers the interval's coverage: the true mean lies inside the bound, so the clipped
interval holds it exactly when the t interval does. Paired differences are never clipped
(they may be negative).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.stats import by_configuration

# Summary metrics that may be negative: revenue captured is net of fees, and a fixed fee
# can exceed a very small basket.
SIGNED = frozenset({"revenue_captured"})


def metric_bounds(metric: str) -> tuple[float, float]:
    """The range a summary metric's mean cannot leave: 0 to 100 for a percentage, 0 to 1
    for a share of a whole or a yes/no per run, 0 to infinity for a count, an amount of
    money lost, paid or refunded, and a time."""
    if metric in SIGNED:
        return -math.inf, math.inf
    if metric.endswith("_pct"):
        return 0.0, 100.0
    if metric.startswith("gateway_share_") or metric == "stayed_degraded":
        return 0.0, 1.0
    return 0.0, math.inf


def bounded(ci: pd.DataFrame) -> pd.DataFrame:
    """``ci`` (configuration, metric, mean, ci_low, ci_high, ...) with each interval
    clipped to its metric's range and a ``clipped`` column saying where that happened
    (kept when ``ci`` was clipped already)."""
    out = ci.copy()
    if out.empty:
        out["clipped"] = pd.Series(dtype=bool)
        return out
    ranges = [metric_bounds(str(m)) for m in out["metric"]]
    low = np.array([r[0] for r in ranges])
    high = np.array([r[1] for r in ranges])
    ci_low = out["ci_low"].to_numpy(dtype=float)
    ci_high = out["ci_high"].to_numpy(dtype=float)
    crossed = (ci_low < low) | (ci_high > high)
    before = out["clipped"].fillna(False).astype(bool) if "clipped" in out.columns else False
    out["ci_low"] = np.where(ci_low < low, low, ci_low)
    out["ci_high"] = np.where(ci_high > high, high, ci_high)
    out["clipped"] = crossed | before
    return out


def intervals(summary: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """The summary's mean and interval per configuration and metric
    (``sim.analysis.stats.by_configuration``), bounded."""
    return bounded(by_configuration(summary, level))
