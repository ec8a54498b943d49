"""Plot data of a run's dynamics: the fault schedule, queue depths, dependency call
amplification and breaker transitions. Computed here, drawn by ``sim.report``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.stats import mean_ci
from sim.config.scenario import Scenario

QUEUES = {"checkout_queue": "checkout", "capture_queue": "capture"}
SCHEDULE_COLUMNS = ["target", "kind", "label", "start_s", "end_s", "ramp_s", "probability"]


def fault_schedule(scenario: Scenario) -> pd.DataFrame:
    """One row per interval a fault is active, for a Gantt chart per dependency: target,
    kind, label, start_s, end_s, ramp_s, probability. A flapping fault gives one row per
    down period; its up periods are not faulty."""
    rows = []
    for fault in scenario.faults:
        label = f"{fault.kind} {fault.probability:.0%}" if fault.probability < 1 else fault.kind
        base: dict[str, str | float] = {"target": fault.target, "kind": fault.kind}
        base |= {"label": label, "ramp_s": fault.ramp, "probability": fault.probability}
        down = getattr(fault, "down", None)
        up = getattr(fault, "up", None)
        if down is not None and up is not None:
            start = fault.start
            while start < fault.end:
                rows.append(base | {"start_s": start, "end_s": min(start + down, fault.end)})
                start += down + up
        else:
            rows.append(base | {"start_s": fault.start, "end_s": fault.end})
    return pd.DataFrame(rows, columns=SCHEDULE_COLUMNS)


def queue_depth(timeline: pd.DataFrame, horizon: float, bin_s: int = 10) -> pd.DataFrame:
    """Mean queue depth per bin, over seconds and replications, for the checkout queue and
    (asynchronous capture only) the capture queue, up to the horizon or until the queues
    have drained: configuration, time_s, queue, depth."""
    present = {c: name for c, name in QUEUES.items() if c in timeline.columns}
    if not present:
        return pd.DataFrame(columns=["configuration", "time_s", "queue", "depth"])
    binned = timeline.assign(time_s=(timeline["second"] // bin_s) * bin_s)
    mean = binned.groupby(["configuration", "time_s"], observed=True)[list(present)].mean()
    long = mean.reset_index().melt(
        id_vars=["configuration", "time_s"], var_name="queue", value_name="depth"
    )
    long["queue"] = long["queue"].map(present)
    long = long.dropna(subset=["depth"])
    used = long.groupby("queue")["depth"].transform(lambda d: bool((d > 0).any())).astype(bool)
    long = long[used | (long["queue"] == "checkout")]
    busy = long.loc[long["depth"] > 0, "time_s"]
    end = max(horizon, float(busy.max()) + bin_s if not busy.empty else 0.0)
    return pd.DataFrame(long[long["time_s"] < end].reset_index(drop=True))


def dependency_calls(timeline: pd.DataFrame) -> pd.DataFrame:
    """Calls made to each dependency in each second (the timeline holds running totals):
    configuration, replication, second, then one column per dependency."""
    columns = [c for c in timeline.columns if c.startswith("calls_")]
    keys = ["configuration", "replication", "second"]
    frame = timeline[keys + columns].sort_values(keys)
    totals = frame.groupby(["configuration", "replication"], observed=True)[columns].ffill()
    totals = totals.fillna(0.0)
    per_second = totals.groupby(
        [frame["configuration"], frame["replication"]], observed=True
    ).diff()
    per_second = per_second.fillna(totals)  # each run's first second: its running total
    out = frame[keys].copy()
    for column in columns:
        out[column.removeprefix("calls_")] = per_second[column].to_numpy()
    return out.reset_index(drop=True)


def call_amplification(timeline: pd.DataFrame, horizon: float, bin_s: int = 60) -> pd.DataFrame:
    """Dependency calls per arriving order, per bin up to the horizon, pooled over
    replications: configuration, time_s, dependency (``all`` for the sum), calls, arrivals,
    calls_per_order. Retries, hedges and failovers raise it; an open breaker lowers it."""
    calls = dependency_calls(timeline)
    dependencies = [c for c in calls.columns if c not in ("configuration", "replication", "second")]
    calls["all"] = calls[dependencies].sum(axis=1)
    calls["arrivals"] = timeline.sort_values(["configuration", "replication", "second"])[
        "arrivals"
    ].to_numpy()
    calls = calls.assign(time_s=(calls["second"] // bin_s) * bin_s)
    calls = calls[calls["time_s"] + bin_s <= horizon]
    sums = calls.groupby(["configuration", "time_s"], observed=True)[
        [*dependencies, "all", "arrivals"]
    ].sum()
    long = sums.reset_index().melt(
        id_vars=["configuration", "time_s", "arrivals"],
        value_vars=[*dependencies, "all"],
        var_name="dependency",
        value_name="calls",
    )
    arrivals = long["arrivals"].to_numpy(dtype=float)
    ratio = np.divide(
        long["calls"].to_numpy(dtype=float),
        arrivals,
        out=np.full(len(long), np.nan),
        where=arrivals > 0,
    )
    long["calls_per_order"] = ratio
    columns = ["configuration", "time_s", "dependency", "calls", "arrivals", "calls_per_order"]
    return pd.DataFrame(long[columns])


def breaker_trips(transitions: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per configuration and breaker: transitions into open per replication (mean over
    ``replications``) and the first instant any replication opened it: configuration,
    breaker, trips, first_open_s."""
    opened = transitions[transitions["to_state"].isin(["open", "forced_open"])]
    columns = ["configuration", "breaker", "trips", "first_open_s"]
    if opened.empty:
        return pd.DataFrame(columns=columns)
    grouped = opened.groupby(["configuration", "breaker"], observed=True, sort=False)
    out = grouped.agg(count=("time_s", "size"), first_open_s=("time_s", "min")).reset_index()
    out["trips"] = out["count"] / max(replications, 1)
    return pd.DataFrame(out[columns])


