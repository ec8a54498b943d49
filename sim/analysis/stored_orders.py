"""A run directory's orders and timeline, read from the store's per-run files
(``orders/<run>.parquet``, ``timeline/<run>.parquet``; see sim.experiment.runfiles) one run
at a time, in the experiment's order.

``orders`` gives the orders table notebooks and the report read: seconds and currency
units from the stored milliseconds and cents, names as categories. The report's two
figures drawn from orders (latency and gateway shares over time) are computed a run at
a time from the few columns they need (``feed``), so drawing a report holds
neither every order nor every column in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.engine.records import CENTS, OUTCOMES
from sim.errors import ConfigError
from sim.experiment.runfiles import MS, NO_CHANNEL, ORDERS
from sim.experiment.store import ORDERS as ORDERS_DIR
from sim.experiment.store import TIMELINE, run_name

Run = tuple[str, int]  # (configuration, replication)
FIGURE_COLUMNS = ["outcome", "arrival_ms", "left_ms", "gateway"]


def run_file(directory: Path, table: str, run: Run) -> Path:
    """Where the store keeps ``table`` ("orders" or "timeline") of ``run``."""
    return directory / table / f"{run_name(*run)}.parquet"


def read_run_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """One stored file; a ConfigError naming it when it is missing, unreadable or not of
    this version's schema."""
    if not path.is_file():
        raise ConfigError(
            "not a finished run directory: a run's file is missing or not a regular file",
            file=path,
        )
    try:
        table = pq.read_table(path, columns=columns)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ConfigError(f"unreadable: {exc}", file=path) from None
    if path.parent.name == ORDERS_DIR:
        expected = ORDERS if columns is None else pa.schema([ORDERS.field(c) for c in columns])
        if table.schema != expected:
            raise ConfigError("not a stored run's orders: its columns differ", file=path)
    return table


class Names:
    """A name column built run by run as integer codes into one growing list of names (a
    category per name, in order of first appearance after those ``first``): a couple of
    bytes per order, where strings would take dozens."""

    def __init__(self, first: Iterable[str] = ()) -> None:
        self.names: list[str] = list(first)
        self._index = {name: code for code, name in enumerate(self.names)}
        self._codes: list[np.ndarray] = []

    def add(self, column: pa.ChunkedArray, blank: str = "") -> None:
        """A stored dictionary column (null as ``blank``)."""
        for chunk in column.chunks:
            local = [blank if v is None else str(v) for v in chunk.dictionary.to_pylist()]
            if chunk.null_count:
                local.append(blank)  # a null is the code after the dictionary's names
            mapping = np.array([self._code(name) for name in local], dtype=np.int32)
            indices = pc.fill_null(chunk.indices, len(local) - 1).to_numpy()
            self._codes.append(mapping[indices])

    def add_constant(self, name: str, count: int) -> None:
        self._codes.append(np.full(count, self._code(name), dtype=np.int32))

    def _code(self, name: str) -> int:
        if name not in self._index:
            self._index[name] = len(self.names)
            self.names.append(name)
        return self._index[name]

    def categorical(self, categories: list[str] | None = None, *, keep: bool = False) -> Any:
        """The column as a pandas Categorical, with these categories (every name it holds
        among them) or its own; names no order has are dropped unless ``keep``."""
        codes = np.concatenate(self._codes) if self._codes else np.zeros(0, dtype=np.int32)
        if categories is not None:
            where = {name: code for code, name in enumerate(categories)}
            codes = np.array([where[name] for name in self.names], dtype=np.int32)[codes]
        names = pd.Index(categories if categories is not None else self.names, dtype=object)
        column = pd.Categorical.from_codes(codes, names)
        return column if keep else column.remove_unused_categories()


def _seconds(table: pa.Table, name: str) -> np.ndarray:
    """A stored column of milliseconds in seconds (NaN where null)."""
    ms = np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(ms / MS)


