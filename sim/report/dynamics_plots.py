"""Drawings of a run's dynamics: the scenario and fault timeline, queue depths and dependency
call amplification (data from ``sim.analysis.dynamics``). Draws only."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.report.plots import note, shade_faults, stairs, time_axis

KIND_COLORS = {
    "outage": "#d1495b",
    "error_rate": "#f2a541",
    "latency": "#6c8ebf",
    "hang": "#7a1f2b",
    "capacity": "#8e6c8a",
    "flapping": "#e07a5f",
    "trace": "#3d405b",
}


def fault_gantt(
    schedule: pd.DataFrame,
    arrivals: pd.DataFrame,
    dependencies: list[str],
    until: float,
    bin_s: float = 60.0,
) -> Figure:
    """Top: arrivals per second (mean over replications, per bin). Bottom: one row per
    dependency, a bar for each interval a fault is active, coloured by kind, hatched while
    it ramps. The time axis runs to ``until`` seconds."""
    rows = list(dict.fromkeys([*schedule["target"], *dependencies]))
    fig, (top, ax) = plt.subplots(
        2,
        1,
        figsize=(9, 1.6 + 0.32 * len(rows) + 1.6),
        sharex=True,
        gridspec_kw={"height_ratios": [1.3, 0.3 * len(rows) + 0.4]},
    )
    for i, (config, part) in enumerate(arrivals.groupby("configuration", observed=True)):
        if i == 0:  # every configuration faces the same customers
            stairs(top, part["time_s"], part["arrivals"], bin_s, color="0.3")
            top.set_title(f"Arrivals (configuration {config}; all see the same)", fontsize=9)
    top.set_ylabel("orders/s")
    top.set_ylim(bottom=0)
    for _, f in schedule.iterrows():
        y = rows.index(str(f["target"]))
        color = KIND_COLORS.get(str(f["kind"]), "0.5")
        start, end = f["start_s"] / 60, f["end_s"] / 60
        ramp = min(float(f["ramp_s"]), float(f["end_s"] - f["start_s"])) / 60
        ax.barh(y, end - start, left=start, height=0.6, color=color, alpha=0.9)
        if ramp > 0:
            ax.barh(y, ramp, left=start, height=0.6, color="white", alpha=0.5, hatch="///")
        if end < until / 60:
            ax.text(end, y, f" {f['label']}", va="center", fontsize=7, clip_on=True)
        else:  # runs past the axis: labelled inside its bar's visible end
            ax.text(until / 60, y, f"{f['label']} ", va="center", ha="right", fontsize=7)
        top.axvspan(start, end, color="0.9", zorder=0)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    time_axis(ax, until)
    kinds = list(dict.fromkeys(schedule["kind"]))
    if kinds:
        ax.legend(
            handles=[Patch(color=KIND_COLORS.get(str(k), "0.5"), label=str(k)) for k in kinds],
            fontsize=7,
            loc="lower right",
        )
    else:
        ax.text(0.5, 0.5, "no faults", transform=ax.transAxes, ha="center", color="0.4")
    ax.set_title("Faults per dependency (hatched: ramping up)", fontsize=9)
    fig.tight_layout()
    return fig


def queue_depth_lines(
    data: pd.DataFrame, faults: pd.DataFrame, until: float, bin_s: float = 10.0
) -> Figure:
    """One panel per queue (checkout, and capture when used): mean depth per configuration
    and bin, as steps."""
    queues = list(dict.fromkeys(data["queue"]))
    fig, axes = plt.subplots(
        len(queues), 1, figsize=(9, 2.8 * len(queues) + 0.6), sharex=True, squeeze=False
    )
    for ax, queue in zip(axes[:, 0], queues, strict=True):
        shade_faults(ax, faults)
        part = data[data["queue"] == queue]
        for i, (config, lines) in enumerate(
            part.groupby("configuration", sort=False, observed=True)
        ):
            stairs(ax, lines["time_s"], lines["depth"], bin_s, color=f"C{i}", label=str(config))
        ax.set_ylabel(f"{queue} queue (orders)")
        ax.set_ylim(bottom=0)
        time_axis(ax, until)
    axes[0, 0].set_title("Queue depth over time (mean over replications); grey: fault windows")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def amplification_lines(
    data: pd.DataFrame, faults: pd.DataFrame, until: float | None = None, bin_s: float = 60.0
) -> Figure:
    """Left: all dependency calls per arriving order per configuration. Right: the same per
    dependency for the dependencies whose ratio moved the most. Steps over the bins."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), sharex=True)
    for ax in (left, right):
        shade_faults(ax, faults)
    total = data[data["dependency"] == "all"]
    for i, (config, part) in enumerate(total.groupby("configuration", sort=False, observed=True)):
        stairs(left, part["time_s"], part["calls_per_order"], bin_s, color=f"C{i}",
               label=str(config))  # fmt: skip
    left.set_ylabel("dependency calls per arriving order")
    left.set_title("All dependencies", fontsize=9)
    if total["calls_per_order"].notna().any():
        left.legend(fontsize=8)
    else:
        note(left, "no order arrived")
    each = data[data["dependency"] != "all"]
    spread = each.groupby("dependency")["calls_per_order"].agg(lambda s: s.max() - s.min())
    shown = list(spread[spread > 0].sort_values(ascending=False).index[:3])
    styles = ["-", "--", ":"]
    for i, (config, part) in enumerate(each.groupby("configuration", sort=False, observed=True)):
        for style, dependency in zip(styles, shown, strict=False):
            lines = part[part["dependency"] == dependency]
            label = f"{config}: {dependency}"
            stairs(right, lines["time_s"], lines["calls_per_order"], bin_s, color=f"C{i}",
                   ls=style, label=label)  # fmt: skip
    right.set_title("Dependencies whose ratio moved most", fontsize=9)
    if shown:
        right.legend(fontsize=6, ncol=2)
    else:
        note(right, "no dependency's ratio moved")
    for ax in (left, right):
        time_axis(ax, until)
        ax.set_ylim(bottom=0)
    fig.suptitle(
        "Dependency call amplification (calls per arriving order, per "
        + ("minute" if bin_s == 60 else f"{bin_s:g} s")
        + " bin)"
    )
    fig.tight_layout()
    return fig


