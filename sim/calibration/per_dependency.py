"""Per-dependency calibration from either input, and its rendering in the model's own
vocabulary (``350ms``, ``2%``) plus the goodness-of-fit table written beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.calls_csv import CallRecords
from sim.calibration.capacity import capacity_from_gauges, fifo_capacity, service_times
from sim.calibration.fit import (
    DEFAULT_POLICY,
    CapacityEstimate,
    FitPolicy,
    LatencyFit,
    Rate,
    estimate_capacity,
    fit_latency_histogram,
    fit_latency_samples,
    in_flight_at_start,
    outcome_rates,
)
from sim.calibration.prometheus import HistogramData
from sim.errors import ConfigError


@dataclass(frozen=True)
class DependencyCalibration:
    """What the data says about one dependency, and the notes a user should read."""

    name: str
    source: str
    calls: int
    calls_per_second: float
    latency: LatencyFit | None
    rates: dict[str, Rate]
    capacity: int | None = None
    notes: list[str] = field(default_factory=list)


def calibrate_calls(
    records: CallRecords, policy: FitPolicy = DEFAULT_POLICY
) -> list[DependencyCalibration]:
    """Each dependency of a per-call CSV: latency of the calls that were answered (a
    timeout's latency is the caller's, a refusal's is none), outcome rates, and a
    capacity when latency shows queueing; then latency is fitted on each call's service
    time, its wait for a server removed (sim/calibration/capacity.py)."""
    found = []
    for name, calls in records.frame.groupby("dependency", sort=True):
        notes: list[str] = []
        start = calls["start"].to_numpy()
        latency = calls["latency"].to_numpy()
        answered = calls["outcome"].isin(["ok", "declined", "server_error"]).to_numpy()
        estimate = estimate_capacity(start, latency)
        usable = answered & np.isfinite(latency)
        capacity = None
        if estimate is not None:
            # Only an answered call's end is its end at the dependency: a timeout's is the
            # caller's, and the dependency may work on past it.
            ends_known = np.where(answered, latency, np.nan)
            capacity, latency = _capacity_and_service(start, ends_known, estimate, notes)
        span = float(start.max() - start.min()) if len(start) > 1 else 0.0
        fit = _fit_or_note(latency[usable & np.isfinite(latency)], policy, notes)
        counts = {str(k): float(v) for k, v in calls["outcome"].value_counts().items()}
        found.append(
            DependencyCalibration(
                name=str(name),
                source=records.source,
                calls=len(calls),
                calls_per_second=len(calls) / span if span > 0 else 0.0,
                latency=fit,
                rates=outcome_rates(counts, policy.confidence),
                capacity=capacity,
                notes=notes,
            )
        )
    return found


def _capacity_and_service(
    start: np.ndarray, latency: np.ndarray, estimate: CapacityEstimate, notes: list[str]
) -> tuple[int, np.ndarray]:
    """The capacity under the saturation level, read from the queue's mechanics, and each
    call's latency less its wait for a server (the latency fitted: the dependency's own)."""
    capacity = fifo_capacity(start, latency, estimate.capacity)
    saturation = (
        f"latency's lower quartile {estimate.ratio:.1f}x its low-load value from "
        f"{estimate.capacity} calls in flight (p={estimate.p_value:.1g})"
    )
    if capacity is None:
        notes.append(
            f"saturation: {saturation}; not a first-come first-served pool, so the capacity "
            f"is that level, an upper bound; latency fitted below it"
        )
        level = np.full(len(latency), estimate.capacity)
        known = np.isfinite(latency)
        level[known] = in_flight_at_start(start[known], latency[known])
        return estimate.capacity, np.where(level < estimate.capacity, latency, np.nan)
    notes.append(
        f"saturation: {saturation}; capacity {capacity}: the smallest first-come "
        "first-served pool through which no call's service time is negative; latency "
        "fitted on service times (queueing removed)"
    )
    return capacity, service_times(start, latency, capacity)


def _fit_or_note(latency: np.ndarray, policy: FitPolicy, notes: list[str]) -> LatencyFit | None:
    if len(latency) < policy.min_samples:
        notes.append(f"only {len(latency)} answered calls with a latency: latency not fitted")
        return None
    fit = fit_latency_samples(latency, policy)
    if fit.kind == "empirical":
        notes.append(f"lognormal fits poorly ({fit.reason}): empirical latency")
    return fit


def calibrate_histograms(
    histograms: list[HistogramData], source: str, policy: FitPolicy = DEFAULT_POLICY
) -> list[DependencyCalibration]:
    """Each dependency of a Prometheus export: latency from its buckets, rates from its
    category counters (every call counted in the histogram when ``ok`` is missing)."""
    found = []
    for data in histograms:
        notes: list[str] = []
        capacity = _capacity_from(data, notes)
        counts = dict(data.outcomes)
        histogram_calls = float(data.counts.sum())
        if "ok" not in counts:  # the histogram observed every call, whatever its outcome
            counts["ok"] = max(histogram_calls - sum(counts.values()), 0.0)
        fit: LatencyFit | None = None
        if len(data.bounds) >= 2 and histogram_calls >= policy.min_samples:
            fit = fit_latency_histogram(data.bounds, data.counts, policy)
            if fit.kind == "empirical":
                notes.append(f"lognormal fits poorly ({fit.reason}): empirical latency")
        else:
            notes.append("too few buckets or calls in the histogram: latency not fitted")
        total = sum(counts.values())
        found.append(
            DependencyCalibration(
                name=data.name,
                source=source,
                calls=round(total),
                calls_per_second=total / data.span if data.span > 0 else 0.0,
                latency=fit,
                rates=outcome_rates(counts, policy.confidence),
                capacity=capacity,
                notes=notes,
            )
        )
    return found


def _capacity_from(data: HistogramData, notes: list[str]) -> int | None:
    """The capacity the in-flight gauge shows when the pool is full, if it shows it."""
    if "in_flight" not in data.gauges:
        notes.append(
            "capacity not estimated: no in-flight gauge (a histogram has no per-call concurrency)"
        )
        return None
    at = np.array(sorted(data.gauges["in_flight"]))
    in_flight = data.gauge("in_flight", at)
    assert in_flight is not None
    found = capacity_from_gauges(in_flight, data.gauge("waiting", at), data.gauge("saturation", at))
    if found is None:
        notes.append(
            f"capacity not estimated: the in-flight gauge never shows a full pool (no queue "
            f"or saturation gauge above 0); its maximum, {np.nanmax(in_flight):g}, is a "
            "lower bound"
        )
        return None
    notes.append(f"capacity {found.capacity}: {found.method} ({found.samples} scrapes)")
    return found.capacity


def merge_sources(groups: list[list[DependencyCalibration]]) -> list[DependencyCalibration]:
    """All inputs' dependencies; one dependency in two inputs is ambiguous and refused."""
    seen: dict[str, DependencyCalibration] = {}
    for group in groups:
        for cal in group:
            if cal.name in seen:
                raise ConfigError(
                    f"dependency {cal.name!r} is also in {seen[cal.name].source}: give each "
                    "dependency's data once",
                    file=cal.source,
                )
            seen[cal.name] = cal
    return list(seen.values())


