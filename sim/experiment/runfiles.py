"""One finished run as the store keeps it: its orders and its timeline as compact Parquet
files, and a small JSON record (its summary row, breaker transitions and counters).

The orders file has one row per order and no column derived from another (see ORDERS):

- times in whole milliseconds (int64, null for never): ``arrival_ms``, ``left_ms`` (the
  customer saw the result or gave up), ``confirmed_at_ms``, ``final_at_ms``,
  ``recovered_at_ms``, ``restarted_at_ms``;
- money in integer cents, exactly as the run counted it: ``basket_cents``, ``fee_cents``,
  ``refunded_cents``;
- names as dictionaries: ``configuration``, ``outcome``, ``cause`` (null: completed),
  ``gateway`` (null: none answered), ``confirmed_by`` (``none``: customer-service follow-up,
  null: not completed);
- ``warmup``: arrived in the warm-up, not counted (kept: a time rounded to the
  millisecond could cross the warm-up's end).

Files are zstd-compressed, the times delta-encoded: about 10 bytes per order. The summary
row is computed in the worker from the exact run, so a resumed experiment reads it back
rather than recomputing it from the rounded times; money is exact either way. The record
keeps each dependency's failure instants as milliseconds after the previous one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.engine.records import OUTCOMES, RunResult, cents

# Arrow's default memory pool in the wheels (mimalloc) keeps the memory of freed buffers
# for reuse, so reading the runs one at a time would cost as much as reading them all at
# once; the system allocator hands large buffers back as soon as they are freed.
pa.set_memory_pool(pa.system_memory_pool())

MS = 1000  # stored times are whole milliseconds
NO_CHANNEL = "none"  # confirmed_by: no channel confirmed (customer-service follow-up)
NAMES = pa.dictionary(pa.int16(), pa.string())
# The stored orders file: column, type; see the module docstring.
ORDERS = pa.schema(
    [
        ("configuration", NAMES),
        ("replication", pa.int32()),
        ("arrival_ms", pa.int64()),
        ("warmup", pa.bool_()),
        ("basket_cents", pa.int64()),
        ("outcome", NAMES),
        ("cause", NAMES),
        ("left_ms", pa.int64()),
        ("gateway", NAMES),
        ("fee_cents", pa.int64()),
        ("confirmed_by", NAMES),
        ("confirmed_at_ms", pa.int64()),
        ("final_at_ms", pa.int64()),
        ("notifications_sent", pa.int8()),
        ("duplicate", pa.int8()),
        ("queued", pa.bool_()),
        ("compensated", pa.bool_()),
        ("double_charges", pa.int8()),
        ("charged_without_order", pa.int8()),
        ("refunded_cents", pa.int64()),
        ("fulfilled", pa.bool_()),
        ("failed_over", pa.bool_()),
        ("product", pa.int32()),
        ("stock_flag", pa.int8()),
        ("interrupted", pa.bool_()),
        ("resumed", pa.bool_()),
        ("compensated_after_crash", pa.bool_()),
        ("recovered_at_ms", pa.int64()),
        ("restarted_at_ms", pa.int64()),
    ]
)
# The RunResult fields the orders file holds, and the one the timeline file holds: the
# JSON record has every other.
PER_ORDER = frozenset(
    {"arrival", "basket", "outcome", "cause", "checkout_end", "gateway", "fee", "confirmed_by"}
    | {"confirmed_at", "notifications_sent", "duplicate", "queued", "compensated", "refunded"}
    | {"double_charges", "charged_without_order", "final_at", "fulfilled", "failed_over"}
    | {"product", "stock_flag", "interrupted", "resumed", "compensated_after_crash"}
    | {"recovered_at", "restarted_at"}
)
SAMPLES = "samples"
KEPT = ("transitions",)  # the record's fields an experiment keeps in memory


@dataclasses.dataclass(frozen=True)
class StoredRun:
    """A finished run as the store writes it (``orders`` and ``timeline`` tables) and as it
    keeps it afterwards (without them): its summary ``row`` and ``record``: every other
    RunResult field but the per-second samples, as Python values (the store writes them
    as JSON through sim.experiment.codec)."""

    configuration: str
    replication: int
    row: dict[str, Any]
    record: dict[str, Any]
    orders: bytes | None = None  # the Parquet files, made in the worker: a tenth of the
    timeline: bytes | None = None  # tables' size to send back, and nothing to compress

    def without_tables(self) -> StoredRun:
        """What the experiment keeps in memory once the run is on disk: its summary row and
        breaker transitions (the tables read the rest from disk; an outage's failure
        instants alone are megabytes a run)."""
        kept = {name: self.record[name] for name in KEPT if name in self.record}
        return dataclasses.replace(self, record=kept, orders=None, timeline=None)


def stored_run(result: RunResult, row: dict[str, Any], timeline: pa.Table) -> StoredRun:
    """``result`` in the store's form, with its summary ``row`` and ``timeline`` (made by
    the analysis layer, in the worker that ran it)."""
    record = {
        f.name: getattr(result, f.name)
        for f in dataclasses.fields(result)
        if f.name not in PER_ORDER and f.name != SAMPLES
    }
    # Failure instants: whole milliseconds, each after the one before (a few characters
    # each; an outage fails tens of thousands of calls).
    record["dependency_errors"] = {
        name: np.diff(np.rint(np.asarray(times) * MS).astype(np.int64), prepend=0).tolist()
        for name, times in result.dependency_errors.items()
    }
    orders = parquet(orders_table(result))
    return StoredRun(
        result.configuration, result.replication, row, record, orders, parquet(timeline)
    )


def orders_table(result: RunResult) -> pa.Table:
    """The per-order columns of ``result`` as the stored orders file holds them."""
    n = result.orders
    channels = [*result.channel_names, NO_CHANNEL]
    confirmed = np.where(result.confirmed_by == -1, len(result.channel_names), result.confirmed_by)

    def optional(name: str, dtype: type) -> np.ndarray:
        value = getattr(result, name)
        if value.size == n:
            return np.asarray(value)
        blank = np.nan if dtype is float else False  # a run without crashes has none
        return np.full(n, blank, dtype=dtype)

    columns: dict[str, Any] = {
        "configuration": _names(np.zeros(n, dtype=np.int16), [result.configuration]),
        "replication": pa.array(np.full(n, result.replication, dtype=np.int32)),
        "arrival_ms": _ms(result.arrival),
        "warmup": pa.array(result.arrival < result.warmup),
        "basket_cents": pa.array(cents(result.basket)),
        "outcome": _names(result.outcome, list(OUTCOMES)),
        "cause": _names(result.cause, result.cause_names),
        "left_ms": _ms(result.checkout_end),
        "gateway": _names(result.gateway, result.gateway_names),
        "fee_cents": pa.array(cents(result.fee)),
        "confirmed_by": _names(confirmed, channels),
        "confirmed_at_ms": _ms(result.confirmed_at),
        "final_at_ms": _ms(result.final_at),
        "refunded_cents": pa.array(cents(result.refunded)),
        "recovered_at_ms": _ms(optional("recovered_at", float)),
        "restarted_at_ms": _ms(optional("restarted_at", float)),
    }
    for name in ("interrupted", "resumed", "compensated_after_crash"):
        columns[name] = pa.array(optional(name, bool))
    for field in ORDERS:
        if field.name not in columns:
            columns[field.name] = pa.array(getattr(result, field.name), type=field.type)
    return pa.table({f.name: columns[f.name] for f in ORDERS}, schema=ORDERS)


def _ms(seconds: np.ndarray) -> pa.Array:
    """Seconds as whole milliseconds; NaN (never) as null."""
    known = np.isfinite(seconds)
    ms = np.rint(np.where(known, seconds, 0.0) * MS).astype(np.int64)
    return pa.array(ms, mask=~known)


def _names(codes: np.ndarray, names: list[str]) -> pa.DictionaryArray:
    """Codes into ``names`` as a dictionary column; a negative code is null."""
    codes = np.asarray(codes, dtype=np.int16)
    indices = pa.array(codes, mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(names, pa.string()))


def parquet(table: pa.Table) -> bytes:
    """``table`` as a Parquet file: zstd, dictionaries for names and delta encoding for
    whole numbers (times in milliseconds, money in cents, counts)."""
    schema = table.schema
    names = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    deltas = {f.name: "DELTA_BINARY_PACKED" for f in schema if f.type == pa.int64()}
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=names, column_encoding=deltas)
    return bytes(sink.getvalue())
