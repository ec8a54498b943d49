"""Means with 95 % confidence intervals over replications (Student t)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

ID_COLUMNS = ("configuration", "replication")


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high); a single replication or a constant gives a zero-width interval."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, mean, mean
    sem = float(values.std(ddof=1)) / math.sqrt(values.size)
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1)) * sem
    return mean, mean - half, mean + half


def by_configuration(summary: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Long table: configuration, metric, mean, ci_low, ci_high, replications."""
    order = list(dict.fromkeys(summary["configuration"]))
    metrics = [c for c in summary.columns if c not in ID_COLUMNS]
    rows = []
    for config in order:
        part = summary[summary["configuration"] == config]
        for metric in metrics:
            mean, low, high = mean_ci(part[metric].to_numpy(dtype=float), level)
            rows.append(
                {
                    "configuration": config,
                    "metric": metric,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "replications": len(part),
                }
            )
    return pd.DataFrame(rows)


def paired_differences(summary: pd.DataFrame, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Per configuration other than ``baseline`` and metric: the mean of the per-replication
    differences (configuration − baseline) with its interval. Replications pair up because
    both configurations saw the same customers and faults (common random numbers), so the
    interval is far narrower than one from two independent means.

    Long table: configuration, baseline, metric, mean, ci_low, ci_high, replications,
    baseline_mean, relative (mean difference over the baseline's mean; NaN when that is 0).
    """
    columns = [
        "configuration",
        "baseline",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "replications",
        "baseline_mean",
        "relative",
    ]
    metrics = [c for c in summary.columns if c not in ID_COLUMNS]
    base = summary[summary["configuration"] == baseline].set_index("replication")
    rows = []
    for config in dict.fromkeys(summary["configuration"]):
        if config == baseline:
            continue
        part = summary[summary["configuration"] == config].set_index("replication")
        common = part.index.intersection(base.index)
        for metric in metrics:
            a = part.loc[common, metric].to_numpy(dtype=float)
            b = base.loc[common, metric].to_numpy(dtype=float)
            mean, low, high = mean_ci(a - b, level)
            known = b[~np.isnan(b)]
            base_mean = float(known.mean()) if known.size else math.nan
            rows.append(
                {
                    "configuration": config,
                    "baseline": baseline,
                    "metric": metric,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "replications": len(common),
                    "baseline_mean": base_mean,
                    "relative": mean / base_mean if base_mean else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=columns)


def half_width(values: np.ndarray, level: float = 0.95) -> float:
    """Half the width of the mean's interval (inf with fewer than two values)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return math.inf
    _, low, high = mean_ci(values, level)
    return (high - low) / 2


def replications_needed(
    summary: pd.DataFrame,
    metric: str,
    target: float,
    *,
    relative: bool,
    cap: int,
    level: float = 0.95,
) -> int:
    """How many replications every configuration should have for the interval of ``metric``
    to have a half-width below ``target`` (a share of the mean when ``relative``), capped at
    ``cap``; the current count when every configuration is there already.

    The estimate scales each configuration's count by (half-width / target)²; it never
    depends on how many workers ran the replications, so the stopping point is the same
    serial or parallel.
    """
    current = int(summary.groupby("configuration", observed=True).size().min())
    if current >= cap:
        return current
    needed = current
    for _, part in summary.groupby("configuration", sort=False, observed=True):
        values = part[metric].to_numpy(dtype=float)
        half = half_width(values, level)
        goal = target * abs(float(np.nanmean(values))) if relative else target
        if half < goal or (half == 0 and goal == 0):
            continue
        if current < 2 or not math.isfinite(half):
            needed = max(needed, 2 if current < 2 else current + 1)
            continue
        if goal <= 0:
            needed = max(needed, cap)
            continue
        # This configuration's own count: one with more replications than the fewest
        # needs more than current x (half / goal)^2.
        estimate = math.ceil(len(values) * (half / goal) ** 2)
        needed = max(needed, current + 1, estimate)
    return min(needed, cap) if needed > current else current
