"""What a run store holds, checked when it is read back.

A run directory may have been damaged (a disk, an editor, a script) or handed over by
someone else, and a value that merely parses can still be wrong: a NaN in a stored run
resumed silently with a wrong summary, ``"replications": "abc"`` crashed. Every record is
checked here against what this version writes (types, finite numbers, ranges, lengths,
the links between per-order columns, and the run's summary row against its orders: the
counts and, exactly, the money), and anything else is refused with a ConfigError naming
the file (exit 2).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.engine.records import CENTS, OUTCOMES
from sim.errors import ConfigError
from sim.experiment import codec
from sim.experiment.runfiles import NO_CHANNEL, ORDERS, PER_ORDER, SAMPLES

NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]
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
    dependency_errors: dict[str, list[Count]]  # milliseconds since the previous failure
    stage_stats: dict[str, tuple[Count, NonNegative]]
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
    format: Literal[3]
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


def check_record(
    data: dict[str, Any], where: str, expected: Expected | None = None
) -> tuple[tuple[str, int], dict[str, Any], dict[str, Any]]:
    """A stored run's record: ((configuration, replication), summary row, fields), each
    checked to be what this version writes for a run of the experiment ``expected``
    describes; a ConfigError naming ``where`` otherwise."""
    configuration, replication = data.get("configuration"), data.get("replication")
    if not isinstance(configuration, str) or type(replication) is not int:
        raise ConfigError("not a stored run: configuration, replication", file=where)
    try:
        row = check_row(codec.decode(data.get("row")), where)
        fields = codec.decode(data.get("fields"))
        if not isinstance(fields, dict):
            raise ValueError("fields: expected a mapping")
        StoredFields.model_validate(fields)
    except ValidationError as exc:
        raise ConfigError(f"not a stored run: {problem(exc)}", file=where) from None
    except (KeyError, ValueError, TypeError, RecursionError) as exc:
        raise ConfigError(f"not a stored run: {exc}", file=where) from None
    named = (fields["configuration"], fields["replication"], row.get("configuration"))
    if named != (configuration, replication, configuration) or row.get("replication") != (
        replication
    ):
        raise ConfigError("not a stored run: its parts name different runs", file=where)
    reason = _belongs_problem(fields, expected)
    if reason:
        raise ConfigError(f"not a stored run: {reason}", file=where)
    return (configuration, replication), row, fields


def check_orders(table: pa.Table, row: dict[str, Any], fields: dict[str, Any], where: str) -> None:
    """A run's stored orders: the schema this version writes, values it could write, and
    the counts and money of the run's summary row, exactly; a ConfigError naming
    ``where`` otherwise."""
    if table.schema != ORDERS:  # before anything is read: a NaN in an int column
        raise ConfigError("not a stored run: its columns are not this version's", file=where)
    reason = _orders_problem(table, fields) or _summary_problem(table, row)
    if reason:
        raise ConfigError(f"not a stored run: {reason}", file=where)


def _orders_problem(table: pa.Table, fields: dict[str, Any]) -> str | None:
    """What is wrong with the per-order values of a table of the right schema."""
    dictionaries = {
        "configuration": [fields["configuration"]],
        "outcome": list(OUTCOMES),
        "cause": fields["cause_names"],
        "gateway": fields["gateway_names"],
        "confirmed_by": [*fields["channel_names"], NO_CHANNEL],
    }
    for name, expected in dictionaries.items():
        column = table.column(name)
        for chunk in column.chunks:
            if chunk.dictionary.to_pylist() != expected:
                return f"{name}: names this run does not have"
    values = {name: _values(table, name) for name in table.column_names}
    outcome = values["outcome"]
    completed = outcome == OUTCOMES.index("completed")
    unfinished = _code(fields["cause_names"], "unfinished")
    arrival = values["arrival_ms"]
    interrupted = values["interrupted"]
    checks = [
        ("configuration", (values["configuration"] == 0).all()),
        ("replication", (values["replication"] == fields["replication"]).all()),
        ("arrival_ms", (arrival >= 0).all() and (np.diff(arrival) >= 0).all()),
        ("arrival_ms", (arrival <= round(fields["horizon"] * 1000)).all()),
        ("outcome", (outcome >= 0).all()),
        ("cause", ((values["cause"] < 0) == completed).all()),
        ("gateway", (values["gateway"][completed] >= 0).all()),
        ("left_ms", (values["left_ms"][values["cause"] != unfinished] >= 0).all()),
        ("confirmed_at_ms", _known(values, "confirmed_at_ms", values["confirmed_by"] >= 0)),
        ("final_at_ms", _known(values, "final_at_ms", completed)),
        ("recovered_at_ms", (values["recovered_at_ms"][~interrupted] == _NULL).all()),
        ("restarted_at_ms", (values["restarted_at_ms"][~interrupted] == _NULL).all()),
        ("duplicate", _within(values["duplicate"], 0, 3)),
        ("stock_flag", _within(values["stock_flag"], 0, 4)),
        ("product", (values["product"] >= 0).all()),
    ]
    for name in ("basket_cents", "fee_cents", "refunded_cents"):
        checks.append((name, (values[name] >= 0).all()))
    for name in ("notifications_sent", "double_charges", "charged_without_order"):
        checks.append((name, (values[name] >= 0).all()))
    for name, ok in checks:
        if not ok:
            return f"{name}: a value this version never writes (missing, out of range or unordered)"
    return None


_NULL = -(2**62)  # a null in an integer column, as _values gives it


def _values(table: pa.Table, name: str) -> np.ndarray:
    """A column as numpy: dictionary columns as their codes, null as -1 in them and as
    _NULL in the others (no value this version writes)."""
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        codes = pa.chunked_array([c.indices for c in column.chunks], column.type.index_type)
        return np.asarray(pc.fill_null(codes, -1).to_numpy(), dtype=np.int64)
    if pa.types.is_boolean(column.type):
        return np.asarray(pc.fill_null(column, False).to_numpy(zero_copy_only=False))
    return np.asarray(pc.fill_null(column.cast(pa.int64()), _NULL).to_numpy())


def _within(array: np.ndarray, low: int, high: int) -> bool:
    """Every value in ``low <= value < high``."""
    return bool(((array >= low) & (array < high)).all())


def _code(names: list[str], name: str) -> int:
    return names.index(name) if name in names else -10


def _known(values: dict[str, np.ndarray], name: str, where: np.ndarray) -> bool:
    return bool((values[name][where] != _NULL).all())


def _summary_problem(table: pa.Table, row: dict[str, Any]) -> str | None:
    """Where the run's orders and its summary row disagree: the counted orders and their
    outcomes, and the money in integer cents (exact)."""
    counted = ~_values(table, "warmup")
    outcome = _values(table, "outcome")[counted]
    basket = _values(table, "basket_cents")[counted]
    fee = _values(table, "fee_cents")[counted]
    code = {name: OUTCOMES.index(name) for name in OUTCOMES}
    completed = outcome == code["completed"]
    lost = (outcome == code["failed"]) | (outcome == code["abandoned"])
    expected = {
        "orders": int(outcome.size),
        **{name: int(np.count_nonzero(outcome == c)) for name, c in code.items()},
        "revenue_demanded": int(basket.sum()),
        "fees": int(fee.sum()),
        "revenue_captured": int(basket[completed].sum() - fee.sum()),
        "revenue_lost": int(basket[lost].sum()),
        "revenue_declined": int(basket[outcome == code["declined"]].sum()),
    }
    for name, value in expected.items():
        stored = row.get(name)
        if name.startswith(("revenue", "fees")):
            stored = round(stored * CENTS) if isinstance(stored, int | float) else None
        if stored != value:
            return f"its orders do not add up to its summary's {name}"
    return None


def check_timeline(table: pa.Table, key: tuple[str, int], where: str) -> None:
    """A run's stored timeline: one row per second from 0, of that run, with counts where
    counts belong; a ConfigError naming ``where`` otherwise."""
    reason = None
    names = table.column_names
    if not {"configuration", "replication", "second", *TIMELINE_COUNTS} <= set(names):
        reason = "its columns are not this version's"
    elif any(not pa.types.is_integer(table.schema.field(c).type) for c in TIMELINE_COUNTS):
        reason = "a count that is not a whole number"
    elif any(
        not (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
        for f in table.schema
        if f.name != "configuration"
    ):
        reason = "a column that holds no numbers"
    else:
        second = table.column("second").to_numpy()
        configuration = table.column("configuration").cast(pa.string()).to_pylist()
        if table.num_rows == 0 or (second != np.arange(table.num_rows)).any():
            reason = "its seconds are not 0, 1, 2..."
        elif set(configuration) != {key[0]} or set(table.column("replication").to_pylist()) != {
            key[1]
        }:
            reason = "rows of another run"
    if reason:
        raise ConfigError(f"not a stored run's timeline: {reason}", file=where)


# Columns of a stored timeline that count (whole numbers, never missing).
TIMELINE_COUNTS = ("second", "arrivals", "completed", "failed", "abandoned", "dependency_errors")
RECORD_FIELDS = PER_ORDER | {SAMPLES}  # kept elsewhere than in the record


def _belongs_problem(fields: dict[str, Any], expected: Expected | None) -> str | None:
    if expected is None:
        return None
    if fields["scenario"] != expected.scenario or fields["seed"] != expected.seed:
        return "a run of another experiment (scenario or seed differ)"
    if fields["configuration"] not in expected.configurations:
        return "a run of a configuration the experiment does not have"
    if fields["horizon"] != expected.horizon or fields["warmup"] != expected.warmup:
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
