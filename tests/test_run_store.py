"""The run store: data only (Parquet and JSON, never pickle), versioned, read back equal
field by field; resume refuses what it cannot read safely; sweeps keep summary rows only
and resume too."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.finished import finished_run
from sim.analysis.summary import summary_row
from sim.app.run import run_scenario
from sim.app.sweep import run_sweep
from sim.cli import app
from sim.config import load_scenario
from sim.engine import RunResult, simulate
from sim.engine.records import OUTCOMES
from sim.experiment import RunStore, codec
from sim.experiment.store import FORMAT
from tests.conftest import ROOT, write_scenario
from tests.test_experiment_parallel import killed_after, stored_runs

runner = CliRunner()
THRESHOLD = "payment.breaker.failure_rate_threshold"


def assert_same_result(a: RunResult, b: RunResult) -> None:
    """Equal field by field: arrays in dtype, shape and bytes (NaN included), the rest in
    type and value, containers all the way down."""
    for f in dataclasses.fields(RunResult):
        assert_same(getattr(a, f.name), getattr(b, f.name), f.name)


def assert_same(a: Any, b: Any, where: str) -> None:
    assert type(a) is type(b), f"{where}: {type(a).__name__} became {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        assert a.tobytes() == b.tobytes(), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """A run with NaN (orders never confirmed), transitions, errors and a recovery check."""
    directory = tmp_path_factory.mktemp("store")
    path = write_scenario(
        directory,
        recovery={"trigger_start": "2m", "trigger_end": "3m", "within": "30s", "goodput": 0.9},
    )
    return simulate(load_scenario(path), "breaker", 1, 5)


def stored(result: RunResult, directory: Path) -> RunStore:
    store = RunStore(directory)
    store.create({"kind": "run"})
    store.save(finished_run(result), (result.configuration, result.replication))
    return store


def test_a_stored_run_reads_back_its_summary_and_every_other_field(
    result: RunResult, tmp_path: Path
) -> None:
    assert np.isnan(result.confirmed_at).any(), "the round trip should carry NaN"
    assert result.transitions and result.recovery is not None
    store = stored(result, tmp_path)
    [(key, back)] = store.load().items()
    assert key == ("breaker", 1)
    assert set(back.record) == {"transitions"}, "in memory: the summary row and transitions"
    row = summary_row(result)
    assert list(back.row) == list(row)
    for name, value in row.items():  # numpy floats come back as the floats they are
        same = value == back.row[name] or (math.isnan(value) and math.isnan(back.row[name]))
        assert same and isinstance(back.row[name], type(value).__mro__[-2]), name
    record = codec.decode(json.loads(store.path(*key).read_text("utf-8"))["fields"])
    for name, value in record.items():
        if name != "dependency_errors":
            assert_same(value, getattr(result, name), name)
    for name, deltas in record["dependency_errors"].items():
        instants = np.cumsum(deltas) / 1000  # milliseconds, each after the one before
        assert np.allclose(instants, result.dependency_errors[name], atol=5e-4), name


def test_the_orders_file_holds_every_order_in_milliseconds_and_cents(
    result: RunResult, tmp_path: Path
) -> None:
    stored(result, tmp_path)
    [path] = (tmp_path / "orders").iterdir()
    orders = pd.read_parquet(path)
    assert len(orders) == result.orders
    np.testing.assert_array_equal(orders["arrival_ms"], np.rint(result.arrival * 1000))
    np.testing.assert_array_equal(orders["basket_cents"], np.rint(result.basket * 100))
    np.testing.assert_array_equal(orders["fee_cents"], np.rint(result.fee * 100))
    left = orders["left_ms"].to_numpy(dtype=float)
    end = np.rint(result.checkout_end * 1000)
    assert np.array_equal(np.isnan(left), np.isnan(end)) and (left == end)[~np.isnan(end)].all()
    assert list(orders["outcome"].astype(str)) == [OUTCOMES[o] for o in result.outcome]
    assert orders["cause"].isna().sum() == np.count_nonzero(result.cause < 0)
    assert not {"waited_s", "checkout_latency_s", "order"} & set(orders.columns), "derived"


def test_the_store_holds_data_files_only(result: RunResult, tmp_path: Path) -> None:
    stored(result, tmp_path)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    [run] = stored_runs(tmp_path)
    name = run.stem
    assert files == ["experiment.json", f"orders/{name}.parquet", f"runs/{name}.json",
                     f"timeline/{name}.parquet"]  # fmt: skip
    data = json.loads(run.read_text("utf-8"))
    assert data["format"] == FORMAT
    assert json.loads((tmp_path / "experiment.json").read_text("utf-8"))["format"] == FORMAT


@pytest.mark.slow
def test_the_run_directory_tables_read_in_one_call(tmp_path: Path) -> None:
    """The store's per-run files are the orders and timeline tables: pandas reads each
    folder whole, and the money in it adds up to the summary's, exactly."""
    path = write_scenario(tmp_path, replications=2)
    output = run_scenario(path, out=tmp_path / "r", workers=1)
    orders = pd.read_parquet(output.directory / "orders")
    timeline = pd.read_parquet(output.directory / "timeline")
    summary = pd.read_csv(output.directory / "summary.csv")
    assert len(orders) == len(output.data.orders) and len(timeline) == len(output.data.timeline)
    counted = orders[~orders["warmup"]]
    by_run = counted.groupby(["configuration", "replication"], observed=True)
    for (configuration, replication), part in by_run:
        row = summary[(summary["configuration"] == configuration)
                      & (summary["replication"] == replication)].iloc[0]  # fmt: skip
        completed = part["outcome"] == "completed"
        lost = part["outcome"].isin(["failed", "abandoned"])
        demanded, fees = int(part["basket_cents"].sum()), int(part["fee_cents"].sum())
        captured = int(part.loc[completed, "basket_cents"].sum()) - fees
        lost_cents = int(part.loc[lost, "basket_cents"].sum())
        declined = int(part.loc[part["outcome"] == "declined", "basket_cents"].sum())
        assert len(part) == row["orders"]
        assert demanded == captured + fees + lost_cents + declined  # exact, in cents
        for name, cents in (("revenue_demanded", demanded), ("fees", fees),
                            ("revenue_captured", captured), ("revenue_lost", lost_cents),
                            ("revenue_declined", declined)):  # fmt: skip
            assert round(row[name] * 100) == cents, name
        # Lost by cause adds up: abandoned orders, then failed ones by their stored cause.
        abandoned = part["outcome"] == "abandoned"
        assert (
            round(row["revenue_lost_abandoned"] * 100) == part.loc[abandoned, "basket_cents"].sum()
        )
        failed = part[part["outcome"] == "failed"]
        by_cause = failed.groupby("cause", observed=True)["basket_cents"].sum()
        assert int(by_cause.sum()) == lost_cents - int(part.loc[abandoned, "basket_cents"].sum())
        causes = [
            c for c in summary.columns if c.startswith("revenue_lost_") and c != "revenue_lost_pct"
        ]
        assert sum(round(row[c] * 100) for c in causes) == lost_cents


