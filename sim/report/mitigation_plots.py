"""Drawings of the mitigations' effects: gateway shares, stock and oversells, confirmations."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sim.report.plots import note, shade_faults, time_axis

CHANNEL_COLORS = {
    "confirmed_in_app": "#8cc084",
    "confirmed_email": "#6c8ebf",
    "confirmed_sms": "#f2a541",
    "cs_followups": "#d1495b",
}


def gateway_share_areas(
    data: pd.DataFrame, faults: pd.DataFrame, until: float | None = None, bin_s: float = 60.0
) -> Figure:
    """One panel per configuration: stacked share of completed orders per gateway, each
    bin's shares held over the whole bin."""
    configs = list(dict.fromkeys(data["configuration"]))
    gateways = sorted(set(data["gateway"]) - {""})
    if not configs:  # no order completed: no shares to draw
        fig, ax = plt.subplots(figsize=(9, 2.6))
        note(ax, "no completed orders: no gateway shares")
        time_axis(ax, until)
        ax.set_title("Share of completed orders by gateway")
        fig.tight_layout()
        return fig
    fig, axes = plt.subplots(
        len(configs), 1, figsize=(9, 1.6 * len(configs) + 1), sharex=True, squeeze=False
    )
    for ax, config in zip(axes[:, 0], configs, strict=True):
        part = data[data["configuration"] == config]
        wide = part.pivot_table(index="time_s", columns="gateway", values="share", observed=True)
        wide = wide.reindex(columns=gateways).fillna(0.0)
        # The last bin repeated at its end, so post-steps cover it whole.
        edges = [*wide.index, wide.index[-1] + bin_s] if len(wide) else []
        wide = wide.reindex(edges, method="ffill") if len(wide) else wide
        ax.stackplot(
            wide.index / 60, *(wide[g] for g in gateways), labels=gateways, alpha=0.85,
            step="post",
        )  # fmt: skip
        shade_faults(ax, faults)
        ax.set_ylim(0, 1)
        ax.set_ylabel(config, fontsize=8, rotation=0, ha="right", va="center")
        time_axis(ax, until)
    axes[0, 0].set_title("Share of completed orders by gateway; grey: fault windows")
    axes[0, 0].legend(loc="lower left", fontsize=8, ncol=len(gateways))
    fig.tight_layout()
    return fig


def stock_lines(data: pd.DataFrame, faults: pd.DataFrame, until: float | None = None) -> Figure:
    """Units left (top) and units oversold (bottom) over time per configuration."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for i, (config, part) in enumerate(data.groupby("configuration", sort=False, observed=True)):
        minutes = part["second"] / 60
        top.plot(minutes, part["stock_units"], color=f"C{i}", label=str(config))
        bottom.plot(minutes, part["oversold_units"], color=f"C{i}")
    for ax in (top, bottom):
        shade_faults(ax, faults)
        time_axis(ax, until)
    top.set_ylabel("units in stock")
    bottom.set_ylabel("units oversold")
    top.set_title("Stock and oversells over time (mean over replications)")
    top.legend(fontsize=8)
    fig.tight_layout()
    return fig


def confirmation_bars(data: pd.DataFrame) -> Figure:
    """Stacked bars: how completed orders were confirmed, and duplicates beside them."""
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(data) + 1.8))
    left = pd.Series(0.0, index=data.index)
    for column, color in CHANNEL_COLORS.items():
        if column not in data.columns:
            continue
        label = column.removeprefix("confirmed_").replace("cs_followups", "customer service")
        ax.barh(data["configuration"], data[column], left=left, color=color, label=label)
        left += data[column]
    ends = left.tolist()
    dup = data.get("duplicate_submissions", pd.Series(0.0, index=data.index)).tolist()
    twice = data.get("duplicate_orders", pd.Series(0.0, index=data.index)).tolist()
    for y, (end, submitted, charged) in enumerate(zip(ends, dup, twice, strict=True)):
        if submitted:
            text = f"  resubmitted: {submitted:.0f} (charged twice {charged:.0f})"
            ax.text(end, y, text, va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("completed orders per run (mean)")
    ax.set_title("Confirmations by channel")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=4, frameon=False)
    fig.tight_layout()
    return fig
