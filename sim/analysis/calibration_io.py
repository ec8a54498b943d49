"""Readers for ``breakerlab calibrate``: per-call records (CSV) and a Prometheus range
query (JSON). Every problem is a ConfigError naming the file, the line and the column (or
JSON field), and is found before anything is fitted or written."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.yamlio import format_path, load_yaml, read_input
from sim.errors import ConfigError

OUTCOMES = ("ok", "declined", "timeout", "connection", "server_error")
CALL_COLUMNS = ("timestamp", "dependency", "latency", "latency_ms", "status", "category")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_STATUS_WORDS = {"ok": "ok", "success": "ok", **{o: o for o in OUTCOMES}}


@dataclass(frozen=True)
class CallRecords:
    """One row per call: ``start`` (seconds since the first call), ``dependency``,
    ``latency`` (seconds; NaN when a timeout or refusal gave none) and ``outcome``."""

    source: str
    frame: pd.DataFrame


def read_calls_csv(path: Path) -> CallRecords:
    """Parse and check a CSV of per-call records (see models/calibration/README.md)."""
    file = str(path)
    names, lines, cells = _csv_cells(read_input(path, "calls file"), file)
    columns = {name: [row[i] for row in cells] for i, name in enumerate(names)}

    def fail(message: str, index: int, column: str) -> ConfigError:
        return ConfigError(message, file=file, line=lines[index], path=column)

    dependency = pd.Series(columns["dependency"], dtype=str).str.strip()
    bad = ~dependency.str.match(_NAME)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise fail(f"dependency {dependency[i]!r}: letters, digits, _ . - only", i, "dependency")
    status_column = "status" if "status" in columns else "category"
    outcome = _outcomes(pd.Series(columns[status_column], dtype=str), fail, status_column)
    latency_column = "latency" if "latency" in columns else "latency_ms"
    raw = pd.Series(columns[latency_column], dtype=str).str.strip()
    latency = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    blank = (raw == "").to_numpy()
    answered = ~outcome.isin(["timeout", "connection"]).to_numpy()
    for mask, message in (
        (~blank & np.isnan(latency), "non-numeric latency {value!r} (a number of {unit})"),
        (blank & answered, "latency missing: only timeouts and refusals may leave it blank"),
        (~np.isnan(latency) & ~np.isfinite(latency), "latency {value!r} is not finite"),
        (latency < 0, "latency {value!r} is negative"),
    ):
        if mask.any():
            i = int(np.argmax(mask))
            unit = "seconds" if latency_column == "latency" else "milliseconds"
            raise fail(message.format(value=raw[i], unit=unit), i, latency_column)
    if latency_column == "latency_ms":
        latency = latency / 1000.0
    start = _timestamps(pd.Series(columns["timestamp"], dtype=str).str.strip(), fail)
    frame = pd.DataFrame(
        {
            "start": start - start.min(),
            "dependency": dependency.to_numpy(),
            "latency": latency,
            "outcome": outcome.to_numpy(),
        }
    )
    return CallRecords(source=file, frame=frame)


def _csv_cells(text: str, file: str) -> tuple[list[str], list[int], list[list[str]]]:
    """Column names, and each data row's line and cells; blank rows and rows starting
    with ``#`` are skipped."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    header_line = 0
    lines: list[int] = []
    cells: list[list[str]] = []
    try:
        for row in reader:
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if header is None:
                header, header_line = [h.strip() for h in row], reader.line_num
                _check_header(header, file, header_line)
                continue
            if len(row) != len(header):
                raise ConfigError(
                    f"expected {len(header)} values, got {len(row)}",
                    file=file,
                    line=reader.line_num,
                )
            lines.append(reader.line_num)
            cells.append(row)
    except csv.Error as exc:
        raise ConfigError(f"malformed CSV: {exc}", file=file, line=reader.line_num) from None
    if header is None:
        raise ConfigError("no usable rows: the file is empty", file=file, line=1)
    if not cells:
        raise ConfigError("no usable rows: a header but no calls", file=file, line=header_line)
    return header, lines, cells


def _check_header(names: list[str], file: str, line: int) -> None:
    for name in names:
        if name not in CALL_COLUMNS:
            known = ", ".join(CALL_COLUMNS)
            raise ConfigError(
                f"unknown column {name!r} (known: {known})", file=file, line=line, path=name
            )
        if names.count(name) > 1:
            raise ConfigError(f"column {name!r} appears twice", file=file, line=line, path=name)
    for one_of in (
        ("timestamp",),
        ("dependency",),
        ("latency", "latency_ms"),
        ("status", "category"),
    ):
        present = [n for n in one_of if n in names]
        if len(present) != 1:
            what = " or ".join(repr(n) for n in one_of)
            problem = "a" if not present else "only one"
            raise ConfigError(f"the file needs {problem} {what} column", file=file, line=line)


