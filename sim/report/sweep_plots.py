"""Drawings of a sweep: metric lines (one parameter), heat maps (two), scatter (more)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def lines(table: pd.DataFrame, param: str, metric: str, group: str | None = None) -> Figure:
    """``metric`` (mean and 95 % band) over ``param``; one line per value of ``group``."""
    fig, ax = plt.subplots(figsize=(7, 4))
    data = table[table["metric"] == metric]
    groups: list[tuple[str | None, pd.DataFrame]] = [(None, data)]
    if group is not None:
        name = group.rsplit(".", 1)[-1]
        groups = [(f"{name}={k}", p) for k, p in data.groupby(group, sort=True)]
    for i, (label, part) in enumerate(groups):
        part = part.sort_values(param)
        ax.plot(part[param], part["mean"], marker="o", color=f"C{i}", label=label)
        ax.fill_between(part[param], part["ci_low"], part["ci_high"], color=f"C{i}", alpha=0.2)
    ax.set_xlabel(param.rsplit(".", 1)[-1])
    ax.set_ylabel(f"{metric} (mean, 95 % interval)")
    ax.set_title(f"{metric} over {param.rsplit('.', 1)[-1]}")
    if group is not None:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def heatmap(table: pd.DataFrame, x: str, y: str, metric: str) -> Figure:
    """Mean of ``metric`` on a grid of two parameters; each cell shows mean ± half-width."""
    data = table[table["metric"] == metric]
    xs = sorted(data[x].unique())
    ys = sorted(data[y].unique())
    grid = np.full((len(ys), len(xs)), math.nan)
    half = np.full_like(grid, math.nan)
    for _, row in data.iterrows():
        i, j = ys.index(row[y]), xs.index(row[x])
        grid[i, j] = row["mean"]
        half[i, j] = (row["ci_high"] - row["ci_low"]) / 2
    fig, ax = plt.subplots(figsize=(1.1 * len(xs) + 2.5, 0.6 * len(ys) + 2))
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    for i in range(len(ys)):
        for j in range(len(xs)):
            if not math.isnan(grid[i, j]):
                text = f"{grid[i, j]:.3g}\n±{half[i, j]:.2g}"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white")
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    ax.set_xlabel(x.rsplit(".", 1)[-1])
    ax.set_ylabel(y.rsplit(".", 1)[-1])
    ax.set_title(f"{metric}: mean ± 95 % half-width")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig


def scatter(table: pd.DataFrame, params: list[str], metric: str) -> Figure:
    """``metric`` against each parameter, with 95 % interval bars (Latin hypercubes)."""
    data = table[table["metric"] == metric]
    fig, axes = plt.subplots(1, len(params), figsize=(4 * len(params), 3.6), squeeze=False)
    for ax, param in zip(axes[0], params, strict=True):
        err = [data["mean"] - data["ci_low"], data["ci_high"] - data["mean"]]
        ax.errorbar(data[param], data["mean"], yerr=err, fmt="o", capsize=3)
        ax.set_xlabel(param.rsplit(".", 1)[-1])
        ax.set_ylabel(metric)
    fig.suptitle(f"{metric} at each sampled point (95 % intervals)")
    fig.tight_layout()
    return fig


def pareto(table: pd.DataFrame, x: str, y: str, best_first: pd.DataFrame) -> Figure:
    """Every trial on two objectives with 95 % intervals; the non-dominated ones joined
    (both minimised: lower left is better), infeasible trials hollow."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for feasible, marker in ((True, "o"), (False, "x")):
        part = table[table["feasible"] == feasible]
        if part.empty:
            continue
        xerr = [part[x] - part[f"{x}_ci_low"], part[f"{x}_ci_high"] - part[x]]
        yerr = [part[y] - part[f"{y}_ci_low"], part[f"{y}_ci_high"] - part[y]]
        ax.errorbar(part[x], part[y], xerr=xerr, yerr=yerr, fmt=marker, alpha=0.6,
                    label="feasible" if feasible else "violates a constraint")  # fmt: skip
    ok = table[table["feasible"]].sort_values(x)
    front = ok[ok[y] <= ok[y].cummin()]
    ax.plot(front[x], front[y], color="black", linewidth=1, label="Pareto front")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title("Trials on both objectives (bars: 95 % intervals)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
