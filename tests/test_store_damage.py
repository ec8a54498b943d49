"""A damaged run store is refused or resumed correctly, never resumed wrongly (issue 20).

Every field of a stored run is retyped and set to NaN (the manifest's settings and scenario,
each stored run's record: its summary row, its fields and their first entries; each column
of its orders and timeline files), and each file is truncated at several points; after each damage
``breakerlab run --resume`` must exit 2 in one line naming the damaged directory, or finish
with a ``summary.csv`` identical to the undamaged one. A NaN written into one stored run
used to resume silently with a wrong summary; ``"replications": "abc"`` was an internal
error.

By default every field gets one of its damages (the kinds taken in turn) and every file
every cut; ``BREAKERLAB_DAMAGE=all`` applies every damage to every field (a few minutes).

Since format 3 a record carries a SHA-256 digest of its content and of its run's Parquet
files, so even a damage no value check could see (a list shortened to a valid shorter
list, a timeline cut to fewer seconds, a NaN where a summary column may be NaN) is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import sim.app.run
from sim.analysis.finished import finished_run
from sim.cli import app
from sim.config import load_scenario
from sim.engine import simulate
from sim.experiment.runfiles import ORDERS, orders_table
from sim.experiment.store import sealed
from sim.experiment.stored import StoredFields
from tests.conftest import write_scenario

runner = CliRunner()
NAN = float("nan")
EVERY_DAMAGE = os.environ.get("BREAKERLAB_DAMAGE") == "all"
Damage = Callable[[Path], None]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """What resuming reads (experiment.json, runs/, orders/ and timeline/) of a finished
    two-configuration run, and that run's summary.csv."""
    root = tmp_path_factory.mktemp("stored")
    path = write_scenario(
        root,
        horizon="90s",
        warmup="10s",
        replications=1,
        faults=[{"target": "primary", "kind": "outage", "start": "30s", "duration": "20s"}],
    )
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(root / "r")])
    assert result.exit_code == 0, result.stderr
    [directory] = (root / "r" / "tiny").iterdir()
    store = root / "store"
    store.mkdir()
    shutil.copy(directory / "experiment.json", store)
    for folder in ("runs", "orders", "timeline"):
        shutil.copytree(directory / folder, store / folder)
    return store, (directory / "summary.csv").read_bytes()


# --------------------------------------------------------------------------- damages


def other_type(value: Any) -> Any:
    """A value of another JSON type than ``value``."""
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int | float):
        return "abc"
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return {"x": 1}
    if isinstance(value, dict):
        return [1, 2]
    return []


def value_damages(value: Any) -> list[tuple[str, Any]]:
    """(kind, damaged value) for one JSON value: retyped, and NaN (bare, tagged as the
    store tags non-finite numbers, and as a list's first number)."""
    damages = [("retype", other_type(value)), ("nan", NAN), ("nan-tagged", {"__float__": "nan"})]
    if isinstance(value, list) and value and isinstance(value[0], int | float):
        damages.append(("nan-first", [NAN, *value[1:]]))
    return damages


def json_damages(directory: Path, relative: str, paths: list[tuple[str, ...]]) -> list[Any]:
    """[(label, damage), ...] per field at ``paths`` of the JSON file ``relative``."""
    data = json.loads((directory / relative).read_text("utf-8"))
    per_field = []
    for keys in paths:
        value = data
        for key in keys:
            value = value[key]
        options = []
        for kind, new in value_damages(value):

            def damage(target: Path, keys: tuple[str, ...] = keys, new: Any = new) -> None:
                content = json.loads((target / relative).read_text("utf-8"))
                parent = content
                for key in keys[:-1]:
                    parent = parent[key]
                parent[keys[-1]] = new
                (target / relative).write_text(json.dumps(content), encoding="utf-8")

            options.append((f"{relative}:{'.'.join(keys)}:{kind}", damage))
        per_field.append(options)
    return per_field


