"""A Prometheus range query (JSON) for ``breakerlab calibrate``: latency histogram
buckets, outcome counters and capacity gauges per dependency. Every problem is a
ConfigError naming the file, the line and the JSON field, found before anything is fitted
or written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.calls_csv import OUTCOMES
from sim.config.yamlio import format_path, load_yaml, read_input
from sim.errors import ConfigError


@dataclass(frozen=True)
class HistogramData:
    """One dependency's calls over a Prometheus range: ``counts[i]`` calls took at most
    ``bounds[i]`` and more than the bound before (the last count is above every bound),
    ``outcomes`` the calls per category."""

    name: str
    bounds: np.ndarray
    counts: np.ndarray
    outcomes: dict[str, float] = field(default_factory=dict)
    span: float = 0.0
    gauges: dict[str, dict[float, float]] = field(default_factory=dict)  # kind -> {t: value}

    def gauge(self, kind: str, at: np.ndarray) -> np.ndarray | None:
        """The ``kind`` gauge at the instants ``at`` (NaN where it was not scraped)."""
        samples = self.gauges.get(kind)
        if samples is None:
            return None
        return np.array([samples.get(float(t), np.nan) for t in at])


Fail = Callable[..., ConfigError]  # fail(message, *json_path) -> the error to raise


@dataclass
class _Collected:
    """What the series of one query say, per dependency, as they are read."""

    buckets: dict[str, dict[float, float]] = field(default_factory=dict)  # bound -> increase
    outcomes: dict[str, dict[str, float]] = field(default_factory=dict)  # category -> calls
    gauges: dict[str, dict[str, dict[float, float]]] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)


def read_prometheus(path: Path, label: str = "dependency") -> list[HistogramData]:
    """Parse and check a Prometheus range-query result (``resultType: matrix``) holding
    latency histogram buckets (``le``) and counters with a ``category`` label."""
    fail = _failure(path)
    collected = _Collected()
    for i, series in enumerate(_matrix(_json(path), fail)):
        _read_series(series, ("data", "result", i), label, fail, collected)
    return _histograms(collected, fail)


def _json(path: Path) -> Any:
    """The file's JSON document; malformed JSON names its line and column."""
    try:
        return json.loads(read_input(path, "Prometheus file"))
    except json.JSONDecodeError as exc:
        message = f"malformed JSON: {exc.msg} (column {exc.colno})"
        raise ConfigError(message, file=str(path), line=exc.lineno) from None


def _failure(path: Path) -> Fail:
    """A ConfigError maker naming the file, and the line of the JSON field at ``loc``."""

    def fail(message: str, *loc: str | int) -> ConfigError:
        try:
            line, _ = load_yaml(path)[1].locate(loc)  # JSON is YAML: its node tree has lines
        except ConfigError:
            line = None
        return ConfigError(message, file=str(path), line=line, path=format_path(loc))

    return fail


def _matrix(doc: Any, fail: Fail) -> list[Any]:
    """The series of a successful range query, refused unless there is one at least."""
    if not isinstance(doc, dict) or doc.get("status") != "success":
        raise fail('expected a successful query result ({"status": "success", ...})', "status")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        raise fail("expected a range query result: data.resultType 'matrix'", "data")
    result = data.get("result")
    if not isinstance(result, list) or not result:
        raise fail("no usable rows: data.result holds no series", "data")
    return result


def _read_series(
    series: Any, loc: tuple[str | int, ...], label: str, fail: Fail, into: _Collected
) -> None:
    """Add one series to what was collected: a gauge, a histogram bucket or an outcome
    counter of the dependency its ``label`` names (a histogram's _sum and _count are
    skipped: the buckets say all they do)."""
    metric = series.get("metric") if isinstance(series, dict) else None
    if not isinstance(metric, dict):
        raise fail("each series needs a metric mapping", *loc)
    name = str(metric.get("__name__", ""))
    if name.endswith(("_sum", "_count")):
        return
    if label not in metric:
        raise fail(f"the series has no {label!r} label naming the dependency", *loc, "metric")
    dependency = str(metric[label])
    gauge = gauge_kind(name)
    if gauge is not None:  # sampled as they are, not as counters
        values = _samples(series.get("values"), fail, (*loc, "values"))
        into.gauges.setdefault(dependency, {}).setdefault(gauge, {}).update(values)
        return
    increase, stamps = _increase(series.get("values"), fail, (*loc, "values"))
    into.times += stamps
    if "le" in metric:
        into.buckets.setdefault(dependency, {})[_bound(metric["le"], fail, loc)] = increase
    elif "category" in metric:
        category = str(metric["category"])
        if category not in OUTCOMES:
            message = f"unknown category {category!r} (use {', '.join(OUTCOMES)})"
            raise fail(message, *loc, "metric", "category")
        counts = into.outcomes.setdefault(dependency, {})
        counts[category] = counts.get(category, 0.0) + increase
    else:
        message = (
            "unrecognised series: expected histogram buckets (le), a counter with a "
            "category label, or an in-flight, queue or saturation gauge (names ending "
            f"{', '.join(GAUGE_SUFFIXES)})"
        )
        raise fail(message, *loc, "metric")


