"""Matplotlib drawings of the data ``sim.analysis.plotdata`` computes. Draws only."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

CAUSE_COLORS = {
    "abandoned": "#f2a541",
    "inventory": "#6c8ebf",
    "payment": "#d1495b",
    "order_record": "#8e6c8a",
    "stockout": "#b5b5b5",
    "fulfillment": "#5b8e7d",
    "unfinished": "#7f7f7f",
}
STATE_COLORS = ["#8cc084", "#f2d06b", "#d1495b", "#7a1f2b", "#bbbbbb", "#9ecae1"]
STATE_NAMES = ["closed", "half_open", "open", "forced_open", "disabled", "metrics_only"]


def shade_faults(ax: Axes, faults: pd.DataFrame, scale: float = 60.0) -> None:
    """Grey bands over fault windows, labelled with target and kind."""
    for _, f in faults.iterrows():
        ax.axvspan(f["start_s"] / scale, f["end_s"] / scale, color="0.85", zorder=0)
        ax.text(
            f["start_s"] / scale,
            1.0,
            f" {f['target']} {f['kind']}",
            transform=ax.get_xaxis_transform(),
            va="top",
            ha="left",
            fontsize=7,
            color="0.35",
        )


def revenue_lost_bars(data: pd.DataFrame) -> Figure:
    """Stacked bars of mean revenue lost by cause, with the total's 95 % interval."""
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(data) + 1.8))
    left = pd.Series(0.0, index=data.index)
    for cause, color in CAUSE_COLORS.items():
        values = data[cause]
        if not values.any():
            continue
        ax.barh(data["configuration"], values, left=left, color=color, label=cause)
        left += values
    err = [data["total"] - data["ci_low"], data["ci_high"] - data["total"]]
    ax.errorbar(
        data["total"], data["configuration"], xerr=err, fmt="none", ecolor="black", capsize=4
    )
    ax.invert_yaxis()
    ax.set_xlabel("revenue lost per run (mean; bar: 95 % interval of the total)")
    ax.set_title("Revenue lost by configuration and cause")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def latency_lines(data: pd.DataFrame, faults: pd.DataFrame) -> Figure:
    """p95 (solid) and p50 (dotted) checkout latency over time per configuration."""
    fig, ax = plt.subplots(figsize=(9, 4))
    shade_faults(ax, faults)
    for i, (config, part) in enumerate(data.groupby("configuration", sort=False, observed=True)):
        color = f"C{i}"
        minutes = part["time_s"] / 60
        ax.plot(minutes, part["p95_s"], color=color, label=f"{config} p95")
        ax.plot(minutes, part["p50_s"], color=color, linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("checkout latency (s, log)")
    ax.set_title("Checkout latency over time (dotted: median); grey: fault windows")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def breaker_bands(data: pd.DataFrame, faults: pd.DataFrame) -> Figure:
    """One band per configuration x breaker, coloured by state (first replication)."""
    data = data.dropna(subset=["state"])  # seconds the first replication did not reach
    pairs = data[["configuration", "breaker"]].drop_duplicates()
    keys = [(str(c), str(b)) for c, b in pairs.itertuples(index=False)]
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(keys), 1) + 1.6))
    cmap = ListedColormap(STATE_COLORS)
    for row, (config, breaker) in enumerate(keys):
        part = data[(data["configuration"] == config) & (data["breaker"] == breaker)]
        seconds = part["second"].to_numpy()
        states = part["state"].to_numpy()[None, :]
        ax.imshow(
            states,
            aspect="auto",
            cmap=cmap,
            vmin=-0.5,
            vmax=len(STATE_COLORS) - 0.5,
            extent=(seconds[0] / 60, (seconds[-1] + 1) / 60, row + 0.4, row - 0.4),
            interpolation="nearest",
        )
    for _, f in faults.iterrows():
        ax.axvline(f["start_s"] / 60, color="black", linewidth=0.8, linestyle="--")
        ax.axvline(f["end_s"] / 60, color="black", linewidth=0.8, linestyle="--")
    ax.set_yticks(range(len(keys)), [f"{c}: {b}" for c, b in keys], fontsize=8)
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_xlabel("time (min); dashed: fault start and end")
    ax.set_title("Breaker state over time (first replication, sampled each second)")
    used = sorted(set(data["state"].astype(int)))
    ax.legend(
        handles=[Patch(color=STATE_COLORS[s], label=STATE_NAMES[s]) for s in used],
        loc="lower left",
        bbox_to_anchor=(1.01, 0.0),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    return fig


def revenue_lines(data: pd.DataFrame, faults: pd.DataFrame) -> Figure:
    """Revenue captured per minute per configuration (mean over replications)."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    shade_faults(ax, faults)
    for i, (config, part) in enumerate(data.groupby("configuration", sort=False, observed=True)):
        ax.plot(part["time_s"] / 60, part["revenue_captured"], color=f"C{i}", label=config)
    ax.set_xlabel("time (min)")
    ax.set_ylabel("revenue captured per minute")
    ax.set_title("Revenue captured over time; grey: fault windows")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=110)
    plt.close(fig)
