"""Serial, process-pool and Dask runs agree to the byte; a run killed with SIGKILL and
resumed gives the same summary as one never interrupted, no run lost or counted twice; a
sweep too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim.experiment.backends
from sim.app.run import run_scenario
from sim.cli import app
from sim.experiment import RunStore
from tests.conftest import write_scenario

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

# `breakerlab ARGS...` in a fresh process that SIGKILLs its whole process group (itself and
# its pool's workers) instead of renaming the first file of its run number LIMIT into
# place: a crash at a point the test chooses, however fast the machine.
KILLER = """
import os, signal, sys
import sim.experiment.store as store

limit, args = int(sys.argv[1]), sys.argv[2:]
saved = [0]
save = store.RunStore.save  # every finished run goes through it, full or a summary row


def die(*_):
    os.killpg(os.getpgid(0), signal.SIGKILL)


def counted(write):
    def wrapper(*a, **k):
        if saved[0] == limit:
            store.os.replace = die  # a file of the run is written; die before its rename
        kept = write(*a, **k)
        saved[0] += 1
        return kept
    return wrapper


store.RunStore.save = counted(save)
sys.argv = ["breakerlab", *args]
from sim.cli import app
app()
"""


def killed_after(limit: int, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLER, str(limit), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,  # the kill takes the pool's workers too, as in a crash
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def stored_runs(directory: Path) -> list[Path]:
    """The complete runs saved in a run directory (temporary entries left out)."""
    return sorted(p for p in (directory / "runs").iterdir() if not p.name.startswith("."))


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real two-worker Dask cluster (separate processes) for this module."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield str(local.scheduler_address)


@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_files(tmp_path: Path, cluster: str) -> None:
    path = write_scenario(tmp_path, replications=3)
    serial = run_scenario(path, out=tmp_path / "serial", workers=1)
    pool = run_scenario(path, out=tmp_path / "pool", workers=2)
    dask = run_scenario(path, out=tmp_path / "dask", scheduler=cluster)
    started_here = run_scenario(path, out=tmp_path / "local", dask_local=1)
    for name in ("summary.csv", "summary_ci.csv", "differences_ci.csv"):
        expected = (serial.directory / name).read_bytes()
        assert (pool.directory / name).read_bytes() == expected, name
        assert (dask.directory / name).read_bytes() == expected, name
        assert (started_here.directory / name).read_bytes() == expected, name
    journal = (dask.directory / "journal.json").read_text("utf-8")
    assert '"backend": "dask"' in journal


@pytest.mark.slow
def test_a_dask_client_from_python_is_used_and_left_open(tmp_path: Path, cluster: str) -> None:
    distributed = pytest.importorskip("distributed")
    path = write_scenario(tmp_path)
    serial = run_scenario(path, out=tmp_path / "serial", workers=1)
    with distributed.Client(cluster) as client:
        output = run_scenario(path, out=tmp_path / "client", scheduler=client)
        assert client.status == "running", "the caller's client was closed"
        assert len(client.nthreads()) == 2
    assert (output.directory / "summary.csv").read_bytes() == (
        serial.directory / "summary.csv"
    ).read_bytes()


@pytest.mark.slow
def test_a_local_cluster_prints_its_dashboard(tmp_path: Path) -> None:
    messages: list[str] = []
    run_scenario(
        write_scenario(tmp_path, replications=1), out=tmp_path / "r", dask_local=1,
        notify=messages.append,
    )  # fmt: skip
    assert len(messages) == 1 and messages[0].startswith("Dask dashboard: http://"), messages


@pytest.mark.slow
def test_every_finished_run_is_on_disk_once(tmp_path: Path) -> None:
    output = run_scenario(write_scenario(tmp_path), out=tmp_path / "r", workers=2)
    stored = RunStore(output.directory).load()
    assert sorted(stored) == [("breaker", 0), ("breaker", 1), ("plain", 0), ("plain", 1)]
    assert not [p for p in (output.directory / "runs").iterdir() if p.name.startswith(".")]
    assert not list(output.directory.rglob("*.pkl"))


@pytest.mark.slow
def test_unreachable_scheduler_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim.experiment.backends, "CONNECT_TIMEOUT", "1s")
    path = write_scenario(tmp_path)
    result = runner.invoke(
        app, ["run", str(path), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2, result.stderr
    assert "cannot reach the Dask scheduler" in result.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_sigkill_halfway_then_resume_gives_the_uninterrupted_summary(tmp_path: Path) -> None:
    """Killed (SIGKILL, workers too) after exactly 7 runs are saved, while the 8th is being
    renamed into place: the count is fixed by the test, not by the machine's speed."""
    path = write_scenario(tmp_path, replications=8)
    reports = tmp_path / "killed"
    process = killed_after(7, ["run", str(path), "--workers", "2", "--out", str(reports)])
    assert process.returncode == -signal.SIGKILL, process.stderr
    [directory] = (reports / "tiny").iterdir()
    saved = stored_runs(directory)
    assert len(saved) == 7
    assert [p.name for p in (directory / "orders").iterdir() if p.name.startswith(".")], (
        "the run being written when the kill came should be left half-done"
    )
    assert not (directory / "journal.json").exists()
    before = {p: p.stat().st_mtime_ns for p in saved}

    result = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "2"])
    assert result.exit_code == 0, result.stderr
    assert len(stored_runs(directory)) == 16
    assert all(p.stat().st_mtime_ns == t for p, t in before.items()), "re-ran"
    assert len(list((directory / "orders").glob("*.parquet"))) == 16

    clean = run_scenario(path, out=tmp_path / "clean", workers=1)
    for name in ("summary.csv", "summary_ci.csv", "differences_ci.csv"):
        assert (directory / name).read_bytes() == (clean.directory / name).read_bytes(), name


def test_resume_of_a_directory_that_is_not_a_run_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--resume", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a resumable run directory" in result.stderr
