"""Drawings of a sweep: metric lines (one parameter), heat maps (two), scatter (more)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.analysis.landscape import Landscape
from sim.format import measured, number, unit_of
from sim.report.plots import save

PLOTTED = ("revenue_lost", "revenue_lost_pct", "checkout_p99_s", "breaker_trips")


def lines(
    table: pd.DataFrame,
    param: str,
    metric: str,
    group: str | None = None,
    land: Landscape | None = None,
) -> Figure:
    """``metric`` (mean and 95 % band) over ``param``; one line per value of ``group``.
    With the decision's ``land``: the difference with the base and its simultaneous band,
    the indifference zone ±δ shaded, equivalent points filled and the best starred."""
    if land is not None:
        return difference_lines(land, param, group)
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
    unit = unit_of(metric)
    ax.set_ylabel(f"{metric}{f' ({unit})' if unit else ''} (mean, 95 % interval)")
    ax.set_title(f"{metric} over {param.rsplit('.', 1)[-1]}")
    if group is not None:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def difference_lines(land: Landscape, param: str, group: str | None = None) -> Figure:
    """The decision's metric minus the base's over ``param`` with its simultaneous interval,
    ±δ shaded: a point whose band crosses the shade cannot be told from the base."""
    d = land.decision
    data = land.points[~land.points["is_base"]]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.axhspan(-d.delta, d.delta, color="0.88", label=f"±δ ({d.zone})")
    ax.axhline(0, color="0.4", linewidth=0.8)
    groups: list[tuple[str | None, pd.DataFrame]] = [(None, data)]
    if group is not None:
        name = group.rsplit(".", 1)[-1]
        groups = [(f"{name}={land.show(group, k)}", p) for k, p in data.groupby(group, sort=True)]
    for i, (label, part) in enumerate(groups):
        part = part.sort_values(param)
        color = f"C{i}"
        ax.plot(part[param], part["vs_base_mean"], color=color, label=label, linewidth=1)
        ax.fill_between(part[param], part["vs_base_low"], part["vs_base_high"], color=color,
                        alpha=0.15)  # fmt: skip
        same = part[part["equivalent"]]
        ax.scatter(same[param], same["vs_base_mean"], color=color, zorder=3)
        other = part[~part["equivalent"]]
        ax.scatter(other[param], other["vs_base_mean"], facecolors="white", edgecolors=color,
                   zorder=3)  # fmt: skip
    best = data[data["best"]]
    if not best.empty:
        ax.scatter(best[param], best["vs_base_mean"], marker="*", s=220, color="gold",
                   edgecolors="black", zorder=4, label="best")  # fmt: skip
    ax.set_xlabel(param.rsplit(".", 1)[-1])
    ax.set_ylabel(f"{d.metric} − base{f' ({d.unit})' if d.unit else ''} (simultaneous 95 %)")
    ax.set_title(f"{d.metric} against the base: filled = equivalent to the best within δ")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def heatmap(
    table: pd.DataFrame, x: str, y: str, metric: str, land: Landscape | None = None
) -> Figure:
    """Mean of ``metric`` on a grid of two parameters; each cell shows mean ± half-width.
    With the decision's ``land``: coloured by the difference with the base the data
    support (white inside the noise), equivalent cells boxed, the best starred."""
    if land is not None:
        return difference_heatmap(land, x, y)
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
                text = measured(grid[i, j], grid[i, j] - half[i, j], grid[i, j] + half[i, j])
                text = text.replace(" ± ", "\n± ")
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white")
    ax.set_xticks(range(len(xs)), [number(v, 4) for v in xs])
    ax.set_yticks(range(len(ys)), [number(v, 4) for v in ys])
    ax.set_xlabel(x.rsplit(".", 1)[-1])
    ax.set_ylabel(y.rsplit(".", 1)[-1])
    ax.set_title(f"{metric}: mean ± 95 % half-width")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig


def difference_heatmap(land: Landscape, x: str, y: str) -> Figure:
    """The decision on a grid: colour = the difference with the base that the data support
    (its simultaneous interval shrunk to the end nearest 0; white when it holds 0), red
    worse and blue better; boxed cells cannot be told apart from the best within δ."""
    d = land.decision
    data = land.points[~land.points["is_base"]]
    xs = sorted(data[x].unique())
    ys = sorted(data[y].unique())
    shape = (len(ys), len(xs))
    colour, means = np.full(shape, math.nan), np.full(shape, math.nan)
    sign = 1.0 if d.direction == "minimize" else -1.0
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 3, 0.65 * len(ys) + 2.2))
    cells = []
    for values in data.to_dict("records"):
        i, j = ys.index(values[y]), xs.index(values[x])
        colour[i, j] = sign * values["supported"]
        means[i, j] = values["mean"]
        cells.append((i, j, values))
    reach = float(np.nanmax(np.abs(colour))) if np.isfinite(colour).any() else 0.0
    reach = reach or 1.0
    image = ax.imshow(colour, origin="lower", aspect="auto", cmap="RdBu_r",
                      norm=TwoSlopeNorm(vmin=-reach, vcenter=0.0, vmax=reach))  # fmt: skip
    for i, j, values in cells:
        text = number(means[i, j])
        if values["best"]:
            text = "★ " + text
        if values["candidate"] in land.unexercised:
            text += "\nno trip"  # its breaker never opened
        strong = abs(colour[i, j]) > 0.6 * reach
        ax.text(j, i, text, ha="center", va="center", fontsize=7,
                color="white" if strong else "black")  # fmt: skip
        if values["equivalent"]:
            style = "solid" if values["proven"] else "dashed"
            ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, linewidth=1.8,
                                   linestyle=style))  # fmt: skip
    ax.set_xticks(range(len(xs)), [land.show(x, v) for v in xs])
    ax.set_yticks(range(len(ys)), [land.show(y, v) for v in ys])
    ax.set_xlabel(x.rsplit(".", 1)[-1])
    ax.set_ylabel(y.rsplit(".", 1)[-1])
    unit = f" ({d.unit})" if d.unit else ""
    never = "; no trip: its breaker never opened" if land.unexercised else ""
    ax.set_title(
        f"{d.metric}{unit}: mean per cell; colour: the difference with the base the data\n"
        "support (white: within the noise); boxed: not told apart from the best within δ\n"
        f"(solid: shown within δ); δ = {d.zone}{never}",
        fontsize=8,
    )
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(f"− base{unit}; red: {'worse' if sign > 0 else 'better'}", fontsize=8)
    fig.tight_layout()
    return fig


def scatter(
    table: pd.DataFrame, params: list[str], metric: str, land: Landscape | None = None
) -> Figure:
    """``metric`` against each parameter, with 95 % interval bars (Latin hypercubes).
    With the decision's ``land``: the difference with the base and its simultaneous
    interval instead, equivalent points filled, the best starred."""
    if land is not None:
        return difference_scatter(land, params)
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


def pareto(table: pd.DataFrame, x: str, y: str) -> Figure:
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


def difference_scatter(land: Landscape, params: list[str]) -> Figure:
    """The decision's metric minus the base's at each sampled point, against each
    parameter, with simultaneous intervals and ±δ shaded."""
    d = land.decision
    data = land.points[~land.points["is_base"]]
    fig, axes = plt.subplots(1, len(params), figsize=(4 * len(params), 3.6), squeeze=False)
    for ax, param in zip(axes[0], params, strict=True):
        ax.axhspan(-d.delta, d.delta, color="0.88")
        for equivalent, face in ((True, "C0"), (False, "white")):
            part = data[data["equivalent"] == equivalent]
            err = [part["vs_base_mean"] - part["vs_base_low"],
                   part["vs_base_high"] - part["vs_base_mean"]]  # fmt: skip
            ax.errorbar(part[param], part["vs_base_mean"], yerr=err, fmt="o", capsize=3,
                        mfc=face, color="C0")  # fmt: skip
        best = data[data["best"]]
        ax.scatter(best[param], best["vs_base_mean"], marker="*", s=200, color="gold",
                   edgecolors="black", zorder=4)  # fmt: skip
        base = land.points[land.points["is_base"]]
        ax.scatter(base[param], [0.0] * len(base), marker="D", color="black", zorder=4,
                   label="base")  # fmt: skip
        ax.set_xlabel(param.rsplit(".", 1)[-1])
        ax.set_ylabel(f"{d.metric} − base{f' ({d.unit})' if d.unit else ''}")
    fig.suptitle(
        f"{d.metric} against the base, simultaneous 95 % intervals; shaded: ±δ; filled: "
        "cannot be told apart from the best; ★ best",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def draw_all(
    table: pd.DataFrame,
    params: list[str],
    sampled: bool,
    directory: Path,
    land: Landscape | None = None,
) -> list[Path]:
    """Plots of the main metrics over the parameters, written in ``directory``; the
    decision's metric coloured by its difference with the base, the equivalent region
    marked."""
    points = table[~table["is_base"]]
    written = []
    decided = land.decision.metric if land is not None else None
    metrics = [*PLOTTED, *([decided] if decided and decided not in PLOTTED else [])]
    for metric in metrics:
        if metric not in set(points["metric"]):
            continue
        own = land if metric == decided else None
        if sampled or len(params) > 2:
            fig = scatter(points, params, metric, own)
        elif len(params) == 2:
            fig = heatmap(points, params[0], params[1], metric, own)
        else:
            fig = lines(points, params[0], metric, land=own)
        path = directory / f"sweep_{metric}.png"
        save(fig, path)
        written.append(path)
        if len(params) == 2 and not sampled:
            path = directory / f"sweep_{metric}_lines.png"
            fig = lines(points, params[0], metric, group=params[1], land=own)
            save(fig, path)
            written.append(path)
    return written
