"""Finished runs on disk in a versioned, data-only format, each written atomically as it
completes, so an experiment killed at any instant is resumed without losing or repeating a
run, and a run directory someone hands you is only ever read as data.

Layout (format 3)::

    DIR/experiment.json         what the experiment is; {"format": 3, "kind": ..., ...}
    DIR/orders/<run>.parquet    a run's orders (sim.experiment.runfiles): together, the
                                orders table, read in one call (pandas.read_parquet(DIR/orders))
    DIR/timeline/<run>.parquet  a run's per-second timeline: together, the timeline table
    DIR/runs/<run>.json         the run's record: its summary row and every other field

Per-order data is stored once: the run directory's orders table is these files. A run's
Parquet files are written first, each to a temporary name renamed into place, and its
record last: a run is complete exactly when ``runs/<run>.json`` exists, and resuming
deletes the files of a run that has none (it was being written when the process died)
before running it again. A sweep stores only records (its summary rows).

Every record carries a SHA-256 digest of its content, and a run's record the digests of its
two Parquet files: a record or file changed after it was written is refused. Everything
read back is also checked against what this version writes (sim.experiment.stored): a
damaged or foreign record is refused with a ConfigError naming its file, never resumed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.config.yamlio import read_bytes
from sim.errors import ConfigError
from sim.experiment import codec
from sim.experiment.atomic import named, write_atomically
from sim.experiment.runfiles import StoredRun
from sim.experiment.stored import (
    Expected,
    check_manifest,
    check_orders,
    check_record,
    check_row,
    check_timeline,
)

# 1 was the pickle store (no "format" key in experiment.json); 2 kept every run's orders
# in runs/<run>/orders.parquet and a copy of them all in the run directory's orders.parquet.
FORMAT = 3
RUNS = "runs"
ORDERS = "orders"
TIMELINE = "timeline"
MANIFEST = "experiment.json"
MAX_JSON = 2 * 1024**3  # a stored record's JSON
PICKLES = (".pkl", ".pickle")  # the format-1 store's files, any case


def dumps(data: Any, indent: int | None = 2) -> bytes:
    """Strict JSON (no NaN tokens: codec.encode tags them), indented for readers unless
    ``indent`` is None (stored runs: a third of the size)."""
    separators = (",", ":") if indent is None else None
    text = json.dumps(data, indent=indent, separators=separators, allow_nan=False)
    return text.encode("utf-8")


class RunStore:
    """The runs of one experiment directory: ``create`` it with a manifest, ``save`` each
    finished run (a StoredRun, or a sweep's summary row), ``load`` them back on resume."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.runs = self.directory / RUNS
        self.orders = self.directory / ORDERS
        self.timeline = self.directory / TIMELINE
        self.kind = "run"
        self.expected: Expected | None = None  # what every stored run must say of itself

    def create(self, manifest: dict[str, Any]) -> None:
        """Write ``experiment.json`` (format and kind added) and the empty folders."""
        self.kind = str(manifest.get("kind", "run"))
        folders = [self.runs] + ([self.orders, self.timeline] if self.kind == "run" else [])
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, **manifest}  # key order is meaningful: configurations
        write_atomically(self.directory / MANIFEST, dumps(data))
        self.expected = _expected(data)

    def manifest(self, kind: str) -> dict[str, Any]:
        """The manifest of a directory to resume, after checking it is one this version
        reads and of ``kind`` ("run" or "sweep"); a ConfigError (exit 2) says why not."""
        path = self.directory / MANIFEST
        if not self.directory.is_dir():
            raise ConfigError("not a directory", file=self.directory)
        if not os.path.lexists(path):
            raise ConfigError(
                "not a resumable run directory (no experiment.json)", file=self.directory
            )
        data = read_json(path)
        if not isinstance(data, dict):
            raise ConfigError("not an experiment description", file=path)
        version = data.get("format", 1)
        pickles = self._pickles()
        if (version != FORMAT or isinstance(version, bool)) or pickles:
            found = (
                f"pickle files in runs/ ({pickles[0].relative_to(self.runs)})"
                if pickles
                else f"run store format {version!r}"
            )
            raise ConfigError(
                f"cannot resume: it holds {found}, and this breakerlab reads only format "
                f"{FORMAT} (data-only Parquet and JSON); run the scenario again instead",
                file=self.directory,
            )
        if data.get("kind", "run") != kind:
            other = data.get("kind")
            if other not in ("run", "sweep"):
                raise ConfigError("not an experiment description: unknown kind", file=path)
            raise ConfigError(
                f"a {other} directory: resume it with breakerlab {other} --resume",
                file=self.directory,
            )
        checked = check_manifest(data, kind, str(path))
        self.kind = kind
        self.expected = _expected(checked)
        return checked

    def _pickles(self) -> list[Path]:
        """Pickle files anywhere under ``runs/`` (``.pkl``, ``.pickle``, in any case)."""
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.rglob("*") if p.suffix.lower() in PICKLES)

    def path(self, configuration: str, replication: int) -> Path:
        """The run's record in ``runs/``: a readable name, unique per configuration."""
        return self.runs / f"{run_name(configuration, replication)}.json"

    def orders_file(self, configuration: str, replication: int) -> Path:
        return self.orders / f"{run_name(configuration, replication)}.parquet"

    def timeline_file(self, configuration: str, replication: int) -> Path:
        return self.timeline / f"{run_name(configuration, replication)}.parquet"

    def save(self, value: StoredRun | dict[str, Any], key: tuple[str, int]) -> Any:
        """Store a finished run, ``key`` = (configuration, replication): a StoredRun, or
        a sweep's summary row; returns what the experiment keeps of it in memory."""
        if isinstance(value, StoredRun):
            self.save_run(value)
            return value.without_tables()
        self.save_row(*key, value)
        return value

    def load(self) -> dict[tuple[str, int], Any]:
        """Every finished run, as ``save`` returned it: StoredRuns or summary rows."""
        return self.load_runs() if self.kind == "run" else self.load_rows()

    def save_run(self, run: StoredRun) -> None:
        """A full run: its orders and timeline files, then its record (last: the run is
        complete exactly when the record exists)."""
        assert run.orders is not None and run.timeline is not None, "a run with its files"
        key = (run.configuration, run.replication)
        final = self.path(*key)
        try:
            write_atomically(self.orders_file(*key), run.orders)
            write_atomically(self.timeline_file(*key), run.timeline)
            data = {
                "format": FORMAT,
                "configuration": run.configuration,
                "replication": run.replication,
                "row": codec.encode(run.row),
                "fields": codec.encode(run.record),
                "files": {ORDERS: _sha256(run.orders), TIMELINE: _sha256(run.timeline)},
            }
            write_atomically(final, dumps(sealed(data), indent=None))
        except OSError as exc:
            raise named(exc, final) from exc

    def save_row(self, configuration: str, replication: int, row: dict[str, Any]) -> None:
        """A reduced run (a summary row), one JSON file."""
        data = {
            "format": FORMAT,
            "configuration": configuration,
            "replication": replication,
            "row": codec.encode(row),
        }
        write_atomically(self.path(configuration, replication), dumps(sealed(data), indent=None))

    def load_runs(self) -> dict[tuple[str, int], StoredRun]:
        """Every finished full run, by (configuration, replication), each checked with its
        files (one run in memory at a time); the files of runs without a record (being
        written when the process died) are deleted, to be made again."""
        found: dict[tuple[str, int], StoredRun] = {}
        for path in self._entries(self.runs, ".json"):
            data = self._json(path)
            key, row, fields = check_record(data, str(path), self.expected)
            if path != self.path(*key):
                continue  # not a name this store gives: not one of its runs
            files = data.get("files")
            orders, timeline = self.orders_file(*key), self.timeline_file(*key)
            check_orders(_read_table(orders, files, ORDERS), row, fields, str(orders))
            check_timeline(_read_table(timeline, files, TIMELINE), key, str(timeline))
            found[key] = StoredRun(key[0], key[1], row, fields).without_tables()
        done = {f"{run_name(*key)}.parquet" for key in found}
        for folder in (self.orders, self.timeline):
            for leftover in self._entries(folder, ".parquet"):
                if leftover.name not in done:
                    leftover.unlink()
        for folder in (self.runs, self.orders, self.timeline):  # files a kill left half-written
            for temporary in folder.glob(".*.tmp") if folder.is_dir() else []:
                temporary.unlink()
        return found

    def load_rows(self) -> dict[tuple[str, int], dict[str, Any]]:
        """Every finished reduced run, by (configuration, replication)."""
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for path in self._entries(self.runs, ".json"):
            data = self._json(path)
            configuration, replication = data.get("configuration"), data.get("replication")
            if not isinstance(configuration, str) or type(replication) is not int:
                raise ConfigError("not a stored summary row: configuration, replication", file=path)
            try:
                row = check_row(codec.decode(data.get("row")), str(path))
            except (KeyError, ValueError, TypeError, RecursionError) as exc:
                raise ConfigError(f"not a stored summary row: {exc}", file=path) from None
            key = (configuration, replication)
            if path == self.path(*key):
                found[key] = row
        return found

    def _entries(self, folder: Path, suffix: str) -> list[Path]:
        """The files of ``folder`` with ``suffix``; temporary ones (a leading dot) left out."""
        if not folder.is_dir():
            return []
        return sorted(
            p
            for p in folder.iterdir()
            if not p.name.startswith(".") and p.suffix == suffix and p.is_file()
        )

    def _json(self, path: Path) -> dict[str, Any]:
        """A run's record, of this format and as it was written (its digest matches)."""
        data = read_json(path)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise ConfigError(
                f"stored run of format {found}; this breakerlab reads format {FORMAT}", file=path
            )
        if data.get("digest") != _digest(data):
            raise ConfigError("not a stored run: damaged (it does not match its digest)", file=path)
        return data