def duration_text(seconds: float) -> str:
    """``350ms`` or ``1.8s``: four significant digits, the model's units."""
    if seconds >= 1:
        return f"{seconds:.4g}s"
    return f"{seconds * 1000:.4g}ms"


def fraction_text(value: float) -> str:
    return f"{value * 100:.3g}%"


def latency_entry(fit: LatencyFit) -> dict[str, Any]:
    if fit.kind == "constant":
        return {"constant": duration_text(fit.median)}
    if fit.kind == "empirical":
        return {"empirical": [duration_text(v) for v in fit.empirical]}
    return {"lognormal": {"median": duration_text(fit.median), "p99": duration_text(fit.p99)}}


def dependency_fragment(cal: DependencyCalibration) -> dict[str, Any]:
    """The dependency in the model's vocabulary; ``decline_rate`` only when declines were
    seen (the model accepts it on payment gateways only)."""
    fragment: dict[str, Any] = {}
    if cal.latency is not None:
        fragment["latency"] = latency_entry(cal.latency)
    fragment["errors"] = {
        c: fraction_text(cal.rates[c].value) for c in ("timeout", "connection", "server_error")
    }
    if cal.capacity is not None:
        fragment["capacity"] = cal.capacity
    if cal.rates["decline"].count:
        fragment["decline_rate"] = fraction_text(cal.rates["decline"].value)
    return fragment


def fit_table(calibrations: list[DependencyCalibration]) -> pd.DataFrame:
    """Goodness of fit, one row per dependency: the distribution chosen, KS distance,
    observed and fitted p50/p95/p99, the lognormal's median and p99 with 95 % intervals,
    and each rate with its interval."""
    rows = []
    for cal in calibrations:
        row: dict[str, Any] = {"dependency": cal.name, "source": cal.source, "calls": cal.calls}
        fit = cal.latency
        if fit is not None:
            row |= {"latency_fit": fit.kind, "latency_samples": fit.samples, "ks": fit.ks}
            for q in ("p50", "p95", "p99"):
                row[f"observed_{q}_s"] = fit.observed[q]
                row[f"fitted_{q}_s"] = fit.fitted[q]
            row |= {
                "lognormal_median_s": fit.median,
                "median_ci_low_s": fit.median_ci[0],
                "median_ci_high_s": fit.median_ci[1],
                "lognormal_p99_s": fit.p99,
                "p99_ci_low_s": fit.p99_ci[0],
                "p99_ci_high_s": fit.p99_ci[1],
            }
        for name, r in cal.rates.items():
            row |= {f"{name}_rate": r.value, f"{name}_ci_low": r.low, f"{name}_ci_high": r.high}
        row["capacity"] = cal.capacity
        row["notes"] = "; ".join(cal.notes)
        rows.append(row)
    return pd.DataFrame(rows)
