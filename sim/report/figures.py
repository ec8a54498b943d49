"""Every figure of a run's report, drawn once as PNG bytes: report.md links the files,
report.html embeds the same bytes, so the two never disagree. A chart that would show
nothing but zeros is left out, with one line saying why in its place."""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis import dynamics, mitigations, plotdata
from sim.analysis.load import RunData
from sim.analysis.recommend import never_opened
from sim.report import dynamics_plots, mitigation_plots, plots

# Keys in reading order, with their titles.
TITLES = {
    "faults": "Scenario and fault timeline",
    "revenue_lost": "Revenue lost by configuration",
    "revenue_over_time": "Revenue captured over time",
    "latency": "Latency over time: p99 and median, of completed orders and of every result",
    "breakers": "Breaker state over time",
    "queue": "Queue depth over time",
    "confirmations": "Confirmations by channel",
    "amplification": "Dependency call amplification",
    "gateway_shares": "Gateway share over time",
    "stock": "Stock and oversells over time",
    "rollout": "Configuration rollout across checkout nodes",
}
NOT_OVER_TIME = {"revenue_lost", "confirmations"}
QUEUE_BIN_S = 10
NICE_BINS = (1, 2, 5, 10, 15, 30, 60)


@dataclass(frozen=True)
class Image:
    """A figure as PNG bytes, or (``png`` empty) the one line said in its place."""

    key: str
    title: str
    png: bytes = b""
    note: str = ""

    @property
    def filename(self) -> str:
        return f"{self.key}.png"

    @property
    def drawn(self) -> bool:
        return bool(self.png)


def png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    plots.plain_ticks(fig)
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def bin_for(horizon: float, preferred: int) -> int:
    """``preferred`` seconds, or for a horizon too short for five such bins the largest
    round bin that gives five (a 20 s scenario still gets a revenue curve)."""
    if horizon >= 5 * preferred:
        return preferred
    fitting = [b for b in NICE_BINS if b <= preferred and 5 * b <= horizon]
    return fitting[-1] if fitting else 1


def time_span(data: RunData) -> float:
    """The end of every timeline figure's axis, in seconds: the horizon, or later when a
    queue was still draining after it."""
    horizon = data.loaded.scenario.horizon
    queue = dynamics.queue_depth(data.timeline, horizon, bin_s=QUEUE_BIN_S)
    busy = queue.loc[queue["depth"] > 0, "time_s"]
    return max(horizon, float(busy.max()) + QUEUE_BIN_S) if not busy.empty else horizon


@dataclass(frozen=True)
class _Run:
    """What every figure of one run is drawn against: its data, the time axis (to the
    horizon, or past it while orders finish), the fault windows shaded, the per-minute bin,
    and the configurations whose breaker never opened (marked in legends)."""

    data: RunData
    horizon: float
    until: float
    faults: pd.DataFrame
    minute: int  # seconds
    marks: dict[str, str]
    currency: str


Drawn = dict[str, Figure | str]  # figure key -> the figure, or the line said in its place


def draw_all(data: RunData) -> list[Image]:
    """The report's figures in reading order; an all-zero chart becomes a note, and those a
    run has nothing for (no catalogue, one gateway) are left out."""
    scenario = data.loaded.scenario
    run = _Run(
        data=data,
        horizon=scenario.horizon,
        until=time_span(data),
        faults=plotdata.fault_windows(scenario),
        minute=bin_for(scenario.horizon, 60),
        marks=never_opened(data.loaded, data.summary),
        currency=data.loaded.shop.currency_code,
    )
    out: Drawn = {}
    for draw in (_timeline_and_money, _latency_and_breakers, _load, _mitigations):
        out |= draw(run)
    if run.until > run.horizon:
        for key, drawn in out.items():
            if isinstance(drawn, Figure) and key not in NOT_OVER_TIME:
                plots.mark_horizon(drawn, run.horizon)
    return [_image(key, out[key]) for key in TITLES if key in out]


def _timeline_and_money(run: _Run) -> Drawn:
    """The faults over the arrivals, revenue lost per configuration and captured over time."""
    data, minute, until = run.data, run.minute, run.until
    out: Drawn = {}
    arrivals = plotdata.throughput_over_time(data.timeline, bin_s=minute)
    arrivals = arrivals[arrivals["time_s"] < run.horizon]
    out["faults"] = dynamics_plots.fault_gantt(
        dynamics.fault_schedule(data.loaded.scenario),
        arrivals,
        sorted(data.loaded.shop.dependencies),
        until,
        bin_s=minute,
    )
    lost = relabel(plotdata.revenue_lost(data.summary), run.marks)
    out["revenue_lost"] = (
        plots.revenue_lost_bars(lost, run.currency)
        if _any(lost["total"])
        else "No chart: no configuration lost any revenue."
    )
    revenue = plotdata.revenue_over_time(data.timeline, run.horizon, bin_s=minute)
    revenue = relabel(revenue, run.marks)
    out["revenue_over_time"] = (
        plots.revenue_lines(revenue, run.faults, until, bin_s=minute, currency=run.currency)
        if _any(revenue["revenue_captured"])
        else "No chart: no configuration captured any revenue (no completed orders)."
    )
    return out