def test_codec_keeps_what_plain_json_loses() -> None:
    value = {
        "tuple": (1.5, "a", (2, None)),
        "floats": [math.inf, -math.inf, 0.1, 1e-300],
        "scalars": [np.float32(0.25), np.int8(-3), np.bool_(True)],
        "arrays": [np.arange(6, dtype=np.int16).reshape(2, 3), np.array([np.nan, 1.0])],
        "keys": {1: "int key", ("a", 2): "tuple key", "__tag__": "dunder key"},
        "empty": np.zeros(0, dtype=bool),
    }
    text = json.dumps(codec.encode(value), allow_nan=False)  # strict JSON
    assert_same(codec.decode(json.loads(text)), value, "value")


def test_codec_refuses_what_it_cannot_store() -> None:
    with pytest.raises(TypeError, match="cannot store a set"):
        codec.encode({"bad": {1, 2}})


@pytest.mark.slow
def test_resume_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_scenario(tmp_path, replications=2)
    process = killed_after(2, ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r")])
    assert process.returncode == -signal.SIGKILL, process.stderr
    [directory] = (tmp_path / "r" / "tiny").iterdir()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run store called pickle")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    result = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    assert len(stored_runs(directory)) == 4
    assert len(list((directory / "orders").iterdir())) == 4


def make_old_directory(tmp_path: Path, manifest: dict[str, Any], pkl: bool = False) -> Path:
    directory = tmp_path / "old-run"
    (directory / "runs").mkdir(parents=True)
    (directory / "experiment.json").write_text(json.dumps(manifest), encoding="utf-8")
    if pkl:
        (directory / "runs" / "plain-00000000-00000.pkl").write_bytes(b"\x80\x05N.")
    return directory


@pytest.mark.parametrize(
    ("manifest", "pkl", "message"),
    [
        ({"loaded": {}, "settings": {}}, True, "it holds pickle files in runs/"),
        ({"loaded": {}, "settings": {}}, False, "it holds run store format 1"),
        ({"format": FORMAT + 1, "kind": "run"}, False, f"it holds run store format {FORMAT + 1}"),
        ({"format": FORMAT, "kind": "run"}, True, "it holds pickle files in runs/"),
    ],
    ids=["pickle-store", "no-format", "newer-format", "pickle-file-planted"],
)
def test_resume_refuses_another_format_with_exit_2(
    tmp_path: Path, manifest: dict[str, Any], pkl: bool, message: str
) -> None:
    directory = make_old_directory(tmp_path, manifest, pkl)
    result = runner.invoke(app, ["run", "--resume", str(directory)])
    assert result.exit_code == 2, result.stderr
    assert f"{directory}: cannot resume: {message}" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in directory.iterdir()) == ["experiment.json", "runs"]


def test_sweep_keeps_summary_rows_only(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, replications=2)
    output = run_sweep(path, [f"{THRESHOLD}=30,60"], configuration="breaker",
                       out=tmp_path / "r", workers=1)  # fmt: skip
    runs = stored_runs(output.directory)
    assert len(runs) == 3 * 2 and all(p.suffix == ".json" and p.is_file() for p in runs)
    assert not (output.directory / "orders").exists()
    assert not list(output.directory.rglob("*.parquet")), "a sweep keeps no per-order rows"
    rows = RunStore(output.directory).load_rows()
    assert rows[("breaker", 0)]["configuration"] == "breaker"
    summary = pd.read_csv(output.directory / "summary.csv")
    assert len(summary) == 6