def _waited(table: pa.Table) -> np.ndarray:
    """Seconds from arrival to leaving checkout: the millisecond difference, exact, then
    in seconds (NaN for an order still in flight)."""
    arrival = table.column("arrival_ms").to_numpy().astype(np.float64)
    left = np.asarray(table.column("left_ms").to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray((left - arrival) / MS)


def orders(directory: Path, runs: Iterable[Run], configurations: list[str]) -> pd.DataFrame:
    """Every order of ``runs`` (in that order), the orders table: configuration,
    replication, order, arrival_s, warmup, basket, outcome, cause, checkout_latency_s,
    left_at_s, waited_s, gateway, fee, confirmed_by (the times NaN for an order in flight
    when the run ended, a name "" where there is none). Names are categories: outcomes in
    their usual order, gateways in the model's, configurations in the scenario's, causes
    and channels in order of first appearance."""
    names = {
        "configuration": Names(configurations),
        "outcome": Names(OUTCOMES),
        "cause": Names(),
        "gateway": Names(),
        "confirmed_by": Names(),
    }
    numbers: dict[str, list[np.ndarray]] = {k: [] for k in NUMBERS}
    for run in runs:
        table = read_run_table(run_file(directory, ORDERS_DIR, run))
        for name, column in names.items():
            column.add(table.column(name))
        waited = _waited(table)
        abandoned = table.column("outcome").to_numpy(zero_copy_only=False) == "abandoned"
        values = {
            "replication": table.column("replication").to_numpy().astype(np.int64),
            "order": np.arange(table.num_rows, dtype=np.int64),
            "arrival_s": _seconds(table, "arrival_ms"),
            "warmup": table.column("warmup").to_numpy(zero_copy_only=False),
            "basket": table.column("basket_cents").to_numpy() / CENTS,
            "checkout_latency_s": np.where(abandoned, np.nan, waited),
            "left_at_s": _seconds(table, "left_ms"),
            "waited_s": waited,
            "fee": table.column("fee_cents").to_numpy() / CENTS,
        }
        for key, value in values.items():
            numbers[key].append(value)
    joined = {k: np.concatenate(v) if v else np.zeros(0) for k, v in numbers.items()}
    channels = names["confirmed_by"]
    channels.names = ["" if n == NO_CHANNEL else n for n in channels.names]
    return pd.DataFrame(
        {
            "configuration": names["configuration"].categorical(keep=True),
            "replication": joined["replication"],
            "order": joined["order"],
            "arrival_s": joined["arrival_s"],
            "warmup": joined["warmup"].astype(bool),
            "basket": joined["basket"],
            "outcome": names["outcome"].categorical(keep=True),
            "cause": names["cause"].categorical(),
            "checkout_latency_s": joined["checkout_latency_s"],
            "left_at_s": joined["left_at_s"],
            "waited_s": joined["waited_s"],
            "gateway": names["gateway"].categorical(),
            "fee": joined["fee"],
            "confirmed_by": _merged(channels),
        }
    )


NUMBERS = (
    "replication",
    "order",
    "arrival_s",
    "warmup",
    "basket",
    "checkout_latency_s",
    "left_at_s",
    "waited_s",
    "fee",
)


def _merged(column: Names) -> Any:
    """A name column in which several names became the same one (none and not
    applicable both ""): merged into one category."""
    categories = list(dict.fromkeys(column.names))
    return column.categorical(categories if len(categories) < len(column.names) else None)


def timeline(directory: Path, runs: Iterable[Run]) -> pd.DataFrame:
    """Every second of ``runs`` (in that order): the timeline table, as ``pandas.concat``
    of the runs' files would make it (a column some runs lack is NaN there). Each column
    is allocated once and filled a run at a time, so reading holds the table and one run,
    not the table twice."""
    paths = [run_file(directory, TIMELINE, run) for run in runs]
    schemas = [_schema(path) for path in paths]
    if not paths:
        return pd.DataFrame()
    types: dict[str, np.dtype[Any]] = {}
    for schema in schemas:
        for field in schema:
            if field.name != "configuration" and field.name not in types:
                types[field.name] = np.dtype(field.type.to_pandas_dtype())
    for name, dtype in types.items():
        if any(name not in schema.names for schema in schemas) and dtype.kind in "iub":
            types[name] = np.dtype(np.float64)  # missing in some runs: NaN there
    total = sum(_rows(path) for path in paths)
    columns = {name: np.full(total, np.nan, dtype=dtype) if dtype.kind == "f"
               else np.empty(total, dtype=dtype) for name, dtype in types.items()}  # fmt: skip
    names = Names()
    start = 0
    for path in paths:
        table = read_run_table(path)
        end = start + table.num_rows
        names.add(table.column("configuration"))
        for name in table.column_names:
            if name != "configuration":
                columns[name][start:end] = table.column(name).to_numpy(zero_copy_only=False)
        start = end
    frame = {"configuration": names.categorical(), **columns}
    return pd.DataFrame(frame, copy=False)[list(frame)]


def _schema(path: Path) -> pa.Schema:
    """The columns of a stored Parquet file, from its footer."""
    try:
        return pq.read_schema(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ConfigError(f"unreadable: {exc}", file=path) from None


def _rows(path: Path) -> int:
    """Rows of a stored Parquet file, from its footer."""
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ConfigError(f"unreadable: {exc}", file=path) from None


class Accumulator(Protocol):
    def add(self, orders: pd.DataFrame) -> None: ...


BATCH = 65_536  # orders read at a time for the order figures


def feed(directory: Path, runs: list[Run], configurations: list[str], *tables: Accumulator) -> None:
    """Give each of ``tables`` (plotdata.LatencyOverTime, mitigations.GatewayShares) the
    orders of ``runs``, BATCH orders at a time, with only the columns the order figures
    read: memory does not grow with the size or number of runs."""
    for run in runs:
        path = run_file(directory, ORDERS_DIR, run)
        read_run_table(path, FIGURE_COLUMNS[:1])  # missing, unreadable or foreign: refused
        for batch in pq.ParquetFile(path).iter_batches(BATCH, columns=FIGURE_COLUMNS):
            frame = _figure_columns(pa.Table.from_batches([batch]), run[0], configurations)
            for table in tables:
                table.add(frame)


def _figure_columns(table: pa.Table, configuration: str, configurations: list[str]) -> pd.DataFrame:
    """Orders of one run with only what the order figures read: configuration, outcome,
    arrival_s, checkout_latency_s, gateway."""
    outcome, gateway, names = Names(OUTCOMES), Names(), Names(configurations)
    names.add_constant(configuration, table.num_rows)
    outcome.add(table.column("outcome"))
    gateway.add(table.column("gateway"))
    abandoned = table.column("outcome").to_numpy(zero_copy_only=False) == "abandoned"
    return pd.DataFrame(
        {
            "configuration": names.categorical(keep=True),
            "outcome": outcome.categorical(keep=True),
            "arrival_s": _seconds(table, "arrival_ms"),
            "checkout_latency_s": np.where(abandoned, np.nan, _waited(table)),
            "gateway": gateway.categorical(keep=True),
        }
    )
