"""What a run store holds, checked when it is read back.

A run directory may have been damaged (a disk, an editor, a script) or handed over by
someone else, and a value that merely parses can still be wrong: a NaN in a stored run
resumed silently with a wrong summary, ``"replications": "abc"`` crashed. Every record is
checked here against what this version writes (types, finite numbers, ranges, lengths,
and the links between per-order columns), and anything else is refused with a
ConfigError naming the file (exit 2). The store's format itself is unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.engine import RunResult
from sim.engine.records import COMPLETED, DECLINED, PENDING
from sim.errors import ConfigError

NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]
# Per-order columns and their dtypes, as the engine fills them (sim.engine.orders).
COLUMNS: dict[str, str] = {
    "arrival": "<f8",
    "basket": "<f8",
    "outcome": "|i1",
    "cause": "<i2",
    "checkout_end": "<f8",
    "gateway": "|i1",
    "fee": "<f8",
    "confirmed_by": "|i1",
    "confirmed_at": "<f8",
    "notifications_sent": "|i1",
    "duplicate": "|i1",
    "queued": "|b1",
    "compensated": "|b1",
    "double_charges": "|i1",
    "charged_without_order": "|i1",
    "refunded": "<f8",
    "final_at": "<f8",
    "fulfilled": "|b1",
    "failed_over": "|b1",
    "product": "<i4",
    "stock_flag": "|i1",
    "interrupted": "|b1",
    "resumed": "|b1",
    "compensated_after_crash": "|b1",
    "recovered_at": "<f8",
    "restarted_at": "<f8",
}


# Summary columns that are NaN when they have no data (README, "which summary columns may
# be NaN"); in any other column a stored NaN is damage.
NO_DATA_COLUMNS = frozenset(
    {
        "checkout_p50_s",
        "checkout_p95_s",
        "checkout_p99_s",
        "result_p50_s",
        "result_p95_s",
        "result_p99_s",
        "first_trip_s",
        "confirmation_p95_s",
        "final_confirmation_p95_s",
        "goodput_recovery_s",
        "retry_amplification",
        "recovery_time_s",
        "config_propagation_max_s",
    }
)


class _Record(BaseModel):
    """Strict: no "3" for 3, no true for 1, no NaN or infinity for a number."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="forbid", frozen=True)


class StoredFields(_Record):
    """A stored run's fields other than its per-order columns (see RunResult)."""

    scenario: str
    configuration: str
    replication: Count
    seed: Count
    horizon: Annotated[float, Field(gt=0)]
    warmup: NonNegative
    end_time: NonNegative
    cause_names: list[str]
    gateway_names: list[str]
    channel_names: list[str]
    transitions: list[tuple[NonNegative, str, str, str]]
    dependency_calls: dict[str, Count]
    dependency_errors: dict[str, list[NonNegative]]
    dependency_wait: dict[str, tuple[Count, NonNegative]]
    stage_stats: dict[str, tuple[Count, NonNegative]]
    samples: dict[str, list[float]]
    idempotency: bool
    recovery: tuple[float, float, float, float, float] | None
    config_events: list[tuple[NonNegative, str]]
    nodes: Annotated[int, Field(ge=1)]
    config_disagreement: list[tuple[NonNegative, NonNegative]]
    config_propagation: list[NonNegative]
    restart_times: list[NonNegative]
    crash_recovery: bool


class Precision(_Record):
    metric: str
    target: Annotated[float, Field(gt=0)]
    relative: bool
    cap: Annotated[int, Field(ge=2)]


class Decision(BaseModel):
    """What a run decides on (written by sim.analysis.objectives); read leniently, typed."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="allow", frozen=True)
    metric: str = ""
    direction: Literal["minimize", "maximize"] = "minimize"
    indifference: str | float | None = None
    constraints: list[str] = []
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05


class _Settings(BaseModel):
    # Further keys a newer writer adds are kept (they are the workflow's to read).
    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="allow", frozen=True)
    seed: Count
    replications: Annotated[int, Field(ge=1)]
    started: str
    decision: Decision | None = None


class RunSettings(_Settings):
    baseline: str
    precision: Precision | None
    warmup: NonNegative


class SweepSettings(_Settings):
    base_configuration: str
    params: list[str] = Field(min_length=1)
    lhs: Annotated[int, Field(ge=2)] | None


class Manifest(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    format: Literal[2]
    kind: Literal["run", "sweep"]
    loaded: dict[str, Any]
    settings: dict[str, Any]


def problem(exc: ValidationError) -> str:
    """The first problem pydantic found, on one line: ``settings.seed: Input should ...``."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"


def check_manifest(data: Any, kind: str, where: str) -> dict[str, Any]:
    """``experiment.json``'s data, checked to be a ``kind`` experiment this version wrote:
    a ConfigError naming ``where`` otherwise. The scenario record is checked when it is
    read (sim.experiment.manifest), the settings here, against it where they name it."""
    try:
        manifest = Manifest.model_validate(data)
        model = RunSettings if kind == "run" else SweepSettings
        settings = model.model_validate(manifest.settings)
    except ValidationError as exc:
        raise ConfigError(f"not an experiment description: {problem(exc)}", file=where) from None
    scenario = manifest.loaded.get("scenario")
    names = scenario.get("configurations") if isinstance(scenario, dict) else None
    named = settings.baseline if isinstance(settings, RunSettings) else settings.base_configuration
    if isinstance(names, dict) and named not in names:
        raise ConfigError(
            f"not an experiment description: its baseline names no configuration of its "
            f"scenario ({len(names)} configurations)",
            file=where,
        )
    horizon = scenario.get("horizon") if isinstance(scenario, dict) else None
    warmup = settings.warmup if isinstance(settings, RunSettings) else None
    if warmup is not None and isinstance(horizon, int | float) and not warmup < horizon:
        raise ConfigError("not an experiment description: warmup >= horizon", file=where)
    return dict(data)