def series_over_time(
    timeline: pd.DataFrame, columns: list[str], bin_s: int = 30, until: float | None = None
) -> pd.DataFrame:
    """Timeline ``columns`` averaged over the seconds of each bin and over replications
    (e.g. ``completed`` for goodput per second, ``queue_primary`` for a dependency's
    backlog): configuration, time_s, then the columns."""
    frame = timeline if until is None else timeline[timeline["second"] < until]
    binned = frame.assign(time_s=(frame["second"] // bin_s) * bin_s)
    mean = binned.groupby(["configuration", "time_s"], observed=True)[columns].mean()
    return pd.DataFrame(mean.reset_index())


def trace_frame(times: list[float], columns: dict[str, list[float]], start: float) -> pd.DataFrame:
    """An incident trace as a table on the simulation's clock: time_s (``start`` plus the
    trace's own time), then its columns (availability, error rates, latency)."""
    frame = pd.DataFrame({"time_s": [start + t for t in times]})
    for name, values in columns.items():
        frame[name] = values
    return frame


def first_trip_after_fault(summary: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """When the first breaker opened, counted from the start of the last fault that had
    begun by then (the question an incident review asks), per configuration: mean and
    95 % interval over the replications in which a breaker opened, and the fault
    (``primary outage``; the most frequent one when replications differ). A trip before
    every fault is counted from the first fault's start (negative). Empty without faults
    or trips: configuration, fault, mean, ci_low, ci_high, replications."""
    columns = ["configuration", "fault", "mean", "ci_low", "ci_high", "replications"]
    if not scenario.faults or "first_trip_s" not in summary.columns:
        return pd.DataFrame(columns=columns)
    rows = []
    for config, part in summary.groupby("configuration", sort=False, observed=True):
        trips = part["first_trip_s"].dropna().to_numpy(dtype=float)
        if trips.size == 0:
            continue
        found = [since_fault(t, scenario) for t in trips]
        mean, low, high = mean_ci(np.array([after for after, _ in found]))
        names = pd.Series([fault for _, fault in found])
        rows.append([str(config), str(names.mode().iloc[0]), mean, low, high, int(trips.size)])
    return pd.DataFrame(rows, columns=columns)


def since_fault(time: float, scenario: Scenario) -> tuple[float, str | None]:
    """Seconds from the start of the last fault that had begun by ``time`` (from the first
    fault, negative, when none had), and that fault (``primary outage``); None without
    faults."""
    faults = sorted((f.start, f"{f.target} {f.kind}") for f in scenario.faults)
    if not faults:
        return math.nan, None
    begun = [f for f in faults if f[0] <= time] or faults[:1]
    start, name = begun[-1]
    return time - start, name
