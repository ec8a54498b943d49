"""Per-call records (CSV) for ``breakerlab calibrate``. Every problem is a ConfigError naming
the file, the line and the column, found before anything is fitted or written."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.yamlio import read_input
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