def column_damages(relative: str, names: list[str]) -> list[Any]:
    """Per Parquet column: a NaN where it held a finite number, or the column as text."""

    def nan(values: np.ndarray) -> np.ndarray:
        if values.dtype.kind == "O":  # names: one of them missing
            out = values.copy()
            out[len(out) // 2] = None
            return out
        out = values.astype(float)
        finite = np.flatnonzero(np.isfinite(out))
        if finite.size:  # a column of NaN only (no crash, no recovery times) stays so
            out[finite[len(finite) // 2]] = NAN
        return out

    def text(values: np.ndarray) -> np.ndarray:
        return values.astype(str)

    per_field = []
    for name in names:
        options = []
        for kind, change in (("nan", nan), ("retype", text)):

            def damage(directory: Path, name: str = name, change: Any = change) -> None:
                path = directory / relative
                table = pq.read_table(path)
                column = change(table.column(name).to_numpy(zero_copy_only=False))
                index = table.column_names.index(name)
                pq.write_table(table.set_column(index, name, pa.array(column)), path)

            options.append((f"{relative}:{name}:{kind}", damage))
        per_field.append(options)
    return per_field


def file_cuts(relative: str) -> list[tuple[str, Damage]]:
    """The file truncated at a quarter, half, three quarters and one byte short."""
    cuts = []
    for share in (0.25, 0.5, 0.75, None):

        def damage(directory: Path, share: float | None = share) -> None:
            path = directory / relative
            data = path.read_bytes()
            path.write_bytes(data[: int(len(data) * share)] if share else data[:-1])

        cuts.append((f"{relative}:cut at {share or 'one byte short'}", damage))
    return cuts


def damages(store: Path) -> list[tuple[str, Damage]]:
    """Every damage (BREAKERLAB_DAMAGE=all), or one per field in turn and every cut."""
    manifest = json.loads((store / "experiment.json").read_text("utf-8"))
    run = sorted((store / "runs").iterdir())[0].relative_to(store)
    orders, timeline = (
        Path("orders", f"{run.stem}.parquet"),
        Path("timeline", f"{run.stem}.parquet"),
    )
    record = json.loads((store / run).read_text("utf-8"))
    manifest_paths = [("format",), ("kind",), ("loaded",), ("settings",)]
    manifest_paths += [("settings", key) for key in manifest["settings"]]
    manifest_paths += [("loaded", "scenario", key) for key in manifest["loaded"]["scenario"]]
    manifest_paths += [("loaded", "shop", key) for key in manifest["loaded"]["shop"]]
    record_paths = [("format",), ("configuration",), ("replication",), ("row",), ("fields",)]
    record_paths += [("row", key) for key in record["row"]]
    for key, value in record["fields"].items():
        record_paths.append(("fields", key))
        if isinstance(value, dict) and value:
            record_paths.append(("fields", key, next(iter(value))))
    per_field = [
        *json_damages(store, "experiment.json", manifest_paths),
        *json_damages(store, str(run), record_paths),
        *column_damages(str(orders), pq.read_table(store / orders).column_names),
        *column_damages(str(timeline), pq.read_table(store / timeline).column_names),
    ]
    if EVERY_DAMAGE:
        chosen = [option for options in per_field for option in options]
    else:
        chosen = [options[i % len(options)] for i, options in enumerate(per_field)]
    for name in ("experiment.json", run, orders, timeline):
        chosen += file_cuts(str(name))
    return chosen


# --------------------------------------------------------------------------- the tests


@pytest.mark.slow
def test_every_damage_is_refused_or_resumes_identically(
    stored: tuple[Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, summary = stored
    # The report is not what is tested here, and drawing it would take most of the time.
    monkeypatch.setattr(sim.app.run, "_place_report", lambda directory, data: None)
    wrong: list[str] = []
    refused = identical = 0
    for label, damage in damages(store):
        directory = tmp_path / "damaged"
        shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(store, directory)
        damage(directory)
        result = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1"])
        lines = result.stderr.strip().splitlines()
        if result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.stderr:
            if lines[0].startswith(f"error: {directory}"):
                refused += 1
                continue
        elif result.exit_code == 0 and (directory / "summary.csv").read_bytes() == summary:
            identical += 1
            continue
        wrong.append(f"{label}: exit {result.exit_code}: {result.stderr.strip()[:300]}")
    assert not wrong, "\n".join(wrong)
    assert refused > identical, (refused, identical)  # the damages did reach the checks


def test_a_nan_in_one_stored_run_is_refused(stored: tuple[Path, bytes], tmp_path: Path) -> None:
    """The issue's example: a NaN in one stored run resumed with a wrong summary."""
    directory = tmp_path / "d"
    shutil.copytree(stored[0], directory)
    record = sorted((directory / "runs").glob("*.json"))[0]
    data = json.loads(record.read_text("utf-8"))
    data["fields"]["dependency_calls"]["primary"] = NAN
    record.write_text(json.dumps(data), encoding="utf-8")
    outcome = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1"])
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith(f"error: {record}: unreadable: NaN is not a number")


def test_orders_that_do_not_add_up_to_the_summary_are_refused(
    stored: tuple[Path, bytes], tmp_path: Path
) -> None:
    """A basket changed by a cent, or an order dropped, no longer adds up to the run's
    summary row: refused, not resumed into a report that contradicts the summary. (Checked
    past the digests, as if someone had sealed the record again after the change.)"""
    for change in ("a cent", "an order fewer"):
        directory = tmp_path / change.replace(" ", "-")
        shutil.copytree(stored[0], directory)
        path = sorted((directory / "orders").glob("*.parquet"))[0]
        table = pq.read_table(path)
        if change == "a cent":
            cents = table.column("basket_cents").to_numpy().copy()
            cents[-1] += 1
            index = table.column_names.index("basket_cents")
            table = table.set_column(index, "basket_cents", pa.array(cents))
        else:
            table = table.slice(0, table.num_rows - 1)
        pq.write_table(table, path)
        record = directory / "runs" / f"{path.stem}.json"
        data = json.loads(record.read_text("utf-8"))
        data["files"]["orders"] = hashlib.sha256(path.read_bytes()).hexdigest()
        record.write_text(json.dumps(sealed(data)), encoding="utf-8")
        outcome = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1"])
        assert outcome.exit_code == 2, change
        assert outcome.stderr.startswith(f"error: {path}: not a stored run: its orders do not")


def test_the_record_schema_covers_every_field_a_run_has(tmp_path: Path) -> None:
    """A field added to RunResult must be added to the checks (sim.experiment.stored)."""
    loaded = load_scenario(write_scenario(tmp_path, horizon="1m", warmup="10s", faults=[]))
    result = simulate(loaded, "breaker", 0, 1)
    assert orders_table(result).schema == ORDERS
    assert set(StoredFields.model_fields) == set(finished_run(result).record)


def test_the_store_allows_nan_exactly_where_a_summary_may_have_none() -> None:
    """The store (below the analysis layer) keeps its own list of the summary columns that
    are NaN without data; a column added to one list and not the other made a sweep of a
    run without orders unresumable."""
    from sim.analysis.summary import UNDEFINED_WITHOUT_DATA
    from sim.experiment.stored import NO_DATA_COLUMNS

    assert NO_DATA_COLUMNS == UNDEFINED_WITHOUT_DATA