def trace_panels(trace: pd.DataFrame, horizon: float) -> Figure:
    """An incident trace: shares of calls (availability, error rates) on top, latency
    percentiles or multiplier below, on the simulation's clock."""
    rates = [c for c in trace.columns if c == "availability" or c.endswith("_rate")]
    latency = [c for c in trace.columns if c.startswith("latency_")]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    minutes = trace["time_s"] / 60
    for column in rates:
        top.plot(minutes, trace[column], marker=".", label=column)
    top.set_ylabel("share of calls")
    top.set_ylim(-0.02, 1.02)
    top.legend(fontsize=8)
    top.set_title("Incident trace as replayed (points: the trace's rows, interpolated between)")
    for column in latency:
        bottom.plot(minutes, trace[column], marker=".", label=column)
    bottom.set_ylabel("latency (s)" if "latency_multiplier" not in latency else "latency")
    bottom.legend(fontsize=8)
    bottom.set_xlabel("time (min)")
    bottom.set_xlim(0, horizon / 60)
    fig.tight_layout()
    return fig


def series_lines(
    data: pd.DataFrame,
    column: str,
    faults: pd.DataFrame,
    ylabel: str,
    title: str,
    until: float | None = None,
    bin_s: float = 30.0,
) -> Figure:
    """One timeline series (``sim.analysis.dynamics.series_over_time``, binned by
    ``bin_s``) per configuration, as steps."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    shade_faults(ax, faults)
    for i, (config, part) in enumerate(data.groupby("configuration", sort=False, observed=True)):
        stairs(ax, part["time_s"], part[column], bin_s, color=f"C{i}", label=str(config))
    time_axis(ax, until)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(f"{title}; grey: fault windows")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
