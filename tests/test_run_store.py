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

from sim.app.sweep import run_sweep
from sim.cli import app
from sim.config import load_scenario
from sim.engine import RunResult, simulate
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


def test_a_stored_run_reads_back_equal_field_by_field(result: RunResult, tmp_path: Path) -> None:
    assert np.isnan(result.confirmed_at).any(), "the round trip should carry NaN"
    assert result.transitions and result.recovery is not None
    store = RunStore(tmp_path)
    store.create({"kind": "run"})
    store.save(result)
    [(key, back)] = store.load().items()
    assert key == ("breaker", 1)
    assert_same_result(result, back)


def test_the_store_holds_data_files_only(result: RunResult, tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.create({"kind": "run"})
    store.save(result)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    [run] = stored_runs(tmp_path)
    assert files == ["experiment.json", f"runs/{run.name}/orders.parquet",
                     f"runs/{run.name}/result.json"]  # fmt: skip
    data = json.loads((run / "result.json").read_text("utf-8"))
    assert data["format"] == FORMAT
    assert json.loads((tmp_path / "experiment.json").read_text("utf-8"))["format"] == FORMAT
    orders = pd.read_parquet(run / "orders.parquet")
    assert len(orders) == result.orders
    assert set(orders.columns) == set(data["per_order"])


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
    assert not list(output.directory.rglob("*.parquet")), "a sweep keeps no per-order rows"
    rows = RunStore(output.directory).load_rows()
    assert rows[("breaker", 0)]["configuration"] == "breaker"
    summary = pd.read_csv(output.directory / "summary.csv")
    assert len(summary) == 6


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
