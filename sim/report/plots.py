"""Matplotlib drawings of the data ``sim.analysis.plotdata`` computes. Draws only.

Every figure over time shares one axis, 0 to ``until`` seconds (shown in minutes), so the
figures of a report line up; binned series are drawn as steps over their bins, so a dip
starts where its bin starts, not a bin earlier.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import (
    AutoLocator,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    ScalarFormatter,
)

from sim.analysis.plotdata import causes_shown
from sim.format import number

CAUSE_COLORS = {
    "abandoned": "#f2a541",
    "inventory": "#6c8ebf",
    "payment": "#d1495b",
    "order_record": "#8e6c8a",
    "stockout": "#b5b5b5",
    "fulfillment": "#5b8e7d",
    "unfinished": "#7f7f7f",
    "crash": "#3d405b",
    "stuck_after_crash": "#1b1b1b",
}
OTHER_COLORS = ["#e07a5f", "#81b29a", "#f4a7b9", "#a0c4ff", "#bdb2ff", "#9c6644"]
STATE_COLORS = ["#8cc084", "#f2d06b", "#d1495b", "#7a1f2b", "#bbbbbb", "#9ecae1"]
STATE_NAMES = ["closed", "half_open", "open", "forced_open", "disabled", "metrics_only"]
NO_COMPLETED = "no completed orders"


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
            clip_on=True,
        )


def time_axis(ax: Axes, until: float | None) -> None:
    """The shared time axis: 0 to ``until`` seconds (None: as far as the data goes), in
    minutes."""
    if until is None:
        ax.set_xlim(left=0)
    else:
        ax.set_xlim(0, until / 60)
    ax.set_xlabel("time (min)")


def mark_horizon(fig: Figure, horizon: float) -> None:
    """A dotted line at the horizon on every axis of a timeline figure that runs past it
    (arrivals stopped there; the queues were still draining)."""
    for ax in fig.axes:
        if ax.get_xlim()[1] > horizon / 60 + 1e-9:
            ax.axvline(horizon / 60, color="0.3", linestyle=":", linewidth=1)


def note(ax: Axes, text: str) -> None:
    """A line of text in the middle of an axis that has no data to draw."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.35")


def stairs(ax: Axes, time_s: pd.Series, values: pd.Series, bin_s: float, **style: object) -> None:
    """A binned series as steps, each value held over its whole bin; missing bins leave a
    gap rather than a line bridging them."""
    if time_s.empty:
        return
    start = float(time_s.min())
    count = round((float(time_s.max()) - start) / bin_s) + 1
    slots = np.rint((time_s.to_numpy(dtype=float) - start) / bin_s).astype(int)
    filled = np.full(count, np.nan)
    filled[slots] = values.to_numpy(dtype=float)
    edges = (start + bin_s * np.arange(count + 1)) / 60
    ax.stairs(filled, edges, baseline=None, **style)  # type: ignore[arg-type]


def cause_colors(causes: list[str]) -> dict[str, str]:
    """A colour per cause: fixed for the usual ones, from a spare palette for others."""
    spare = iter(OTHER_COLORS * (len(causes) // len(OTHER_COLORS) + 1))
    return {c: CAUSE_COLORS[c] if c in CAUSE_COLORS else next(spare) for c in causes}


def revenue_lost_bars(data: pd.DataFrame, currency: str = "") -> Figure:
    """Stacked bars of mean revenue lost by every cause that lost revenue, with the total's
    95 % interval (its low end clipped at 0: revenue lost cannot be negative)."""
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(data) + 1.8))
    left = pd.Series(0.0, index=data.index)
    causes = causes_shown(data)
    for cause, color in cause_colors(causes).items():
        values = data[cause].fillna(0.0)
        ax.barh(data["configuration"], values, left=left, color=color, label=cause)
        left += values
    err = [data["total"] - data["ci_low_clipped"], data["ci_high"] - data["total"]]
    ax.errorbar(
        data["total"], data["configuration"], xerr=err, fmt="none", ecolor="black", capsize=4
    )
    ax.invert_yaxis()
    clipped = bool((data["ci_low"] < 0).any())
    unit = f" ({currency})" if currency else ""
    label = f"revenue lost per run{unit} (mean; bar: 95 % interval of the total"
    ax.set_xlabel(label + (", clipped at 0 †)" if clipped else ")"))
    ax.set_xlim(left=0)
    ax.set_title("Revenue lost by configuration and cause")
    if causes:
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


# Per configuration, drawn in order: the first widest, so a later line on top of it
# leaves it visible at both edges instead of hiding it.
WIDTHS = (3.2, 2.2, 1.5, 1.1, 0.9)


def width(i: int) -> float:
    return WIDTHS[min(i, len(WIDTHS) - 1)]