def _bound(le: Any, fail: Fail, loc: tuple[str | int, ...]) -> float:
    """A bucket's upper bound (``le``), ``+Inf`` included."""
    try:
        return float(le)
    except ValueError:
        raise fail(f"le {le!r} is not a number", *loc, "metric", "le") from None


def _histograms(collected: _Collected, fail: Fail) -> list[HistogramData]:
    """One HistogramData per dependency, by name: cumulative buckets made per-bucket."""
    found = []
    times = collected.times
    span = max(times) - min(times) if times else 0.0
    names = set(collected.buckets) | set(collected.outcomes) | set(collected.gauges)
    for dependency in sorted(names):
        by_bound = collected.buckets.get(dependency, {})
        if by_bound and np.inf not in by_bound:
            raise fail(f"{dependency}: the histogram has no +Inf bucket", "data", "result")
        bounds = np.array(sorted(b for b in by_bound if np.isfinite(b)))
        cumulative = np.array([by_bound[b] for b in (*bounds, np.inf)]) if by_bound else np.zeros(1)
        per_bucket = np.clip(np.diff(cumulative, prepend=0.0), 0.0, None)
        found.append(
            HistogramData(
                dependency,
                bounds,
                per_bucket,
                collected.outcomes.get(dependency, {}),
                span,
                collected.gauges.get(dependency, {}),
            )
        )
    return found


# Gauges a capacity can be read from, by the end of the metric's name.
GAUGE_SUFFIXES = {
    "_in_flight": "in_flight",
    "_inflight": "in_flight",
    "_concurrent_calls": "in_flight",
    "_queue_length": "waiting",
    "_queued": "waiting",
    "_waiting": "waiting",
    "_saturation": "saturation",
    "_utilization": "saturation",
    "_utilisation": "saturation",
}


def gauge_kind(name: str) -> str | None:
    """ "in_flight", "waiting" or "saturation" for a gauge's metric name, else None."""
    for suffix, kind in GAUGE_SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    return None


def _samples(values: Any, fail: Fail, loc: tuple[str | int, ...]) -> dict[float, float]:
    """A gauge's samples: {timestamp: value}."""
    if not isinstance(values, list) or not values:
        raise fail("a series needs a non-empty values list", *loc)
    out: dict[float, float] = {}
    for j, point in enumerate(values):
        try:
            stamp, number = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError):
            raise fail(f'expected [timestamp, "number"], got {point!r}', *loc, j) from None
        if not np.isfinite(number) or number < 0:
            raise fail(f"gauge value {point[1]!r} is not a count or share", *loc, j, 1)
        out[stamp] = number
    return out


def _increase(values: Any, fail: Fail, loc: tuple[str | int, ...]) -> tuple[float, list[float]]:
    """A counter's increase over the range, counting resets (a drop starts from zero)."""
    if not isinstance(values, list) or not values:
        raise fail("a series needs a non-empty values list", *loc)
    stamps, numbers = [], []
    for j, point in enumerate(values):
        try:
            stamp, number = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError):
            raise fail(f'expected [timestamp, "number"], got {point!r}', *loc, j) from None
        if not np.isfinite(number) or number < 0:
            raise fail(f"counter value {point[1]!r} is not a count", *loc, j, 1)
        stamps.append(stamp)
        numbers.append(number)
    steps = np.diff(np.asarray(numbers))
    total = float(np.where(steps >= 0, steps, np.asarray(numbers[1:])).sum())
    return total, stamps
