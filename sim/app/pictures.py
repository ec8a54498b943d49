"""Figures for notebooks, as PNG pictures that show themselves in Jupyter: the report's own
figures of a run, a timeline series, an incident trace, a sweep's Pareto front. The
statistics come from ``sim.analysis`` and the drawing from ``sim.report``, so a notebook's
figure and the report's never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.analysis import dynamics, plotdata
from sim.analysis.load import RunData
from sim.config import LoadedScenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Picture:
    """A figure as PNG bytes, or (``png`` empty) the line said in its place; Jupyter shows
    it (``display(picture)`` or as a cell's last value)."""

    title: str
    png: bytes = b""
    note: str = ""

    def _repr_png_(self) -> bytes | None:
        return self.png or None

    def _repr_markdown_(self) -> str | None:
        return None if self.png else f"*{self.title}: {self.note}*"

    def save(self, path: str | Path) -> Path:
        """The PNG written to ``path``."""
        Path(path).write_bytes(self.png)
        return Path(path)


def picture(fig: Figure, title: str = "") -> Picture:
    """A matplotlib figure as a Picture (the figure is closed)."""
    from sim.report.figures import png

    return Picture(title or (fig.texts[0].get_text() if fig.texts else ""), png(fig))


def report_figures(data: RunData) -> dict[str, Picture]:
    """The report's figures of a run by key (``faults``, ``revenue_lost``, ``latency``,
    ``breakers``...), in reading order: the very PNG bytes report.html embeds."""
    from sim.report.figures import draw_all

    return {i.key: Picture(i.title, i.png, i.note) for i in draw_all(data)}


def series(
    data: RunData,
    column: str,
    *,
    bin_s: int = 30,
    ylabel: str | None = None,
    title: str | None = None,
) -> Picture | None:
    """One timeline column (``completed``: goodput per second; ``queue_primary``: a
    dependency's backlog) per configuration over time, averaged over replications, fault
    windows shaded; None when the timeline has no such column."""
    from sim.report import dynamics_plots

    if column not in data.timeline.columns:
        return None
    until = data.loaded.scenario.horizon
    frame = dynamics.series_over_time(data.timeline, [column], bin_s=bin_s, until=until)
    faults = plotdata.fault_windows(data.loaded.scenario)
    heading = title or column
    fig = dynamics_plots.series_lines(
        frame, column, faults, ylabel or column, heading, until=until, bin_s=bin_s
    )
    return picture(fig, heading)


def incident_trace(loaded: LoadedScenario) -> tuple[pd.DataFrame, Picture] | None:
    """The scenario's first replayed incident trace as a table on the simulation's clock,
    and its panels (availability and error rates, latency); None without a trace fault."""
    from sim.report import dynamics_plots

    fault = next((f for f in loaded.scenario.faults if f.kind == "trace"), None)
    trace = getattr(fault, "trace", None)
    if fault is None or trace is None:
        return None
    frame = dynamics.trace_frame(trace.times, trace.columns, fault.start)
    fig = dynamics_plots.trace_panels(frame, loaded.scenario.horizon)
    return frame, picture(fig, f"Incident trace on {fault.target}")


def pareto(points: pd.DataFrame, x: str, y: str) -> Picture:
    """The Pareto front of two metrics to minimise over a sweep's points (rows of
    ``SweepOutput.points`` with ``pareto`` and ``feasible`` columns)."""
    from sim.report import sweep_plots

    fig = sweep_plots.pareto(points, x, y)
    return picture(fig, f"Pareto front: {x} against {y}")