def latency_lines(
    data: pd.DataFrame, faults: pd.DataFrame, until: float, bin_s: float = 30.0
) -> Figure:
    """Latency per bin per configuration, p99 (solid) and median (dotted), in two panels:
    checkout latency of completed orders, and the time every order with a result
    (completed, failed or declined) waited for it. A configuration without such orders
    says so in the legend, and a run with none says so on the figure."""
    fig, axes = plt.subplots(2, 1, figsize=(10, 6.4), sharex=True)
    panels = [
        ("p99_s", "p50_s", "completed orders (checkout latency)"),
        ("result_p99_s", "result_p50_s", "every order with a result: completed, failed, declined"),
    ]
    for ax, (p99, p50, title) in zip(axes, panels, strict=True):
        shade_faults(ax, faults)
        drawn = False
        groups = data.groupby("configuration", sort=False, observed=True)
        for i, (config, part) in enumerate(groups):
            color = f"C{i}"
            if p99 not in part or part[p99].isna().all():
                ax.plot([], [], color=color, label=f"{config}: {NO_COMPLETED}")
                continue
            lw = width(i)
            stairs(ax, part["time_s"], part[p99], bin_s, color=color, linewidth=lw, label=config)
            stairs(ax, part["time_s"], part[p50], bin_s, color=color, linestyle=":",
                   linewidth=max(lw / 2, 0.8))  # fmt: skip
            drawn = True
        if drawn:
            ax.set_yscale("log")
            ax.set_ylabel("seconds (log)")
        else:
            note(ax, f"{NO_COMPLETED}: no latency to show")
            ax.set_ylabel("seconds")
            ax.set_yticks([])
        ax.set_title(title, fontsize=9, loc="left")
        if len(data):
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    time_axis(axes[-1], until)
    axes[0].set_xlabel("")
    fig.suptitle(
        f"Latency over time: p99 (solid), median (dotted), {bin_s:g} s bins; grey: fault windows",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def breaker_bands(data: pd.DataFrame, faults: pd.DataFrame, until: float) -> Figure:
    """One band per configuration x breaker, coloured by state (first replication), up to
    ``until`` seconds."""
    data = data.dropna(subset=["state"])  # seconds the first replication did not reach
    data = data[data["second"] < until]
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
    ax.set_ylim(max(len(keys), 1) - 0.5, -0.5)
    time_axis(ax, until)
    ax.set_xlabel("time (min); dashed: fault start and end")
    ax.set_title("Breaker state over time (first replication, sampled each second)")
    used = sorted(set(data["state"].astype(int)))
    if used:
        ax.legend(
            handles=[Patch(color=STATE_COLORS[s], label=STATE_NAMES[s]) for s in used],
            loc="lower left",
            bbox_to_anchor=(1.01, 0.0),
            fontsize=8,
            frameon=False,
        )
    fig.tight_layout()
    return fig


def revenue_lines(
    data: pd.DataFrame,
    faults: pd.DataFrame,
    until: float,
    bin_s: float = 60.0,
    currency: str = "",
) -> Figure:
    """Revenue captured per bin per configuration (mean over replications), as steps."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    shade_faults(ax, faults)
    for i, (config, part) in enumerate(data.groupby("configuration", sort=False, observed=True)):
        stairs(ax, part["time_s"], part["revenue_captured"], bin_s, color=f"C{i}",
               linewidth=width(i), label=config)  # fmt: skip
    time_axis(ax, until)
    per = "minute" if bin_s == 60 else f"{number(bin_s)} s"
    ax.set_ylabel(f"revenue captured per {per}" + (f" ({currency})" if currency else ""))
    ax.set_ylim(bottom=0)
    ax.set_title("Revenue captured over time; grey: fault windows")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plain_ticks(fig: Figure) -> None:
    """Every axis's tick labels as a person writes numbers: ``1,200``, ``0.5``, ``2``; no
    ``1e6`` offset and no ``3 × 10^0`` on a log axis (ticks there at 1, 2 and 5 of each
    decade). Axes labelled by hand (heat maps, bars by name) are left as they are."""
    for ax in fig.axes:
        for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
            if scale == "log":
                axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(FuncFormatter(_tick))
                axis.set_minor_formatter(NullFormatter())
            elif scale == "linear" and isinstance(axis.get_major_formatter(), ScalarFormatter):
                axis.set_major_formatter(FuncFormatter(_tick))
                if isinstance(axis.get_major_locator(), AutoLocator):
                    # Fewer ticks: "1,750,000" is wider than matplotlib's "1.75" x 1e6.
                    axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    fig.tight_layout()  # again (every figure here is laid out so): the labels changed width


def _tick(value: float, _position: object = None) -> str:
    return number(value, 4)


def save(fig: Figure, path: Path) -> None:
    plain_ticks(fig)
    fig.savefig(path, dpi=110)
    plt.close(fig)