def _latency_and_breakers(run: _Run) -> Drawn:
    """Latency percentiles over time, and each breaker's state over time."""
    data = run.data
    out: Drawn = {}
    half_minute = bin_for(run.horizon, 30)
    latency = data.latency_over_time(run.horizon, half_minute)
    out["latency"] = plots.latency_lines(
        relabel(latency, run.marks), run.faults, run.until, bin_s=half_minute
    )
    states = plotdata.breaker_states(data.timeline)
    if states.empty:
        out["breakers"] = "No chart: no configuration has a circuit breaker."
    elif _any(states["state"]):
        out["breakers"] = plots.breaker_bands(states, run.faults, run.until)
    else:
        out["breakers"] = "No chart: every breaker stayed closed throughout."
    return out


def _load(run: _Run) -> Drawn:
    """Queue depth, confirmations by channel, and calls per order over time."""
    data, faults, until, minute = run.data, run.faults, run.until, run.minute
    out: Drawn = {}
    queue_bin = bin_for(run.horizon, QUEUE_BIN_S)
    queue = dynamics.queue_depth(data.timeline, run.horizon, bin_s=queue_bin)
    out["queue"] = (
        dynamics_plots.queue_depth_lines(queue, faults, until, bin_s=queue_bin)
        if _any(queue["depth"])
        else "No chart: no order waited in a queue (every checkout found a free worker)."
    )
    confirmed = mitigations.confirmations(data.summary)
    out["confirmations"] = (
        mitigation_plots.confirmation_bars(confirmed)
        if _any(confirmed.drop(columns="configuration"))
        else "No chart: no order was confirmed (no completed orders)."
    )
    amplification = dynamics.call_amplification(data.timeline, run.horizon, bin_s=minute)
    out["amplification"] = (
        dynamics_plots.amplification_lines(amplification, faults, until, bin_s=minute)
        if amplification["calls_per_order"].notna().any()
        else "No chart: no order arrived before the horizon."
    )
    return out


def _mitigations(run: _Run) -> Drawn:
    """Only where the run has them: gateway shares (several gateways), stock (a
    catalogue), the rollout of configuration changes across checkout nodes."""
    data, faults, until, minute = run.data, run.faults, run.until, run.minute
    out: Drawn = {}
    shares = data.gateway_shares(run.horizon, minute)
    if shares["gateway"].nunique() > 1:
        out["gateway_shares"] = mitigation_plots.gateway_share_areas(
            shares, faults, until, bin_s=minute
        )
    stock = mitigations.stock_over_time(data.timeline)
    if not stock.empty:
        out["stock"] = mitigation_plots.stock_lines(stock, faults, until)
    if "nodes_on_latest_config" in data.timeline.columns:
        rollout = dynamics.series_over_time(
            data.timeline, ["nodes_on_latest_config"], bin_s=5, until=until
        )
        out["rollout"] = dynamics_plots.series_lines(
            rollout,
            "nodes_on_latest_config",
            faults,
            "checkout nodes",
            "Nodes on the latest configuration (mean over replications; equal rollouts overlap)",
            until,
            bin_s=5,
        )
    return out


def relabel(frame: pd.DataFrame, marks: dict[str, str]) -> pd.DataFrame:
    """``frame`` with each configuration that never exercised its breaker named so
    (``polly (breaker never opened)``), as the tables name it."""
    if not marks:
        return frame
    names = [str(c) for c in frame["configuration"]]
    shown = [f"{c} ({marks[c]})" if c in marks else c for c in names]
    order = list(dict.fromkeys(shown))
    return frame.assign(configuration=pd.Categorical(shown, categories=order))


def _image(key: str, drawn: Figure | str) -> Image:
    if isinstance(drawn, str):
        return Image(key, TITLES[key], note=drawn)
    return Image(key, TITLES[key], png(drawn))


def _any(values: pd.Series | pd.DataFrame) -> bool:
    """Whether a series or frame holds anything but zeros and NaN."""
    return bool((values.fillna(0).to_numpy(dtype=float) != 0).any())
