"""Every figure of a run's report, drawn once as PNG bytes: report.md links the files,
report.html embeds the same bytes, so the two never disagree."""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from sim.analysis import dynamics, mitigations, plotdata
from sim.analysis.load import RunData
from sim.report import dynamics_plots, mitigation_plots, plots

# Keys in reading order, with their titles.
TITLES = {
    "faults": "Scenario and fault timeline",
    "revenue_lost": "Revenue lost by configuration",
    "revenue_over_time": "Revenue captured over time",
    "latency": "Checkout latency over time",
    "breakers": "Breaker state over time",
    "queue": "Queue depth over time",
    "confirmations": "Confirmations by channel",
    "amplification": "Dependency call amplification",
    "gateway_shares": "Gateway share over time",
    "stock": "Stock and oversells over time",
    "rollout": "Configuration rollout across checkout nodes",
}


@dataclass(frozen=True)
class Image:
    key: str
    title: str
    png: bytes

    @property
    def filename(self) -> str:
        return f"{self.key}.png"


def png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def draw_all(data: RunData) -> list[Image]:
    """The report's figures in reading order; those a run has no data for are left out."""
    scenario = data.loaded.scenario
    horizon = scenario.horizon
    faults = plotdata.fault_windows(scenario)
    figures: dict[str, Figure] = {}
    arrivals = plotdata.throughput_over_time(data.timeline, bin_s=60)
    arrivals = arrivals[arrivals["time_s"] < horizon]
    figures["faults"] = dynamics_plots.fault_gantt(
        dynamics.fault_schedule(scenario), arrivals, sorted(data.loaded.shop.dependencies), horizon
    )
    figures["revenue_lost"] = plots.revenue_lost_bars(plotdata.revenue_lost(data.summary))
    figures["revenue_over_time"] = plots.revenue_lines(
        plotdata.revenue_over_time(data.timeline, horizon), faults
    )
    figures["latency"] = plots.latency_lines(
        plotdata.latency_over_time(data.orders, horizon), faults
    )
    states = plotdata.breaker_states(data.timeline)
    if not states.empty:
        figures["breakers"] = plots.breaker_bands(states, faults)
    queue = dynamics.queue_depth(data.timeline, horizon)
    if not queue.empty:
        figures["queue"] = dynamics_plots.queue_depth_lines(queue, faults)
    confirmed = mitigations.confirmations(data.summary)
    if len(confirmed.columns) > 1:
        figures["confirmations"] = mitigation_plots.confirmation_bars(confirmed)
    amplification = dynamics.call_amplification(data.timeline, horizon)
    if not amplification.empty:
        figures["amplification"] = dynamics_plots.amplification_lines(amplification, faults)
    shares = mitigations.gateway_shares(data.orders, horizon)
    if shares["gateway"].nunique() > 1:
        figures["gateway_shares"] = mitigation_plots.gateway_share_areas(shares, faults)
    stock = mitigations.stock_over_time(data.timeline)
    if not stock.empty:
        figures["stock"] = mitigation_plots.stock_lines(stock, faults)
    if "nodes_on_latest_config" in data.timeline.columns:
        rollout = dynamics.series_over_time(
            data.timeline, ["nodes_on_latest_config"], bin_s=5, until=horizon
        )
        figures["rollout"] = dynamics_plots.series_lines(
            rollout,
            "nodes_on_latest_config",
            faults,
            "checkout nodes",
            "Nodes on the latest configuration (mean over replications; equal rollouts overlap)",
        )
    return [Image(key, TITLES[key], png(figures[key])) for key in TITLES if key in figures]
