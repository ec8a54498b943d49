"""Incident traces exported from monitoring, for the ``trace`` fault kind.

A CSV with a header row; lines starting with ``#`` are comments. ``time`` (seconds from the
start of the trace, or a duration such as ``90s``) must increase; every other column is
optional and is interpolated linearly between rows:

- ``availability``: share of calls that get a connection at all (the rest are refused);
- ``timeout_rate``, ``connection_rate``, ``server_error_rate``: share of calls failing so;
- ``latency_multiplier``: latency relative to the model's;
- ``latency_median`` and ``latency_p99``: absolute latency (seconds or durations), mapped
  onto the model's latency distribution quantile by quantile.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import Field

from sim.config.fields import Strict
from sim.config.yamlio import read_input
from sim.errors import ConfigError, quote
from sim.units import parse_duration, parse_fraction

RATE_COLUMNS = ("availability", "timeout_rate", "connection_rate", "server_error_rate")
LATENCY_COLUMNS = ("latency_multiplier", "latency_median", "latency_p99")
COLUMNS = ("time", *RATE_COLUMNS, *LATENCY_COLUMNS)
MAX_BYTES = 64 * 1024 * 1024  # a day at one row per second is ~5 MB


class Trace(Strict):
    """A parsed trace: row times (seconds from its start) and one list per column."""

    source: str = ""
    times: list[float] = Field(min_length=2)
    columns: dict[str, list[float]]

    @property
    def length(self) -> float:
        return self.times[-1]


def load_trace(path: Path) -> Trace:
    """Parse and check a trace CSV; errors name the file, line and column."""
    file = str(path)
    text = read_input(path, "trace file", MAX_BYTES)
    rows = [
        (number, row)
        for number, row in enumerate(csv.reader(text.splitlines()), start=1)
        if row and not row[0].lstrip().startswith("#")
    ]
    if len(rows) < 3:
        raise ConfigError("a trace needs a header and at least two rows", file=file)
    header_line, header = rows[0]
    names = [h.strip() for h in header]
    if "time" not in names:
        # Not a trace at all, or one without its header: refused as a whole, quoting
        # nothing (the file may be anything the scenario named).
        raise ConfigError(
            f"not an incident trace: no header row naming a 'time' column "
            f"(columns: {', '.join(COLUMNS)})",
            file=file,
            line=header_line,
        )
    for name in names:
        if name not in COLUMNS:
            raise ConfigError(
                f"unknown column {quote(name)} (known: {', '.join(COLUMNS)})",
                file=file,
                line=header_line,
            )
    if len(set(names)) < len(names):
        raise ConfigError("a column is named twice", file=file, line=header_line)
    values: dict[str, list[float]] = {name: [] for name in names}
    for number, row in rows[1:]:
        if len(row) != len(names):
            raise ConfigError(
                f"expected {len(names)} values, got {len(row)}", file=file, line=number
            )
        for name, cell in zip(names, row, strict=True):
            try:
                values[name].append(_parse(name, cell.strip()))
            except ValueError as exc:
                raise ConfigError(str(exc), file=file, line=number, path=name) from None
    times = values.pop("time")
    for k in range(1, len(times)):
        if times[k] <= times[k - 1]:
            raise ConfigError("time must increase", file=file, line=rows[k + 1][0], path="time")
    if times[0] != 0:
        times = [t - times[0] for t in times]
    return Trace(source=file, times=times, columns=values)


def _parse(name: str, cell: str) -> float:
    if name == "time" or name in ("latency_median", "latency_p99"):
        value = parse_duration(cell)
        if value < 0:
            raise ValueError(f"{cell!r} is negative")
        return value
    if name == "latency_multiplier":
        value = float(cell)
        if value < 0:
            raise ValueError(f"{cell!r} is negative")
        return value
    return parse_fraction(cell)