def _outcomes(status: pd.Series, fail: Any, column: str) -> pd.Series:
    """Category names, or HTTP codes: below 400 ok, 402 declined, 408 and 504 timeout,
    other 5xx server_error; any other 4xx is refused (a client's mistake, not an outcome)."""
    text = status.str.strip().str.lower()
    outcome = text.map(_STATUS_WORDS)
    code = pd.to_numeric(text, errors="coerce")
    by_code = pd.Series(np.select(
        [code < 400, code == 402, code.isin([408, 504]), (code >= 500) & (code < 600)],
        ["ok", "declined", "timeout", "server_error"],
        default="",
    ), index=text.index)  # fmt: skip
    outcome = outcome.fillna(by_code.where(by_code != "", None))
    missing = outcome.isna().to_numpy()
    if missing.any():
        i = int(np.argmax(missing))
        raise fail(
            f"unknown status {status[i].strip()!r} (use {', '.join(OUTCOMES)} or an HTTP code)",
            i,
            column,
        )
    return outcome.astype(str)


def _timestamps(text: pd.Series, fail: Any) -> np.ndarray:
    """Seconds: epoch seconds as numbers, or ISO 8601 instants."""
    numbers = pd.to_numeric(text, errors="coerce")
    if not numbers.isna().any():
        return numbers.to_numpy(dtype=float)
    instants = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    bad = instants.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise fail(f"timestamp {text[i]!r}: expected epoch seconds or ISO 8601", i, "timestamp")
    return (instants - instants.min()).dt.total_seconds().to_numpy(dtype=float)


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


def read_prometheus(path: Path, label: str = "dependency") -> list[HistogramData]:
    """Parse and check a Prometheus range-query result (``resultType: matrix``) holding
    latency histogram buckets (``le``) and counters with a ``category`` label."""
    file = str(path)
    text = read_input(path, "Prometheus file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"malformed JSON: {exc.msg} (column {exc.colno})", file=file, line=exc.lineno
        ) from None

    def fail(message: str, *loc: str | int) -> ConfigError:
        try:
            line, _ = load_yaml(path)[1].locate(loc)  # JSON is YAML: its node tree has lines
        except ConfigError:
            line = None
        return ConfigError(message, file=file, line=line, path=format_path(loc))

    if not isinstance(doc, dict) or doc.get("status") != "success":
        raise fail('expected a successful query result ({"status": "success", ...})', "status")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        raise fail("expected a range query result: data.resultType 'matrix'", "data")
    result = data.get("result")
    if not isinstance(result, list) or not result:
        raise fail("no usable rows: data.result holds no series", "data")
    buckets: dict[str, dict[float, float]] = {}
    outcomes: dict[str, dict[str, float]] = {}
    gauges: dict[str, dict[str, dict[float, float]]] = {}
    times: list[float] = []
    for i, series in enumerate(result):
        metric = series.get("metric") if isinstance(series, dict) else None
        if not isinstance(metric, dict):
            raise fail("each series needs a metric mapping", "data", "result", i)
        name = str(metric.get("__name__", ""))
        if name.endswith(("_sum", "_count")):
            continue  # a histogram's companions: the buckets say all they do
        if label not in metric:
            raise fail(
                f"the series has no {label!r} label naming the dependency",
                "data",
                "result",
                i,
                "metric",
            )
        dependency = str(metric[label])
        gauge = gauge_kind(name)
        if gauge is not None:  # sampled as they are, not as counters
            values = _samples(series.get("values"), fail, ("data", "result", i, "values"))
            gauges.setdefault(dependency, {}).setdefault(gauge, {}).update(values)
            continue
        increase, stamps = _increase(series.get("values"), fail, ("data", "result", i, "values"))
        times += stamps
        if "le" in metric:
            try:
                bound = float(metric["le"])
            except ValueError:
                raise fail(
                    f"le {metric['le']!r} is not a number", "data", "result", i, "metric", "le"
                ) from None
            buckets.setdefault(dependency, {})[bound] = increase
        elif "category" in metric:
            category = str(metric["category"])
            if category not in OUTCOMES:
                message = f"unknown category {category!r} (use {', '.join(OUTCOMES)})"
                raise fail(message, "data", "result", i, "metric", "category")
            counts = outcomes.setdefault(dependency, {})
            counts[category] = counts.get(category, 0.0) + increase
        else:
            message = (
                "unrecognised series: expected histogram buckets (le), a counter with a "
                "category label, or an in-flight, queue or saturation gauge (names ending "
                f"{', '.join(GAUGE_SUFFIXES)})"
            )
            raise fail(message, "data", "result", i, "metric")
    found = []
    span = max(times) - min(times) if times else 0.0
    for dependency in sorted(set(buckets) | set(outcomes) | set(gauges)):
        by_bound = buckets.get(dependency, {})
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
                outcomes.get(dependency, {}),
                span,
                gauges.get(dependency, {}),
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


def _samples(values: Any, fail: Any, loc: tuple[str | int, ...]) -> dict[float, float]:
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


def _increase(values: Any, fail: Any, loc: tuple[str | int, ...]) -> tuple[float, list[float]]:
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