def run_name(configuration: str, replication: int) -> str:
    """A run's file name in the store (without suffix): readable, unique per name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", configuration)[:60].lstrip(".")
    tag = zlib.crc32(configuration.encode("utf-8"))
    return f"{safe}-{tag:08x}-{replication:05d}"


def sealed(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its digest: resuming refuses a record that was changed after."""
    return {**record, "digest": _digest(record)}


def _digest(record: dict[str, Any]) -> str:
    """SHA-256 of the record's content (its digest left out), in a canonical JSON form."""
    content = {k: v for k, v in record.items() if k != "digest"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_table(path: Path, files: Any, name: str) -> pa.Table:
    """A run's stored Parquet file, whole, as its record says it was written; a ConfigError
    naming it when it is missing, changed since or not Parquet."""
    if not path.is_file():
        raise ConfigError("not a stored run: missing (its record says it was written)", file=path)
    data = read_bytes(path, "stored run", MAX_JSON)
    if not isinstance(files, dict) or files.get(name) != _sha256(data):
        raise ConfigError("not a stored run: changed since the run wrote it", file=path)
    try:
        return pq.read_table(pa.BufferReader(data))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ConfigError(f"not a stored run: unreadable: {exc}", file=path) from None


def read_json(path: Path, limit: int = MAX_JSON) -> Any:
    """The strict JSON a run store writes, from a regular file: no NaN or Infinity tokens
    (the store tags non-finite numbers), no nesting deeper than Python's stack; a
    ConfigError naming ``path`` otherwise."""
    raw = read_bytes(path, "stored record", limit)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"unreadable: not JSON ({_short(exc)})", file=path) from None
    except ValueError as exc:
        raise ConfigError(f"unreadable: {exc}", file=path) from None
    except RecursionError:
        raise ConfigError("unreadable: nested too deeply", file=path) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number this store writes (it tags non-finite values)")


def _short(exc: Exception) -> str:
    return str(exc).split(":")[0] if isinstance(exc, UnicodeDecodeError) else str(exc)


def _expected(manifest: dict[str, Any]) -> Expected | None:
    """What the runs of the experiment ``manifest`` describes must say of themselves."""
    scenario = manifest.get("loaded", {}).get("scenario")
    if not isinstance(scenario, dict):
        return None
    try:
        return Expected(
            scenario=str(scenario["name"]),
            configurations=frozenset(scenario["configurations"]),
            seed=int(manifest["settings"]["seed"]),
            horizon=float(scenario["horizon"]),
            warmup=float(scenario["warmup"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
