"""Choosing a setting from a sweep: one row per point with its intervals, the Pareto front
of two metrics to minimise, and the pick that respects a budget on the whole interval."""

from __future__ import annotations

import pandas as pd


def sweep_points(table: pd.DataFrame, params: list[str], metrics: list[str]) -> pd.DataFrame:
    """The tidy ``sweep.csv`` table, one row per point (the base configuration left out):
    configuration, the parameters, then per metric its mean, ``_ci_low``, ``_ci_high`` and
    the paired difference with the base, ``_diff``, ``_diff_ci_low``, ``_diff_ci_high``."""
    points = table[~table["is_base"].astype(bool)]
    out = points[["configuration", *params]].drop_duplicates("configuration")
    out = out.set_index("configuration")
    for metric in metrics:
        part = points[points["metric"] == metric].set_index("configuration")
        out[metric] = part["mean"]
        out[f"{metric}_ci_low"] = part["ci_low"]
        out[f"{metric}_ci_high"] = part["ci_high"]
        out[f"{metric}_diff"] = part["diff_mean"]
        out[f"{metric}_diff_ci_low"] = part["diff_ci_low"]
        out[f"{metric}_diff_ci_high"] = part["diff_ci_high"]
    return out.reset_index()


def pareto_front(points: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """``points`` with a ``pareto`` column: True where no other point is at least as good
    on both means (both minimised) and strictly better on one."""
    xs = points[x].to_numpy(dtype=float)
    ys = points[y].to_numpy(dtype=float)
    front = [
        not any(
            (xs[j] <= xs[i] and ys[j] <= ys[i]) and (xs[j] < xs[i] or ys[j] < ys[i])
            for j in range(len(xs))
        )
        for i in range(len(xs))
    ]
    return points.assign(pareto=front)


def pick_setting(points: pd.DataFrame, objective: str, budget_metric: str, budget: float) -> int:
    """Index (label) of the point with the lowest mean ``objective`` among those whose whole
    95 % interval of ``budget_metric`` stays below ``budget``: a setting chosen on its
    interval, not its luck. Ties go to the narrower interval of the objective. Raises
    ValueError when no point meets the budget."""
    ok = points[points[f"{budget_metric}_ci_high"] < budget]
    if ok.empty:
        raise ValueError(f"no point keeps the whole interval of {budget_metric} below {budget}")
    width = ok[f"{objective}_ci_high"] - ok[f"{objective}_ci_low"]
    ranked = ok.assign(_width=width).sort_values([objective, "_width"], kind="stable")
    return int(ranked.index[0])


def feasible(points: pd.DataFrame, budget_metric: str, budget: float) -> pd.DataFrame:
    """``points`` with a ``feasible`` column (the budget met on the whole interval), the
    shape ``sim.report.sweep_plots.pareto`` draws."""
    return points.assign(feasible=points[f"{budget_metric}_ci_high"] < budget)
