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
