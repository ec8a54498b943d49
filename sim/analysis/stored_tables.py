"""A finished run directory's files, checked when ``breakerlab report DIR`` (or a
notebook) reads them back: ``run.json`` must describe a run, each table must have the
columns the report reads, and numbers must be numbers. Anything else is a ConfigError
naming the file (exit 2), never a crash deep inside the report (exit 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import ConfigError
from sim.experiment.store import read_json
from sim.experiment.stored import problem

# Columns the report and the notebooks read from each table.
REQUIRED: dict[str, tuple[str, ...]] = {
    "summary.csv": ("configuration", "replication", "orders"),
    "summary_ci.csv": ("configuration", "metric", "mean", "ci_low", "ci_high", "replications"),
    "differences_ci.csv": ("configuration", "baseline", "metric", "mean", "ci_low", "ci_high"),
    "orders.parquet": ("configuration", "replication", "outcome"),
    "timeline.parquet": ("configuration", "replication", "second"),
    "timeline": ("configuration", "replication", "second"),  # the store's per-run files
    "transitions.parquet": ("configuration", "replication", "time_s", "breaker"),
}
# Columns of text in a summary table; every other one holds numbers.
TEXT = frozenset({"configuration", "metric", "baseline"})
NUMERIC_TABLES = frozenset({"summary.csv", "summary_ci.csv", "differences_ci.csv"})


class RunMeta(BaseModel):
    """``run.json``: the scenario and model as run, and the run's settings (further keys,
    such as versions, are kept as written)."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="allow")
    scenario: dict[str, Any]
    model: dict[str, Any]
    source: str = ""
    seed: Annotated[int, Field(ge=0)]
    replications: Annotated[int, Field(ge=1)]
    baseline: str | None = None


def read_run_meta(path: Path) -> dict[str, Any]:
    """``run.json`` read and checked: a ConfigError naming it unless it describes a run."""
    data = read_json(path, 256 * 1024**2)
    if not isinstance(data, dict):
        raise ConfigError("not a run description: expected a JSON object", file=path)
    try:
        RunMeta.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"not a run description: {problem(exc)}", file=path) from None
    return data


def check_table(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``frame`` as read from ``path``, if it has the columns the report reads (and, in
    the summary tables, numbers where numbers belong); a ConfigError naming it if not."""
    name = path.name
    missing = [c for c in REQUIRED.get(name, ()) if c not in frame.columns]
    if missing:
        raise ConfigError(f"not a run's {name}: no {missing[0]!r} column", file=path)
    if name == "summary.csv" and frame.empty:
        raise ConfigError(f"not a run's {name}: no rows", file=path)
    if name in NUMERIC_TABLES and not frame.empty:
        for column in frame.columns:
            if column not in TEXT and not pd.api.types.is_numeric_dtype(frame[column]):
                shown = str(column)[:40]
                raise ConfigError(f"not a run's {name}: {shown!r} holds text", file=path)
    return frame


def reason(exc: Exception) -> str:
    """One line for a problem found reading a run: pydantic's first, not its dump."""
    return problem(exc) if isinstance(exc, ValidationError) else str(exc)