@dataclasses.dataclass(frozen=True)
class Expected:
    """What every stored run of one experiment must say about itself."""

    scenario: str
    configurations: frozenset[str]
    seed: int
    horizon: float
    warmup: float


def check_result(result: RunResult, where: str, expected: Expected | None = None) -> None:
    """A ConfigError naming ``where`` unless ``result`` is a run this version could have
    written, of the experiment ``expected`` describes."""
    fields = {
        f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name not in COLUMNS
    }
    try:
        StoredFields.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(f"not a stored run: {problem(exc)}", file=where) from None
    columns = {name: getattr(result, name) for name in COLUMNS}
    reason = _columns_problem(result, columns) or _belongs_problem(result, expected)
    if reason:
        raise ConfigError(f"not a stored run: {reason}", file=where)


def _columns_problem(result: RunResult, columns: dict[str, Any]) -> str | None:
    n = columns["arrival"].size if isinstance(columns["arrival"], np.ndarray) else -1
    for name, dtype in COLUMNS.items():
        array = columns[name]
        if not isinstance(array, np.ndarray) or array.dtype.str != dtype:
            return f"{name}: expected a column of {np.dtype(dtype).name}"
        if array.ndim != 1 or array.size != n:
            return f"{name}: {array.size} values for {n} orders"
        if array.dtype.kind == "f" and np.isinf(array).any():
            return f"{name}: an infinite value"
    arrival = columns["arrival"]
    outcome, cause = columns["outcome"], columns["cause"]
    unfinished = _code(result.cause_names, "unfinished")
    checks = [
        ("arrival", np.isfinite(arrival).all() and (arrival >= 0).all()),
        ("arrival", (arrival <= result.horizon).all() and (np.diff(arrival) >= 0).all()),
        ("outcome", ((outcome >= COMPLETED) & (outcome <= DECLINED)).all()),
        ("outcome", not (outcome == PENDING).any()),
        ("cause", _within(cause, -1, len(result.cause_names))),
        ("gateway", _within(columns["gateway"], -1, len(result.gateway_names))),
        ("confirmed_by", _within(columns["confirmed_by"], -2, len(result.channel_names))),
        ("checkout_end", np.isfinite(columns["checkout_end"][cause != unfinished]).all()),
        ("confirmed_at", np.isfinite(columns["confirmed_at"][columns["confirmed_by"] >= 0]).all()),
        ("final_at", np.isfinite(columns["final_at"][outcome == COMPLETED]).all()),
        ("recovered_at", np.isnan(columns["recovered_at"][~columns["interrupted"]]).all()),
        ("restarted_at", np.isnan(columns["restarted_at"][~columns["interrupted"]]).all()),
        ("duplicate", _within(columns["duplicate"], 0, 3)),
        ("stock_flag", _within(columns["stock_flag"], 0, 4)),
        ("product", (columns["product"] >= 0).all()),
    ]
    for name in ("basket", "fee", "refunded"):
        checks.append((name, np.isfinite(columns[name]).all() and (columns[name] >= 0).all()))
    for name in ("notifications_sent", "double_charges", "charged_without_order"):
        checks.append((name, (columns[name] >= 0).all()))
    for name, ok in checks:
        if not ok:
            return f"{name}: a value this version never writes (NaN, out of range or unordered)"
    return None


def _within(array: np.ndarray, low: int, high: int) -> bool:
    """Every value in ``low <= value < high``."""
    return bool(((array >= low) & (array < high)).all())


def _code(names: list[str], name: str) -> int:
    return names.index(name) if name in names else -10


def _belongs_problem(result: RunResult, expected: Expected | None) -> str | None:
    if expected is None:
        return None
    if result.scenario != expected.scenario or result.seed != expected.seed:
        return "a run of another experiment (scenario or seed differ)"
    if result.configuration not in expected.configurations:
        return "a run of a configuration the experiment does not have"
    if result.horizon != expected.horizon or result.warmup != expected.warmup:
        return "a run of another experiment (horizon or warm-up differ)"
    return None


def check_row(row: Any, where: str) -> dict[str, Any]:
    """A sweep's stored summary row: metric names to finite numbers (NaN only where a
    metric can have no data), and the configuration's name."""
    if not isinstance(row, dict) or not all(isinstance(k, str) for k in row):
        raise ConfigError("not a stored summary row: expected a mapping of metrics", file=where)
    for key, value in row.items():
        if isinstance(value, str) and key == "configuration":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"not a stored summary row: {key}: not a number", file=where)
        if np.isinf(value) or (np.isnan(value) and key not in NO_DATA_COLUMNS):
            raise ConfigError(
                f"not a stored summary row: {key}: a value this version never writes",
                file=where,
            )
    return row
