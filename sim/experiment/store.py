"""Finished runs on disk in a versioned, data-only format, each written atomically as it
completes, so an experiment killed at any instant is resumed without losing or repeating a
run, and a run directory someone hands you is only ever read as data.

Layout (format 2)::

    DIR/experiment.json            what the experiment is; {"format": 2, "kind": ..., ...}
    DIR/runs/<run>/orders.parquet  a full run: its per-order arrays ...
    DIR/runs/<run>/result.json     ... and every other field (see sim.experiment.codec)
    DIR/runs/<run>.json            a reduced run (a sweep's summary row)

A full run is written in a temporary directory that is renamed into place, a reduced run in
a temporary file renamed over; either is complete exactly when its final name exists.

Everything read back is checked against what this version writes (sim.experiment.stored):
a damaged or foreign record is refused with a ConfigError naming its file, never resumed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config.yamlio import read_bytes
from sim.engine import RunResult
from sim.errors import ConfigError
from sim.experiment import codec
from sim.experiment.stored import COLUMNS, Expected, check_manifest, check_result, check_row

FORMAT = 2  # 1 was the pickle store (no "format" key in experiment.json)
RUNS = "runs"
MANIFEST = "experiment.json"
ORDERS = "orders.parquet"
RESULT = "result.json"
MAX_JSON = 2 * 1024**3  # a stored record's JSON (a long run's per-second samples are large)
PICKLES = (".pkl", ".pickle")  # the format-1 store's files, any case
# The Parquet schema of a stored run's per-order columns, as save() writes them.
ORDERS_SCHEMA = pa.schema([(n, pa.from_numpy_dtype(np.dtype(d))) for n, d in COLUMNS.items()])


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it over: readers (and a resume
    after SIGKILL) see the old file or the whole new one, never a part. An OSError names
    ``path`` even when the system call did not (a full disk on write)."""
    temp: str | None = None
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except OSError as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise named(exc, path) from exc
    except BaseException:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise


def named(exc: OSError, path: Path) -> OSError:
    """``exc`` with ``path`` as its file name when it has none."""
    if exc.filename is not None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def dumps(data: Any, indent: int | None = 2) -> bytes:
    """Strict JSON (no NaN tokens: codec.encode tags them), indented for readers unless
    ``indent`` is None (stored runs: a third of the size)."""
    separators = (",", ":") if indent is None else None
    text = json.dumps(data, indent=indent, separators=separators, allow_nan=False)
    return text.encode("utf-8")


class RunStore:
    """The runs of one experiment directory: ``create`` it with a manifest, ``save`` each
    finished run (a RunResult or a reduced row), ``load`` them back on resume."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.runs = self.directory / RUNS
        self.expected: Expected | None = None  # what every stored run must say of itself

    def create(self, manifest: dict[str, Any]) -> None:
        """Write ``experiment.json`` (format and kind added) and the empty ``runs/``."""
        self.runs.mkdir(parents=True, exist_ok=True)
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
        self.expected = _expected(checked)
        return checked

    def _pickles(self) -> list[Path]:
        """Pickle files anywhere under ``runs/`` (``.pkl``, ``.pickle``, in any case)."""
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.rglob("*") if p.suffix.lower() in PICKLES)

    def path(self, configuration: str, replication: int) -> Path:
        """The run's name in ``runs/`` (without suffix): readable, unique per name."""
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", configuration)[:60].lstrip(".")
        tag = zlib.crc32(configuration.encode("utf-8"))
        return self.runs / f"{safe}-{tag:08x}-{replication:05d}"

    def save(self, result: RunResult) -> None:
        """A full run: its directory written aside, then renamed into place."""
        final = self.path(result.configuration, result.replication)
        table, data = codec.split(result)
        data = {"format": FORMAT, **data}
        temp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=self.runs))
        try:
            pq.write_table(table, temp / ORDERS)
            write_atomically(temp / RESULT, dumps(data, indent=None))
            _fsync(temp)
            try:
                os.rename(temp, final)
            except OSError:
                if not (final / RESULT).is_file():
                    raise
                # Saved already (the same deterministic run): keep the first copy.
        except OSError as exc:
            raise named(exc, final) from exc
        finally:
            shutil.rmtree(temp, ignore_errors=True)

    def save_row(self, configuration: str, replication: int, row: dict[str, Any]) -> None:
        """A reduced run (a summary row), one JSON file."""
        final = self.path(configuration, replication).with_suffix(".json")
        data = {
            "format": FORMAT,
            "configuration": configuration,
            "replication": replication,
            "row": codec.encode(row),
        }
        write_atomically(final, dumps(data, indent=None))

    def load(self) -> dict[tuple[str, int], RunResult]:
        """Every finished full run, by (configuration, replication); temporary entries of
        runs that were being written when the process died are ignored."""
        found: dict[tuple[str, int], RunResult] = {}
        for folder in self._entries(lambda p: p.is_dir()):
            data = self._json(folder / RESULT)
            if not isinstance(data.get("fields"), dict) or data.get("per_order") != COLUMNS:
                raise ConfigError(
                    "not a stored run: its fields or per-order columns are not this version's",
                    file=folder / RESULT,
                )
            try:
                table = pq.read_table(folder / ORDERS)
                if table.schema != ORDERS_SCHEMA:  # before any cast: a NaN in an int column
                    raise ValueError("its per-order columns are not this version's")
                result = codec.join(table, data)
            except (KeyError, ValueError, TypeError, OSError, RecursionError) as exc:
                raise ConfigError(f"not a stored run: {exc}", file=folder) from None
            check_result(result, str(folder / RESULT), self.expected)
            key = (result.configuration, result.replication)
            if folder == self.path(*key):
                found[key] = result
        return found

    def load_rows(self) -> dict[tuple[str, int], dict[str, Any]]:
        """Every finished reduced run, by (configuration, replication)."""
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for path in self._entries(lambda p: p.is_file() and p.suffix == ".json"):
            data = self._json(path)
            configuration, replication = data.get("configuration"), data.get("replication")
            if not isinstance(configuration, str) or type(replication) is not int:
                raise ConfigError("not a stored summary row: configuration, replication", file=path)
            try:
                row = check_row(codec.decode(data.get("row")), str(path))
            except (KeyError, ValueError, TypeError, RecursionError) as exc:
                raise ConfigError(f"not a stored summary row: {exc}", file=path) from None
            key = (configuration, replication)
            if path == self.path(*key).with_suffix(".json"):
                found[key] = row
        return found

    def _entries(self, wanted: Any) -> list[Path]:
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.iterdir() if not p.name.startswith(".") and wanted(p))

    def _json(self, path: Path) -> dict[str, Any]:
        data = read_json(path)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise ConfigError(
                f"stored run of format {found}; this breakerlab reads format {FORMAT}", file=path
            )
        return data


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


def _fsync(directory: Path) -> None:
    """Flush a directory's entries (its files' names) to disk where the OS allows it."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