@pytest.mark.slow
def test_sweep_killed_then_resumed_gives_the_uninterrupted_table(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, replications=2)
    args = ["sweep", str(path), "--param", f"{THRESHOLD}=30,60", "--configuration", "breaker"]
    process = killed_after(3, [*args, "--workers", "2", "--out", str(tmp_path / "killed")])
    assert process.returncode == -signal.SIGKILL, process.stderr
    [directory] = (tmp_path / "killed" / "tiny-sweep").iterdir()
    assert len(stored_runs(directory)) == 3
    assert not (directory / "sweep.csv").exists()

    result = runner.invoke(app, ["sweep", "--resume", str(directory), "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    assert len(stored_runs(directory)) == 6
    clean = runner.invoke(app, [*args, "--workers", "1", "--out", str(tmp_path / "clean")])
    assert clean.exit_code == 0, clean.stderr
    [fresh] = (tmp_path / "clean" / "tiny-sweep").iterdir()
    for name in ("sweep.csv", "summary.csv"):
        assert (directory / name).read_bytes() == (fresh / name).read_bytes(), name
    journal = json.loads((directory / "journal.json").read_text("utf-8"))
    assert journal["resumed"] is True


def test_resume_of_the_wrong_kind_says_which_command(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, replications=2)
    output = run_sweep(path, [f"{THRESHOLD}=30"], configuration="breaker",
                       out=tmp_path / "r", workers=1)  # fmt: skip
    result = runner.invoke(app, ["run", "--resume", str(output.directory)])
    assert result.exit_code == 2
    assert "resume it with breakerlab sweep --resume" in " ".join(result.stderr.split())


@pytest.mark.slow
def test_sweep_resume_rebuilds_from_the_manifest_alone(tmp_path: Path) -> None:
    """The scenario file may be gone: the sweep directory says everything."""
    path = write_scenario(tmp_path, replications=2)
    process = killed_after(1, ["sweep", str(path), "--param", f"{THRESHOLD}=40",
                               "--configuration", "breaker", "--workers", "1",
                               "--out", str(tmp_path / "r")])  # fmt: skip
    assert process.returncode == -signal.SIGKILL, process.stderr
    data = yaml.safe_load(path.read_text("utf-8"))
    path.unlink()
    [directory] = (tmp_path / "r" / "tiny-sweep").iterdir()
    result = runner.invoke(app, ["sweep", "--resume", str(directory), "--json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["points"] == 1 and document["directory"] == str(directory)
    assert data["name"] == "tiny"


@pytest.mark.slow
def test_a_replayed_incident_survives_a_resume(tmp_path: Path) -> None:
    """The trace's rows travel in the manifest: a resumed run replays the same incident."""
    trace = ROOT / "scenarios" / "incidents" / "primary_gateway_2026-03-14.csv"
    faults = [{"target": "primary", "kind": "trace", "file": str(trace), "start": "30s"}]
    path = write_scenario(tmp_path, faults=faults, replications=2)
    args = ["run", str(path), "--workers", "1"]
    process = killed_after(2, [*args, "--out", str(tmp_path / "killed")])
    assert process.returncode == -signal.SIGKILL, process.stderr
    [directory] = (tmp_path / "killed" / "tiny").iterdir()
    resumed = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1"])
    assert resumed.exit_code == 0, resumed.stderr
    clean = runner.invoke(app, [*args, "--out", str(tmp_path / "clean")])
    assert clean.exit_code == 0, clean.stderr
    [fresh] = (tmp_path / "clean" / "tiny").iterdir()
    assert (directory / "summary.csv").read_bytes() == (fresh / "summary.csv").read_bytes()


@pytest.mark.slow
def test_resume_imports_named_breaker_classes_only_when_trusted(tmp_path: Path) -> None:
    """A directory from someone else must not run code on resume: a breaker ``class:`` in
    its manifest is refused unless --trust-code says the directory is trusted."""
    configurations = {
        "plain": {},
        "outside": {
            "payment": {"breaker": {"class": "sim.resilience.pybreaker_adapter:PybreakerAdapter"}}
        },
    }
    path = write_scenario(tmp_path, replications=1, configurations=configurations)
    process = killed_after(1, ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r")])
    assert process.returncode == -signal.SIGKILL, process.stderr
    [directory] = (tmp_path / "r" / "tiny").iterdir()
    refused = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1"])
    assert refused.exit_code == 2
    message = " ".join(refused.stderr.split())
    assert "names breaker classes (sim.resilience.pybreaker_adapter:PybreakerAdapter)" in message
    assert "--trust-code" in message
    trusted = runner.invoke(
        app, ["run", "--resume", str(directory), "--workers", "1", "--trust-code"]
    )
    assert trusted.exit_code == 0, trusted.stderr
    assert (directory / "journal.json").is_file()
