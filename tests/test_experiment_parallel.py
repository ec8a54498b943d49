"""Serial, process-pool and Dask runs agree to the byte; a run killed with SIGKILL and
resumed gives the same summary as one never interrupted, no run lost or counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim.experiment.backends
from sim.cli import app
from sim.experiment import RunStore
from sim.report.runs import run_scenario
from tests.conftest import write_scenario

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real two-worker Dask cluster (separate processes) for this module."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield str(local.scheduler_address)


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


def test_every_finished_run_is_on_disk_once(tmp_path: Path) -> None:
    output = run_scenario(write_scenario(tmp_path), out=tmp_path / "r", workers=2)
    stored = RunStore(output.directory).load()
    assert sorted(stored) == [("breaker", 0), ("breaker", 1), ("plain", 0), ("plain", 1)]
    assert not list((output.directory / "runs").glob("*.tmp"))


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


def test_sigkill_halfway_then_resume_gives_the_uninterrupted_summary(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, replications=8)
    reports = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "sim.cli", "run", str(path), "--workers", "2"]
    process = subprocess.Popen(
        [*command, "--out", str(reports)],
        env=env,
        start_new_session=True,  # the pool's workers die with it, as in a crash
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    total = 16
    deadline = time.monotonic() + 120
    saved: list[Path] = []
    try:
        while time.monotonic() < deadline and process.poll() is None:
            saved = list(reports.glob("tiny/*/runs/*.pkl"))
            if len(saved) >= total // 2:
                break
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    [directory] = (reports / "tiny").iterdir()
    saved = sorted((directory / "runs").glob("*.pkl"))
    assert total // 2 <= len(saved) < total, "the kill came too late to test a resume"
    assert not (directory / "journal.json").exists()
    before = {p: p.stat().st_mtime_ns for p in saved}

    result = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "2"])
    assert result.exit_code == 0, result.stderr
    after = sorted((directory / "runs").glob("*.pkl"))
    assert len(after) == total
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in before.items()), "re-ran a run"

    clean = run_scenario(path, out=tmp_path / "clean", workers=1)
    assert (directory / "summary.csv").read_bytes() == (
        clean.directory / "summary.csv"
    ).read_bytes()
    assert (directory / "summary_ci.csv").read_bytes() == (
        clean.directory / "summary_ci.csv"
    ).read_bytes()


def test_resume_of_a_directory_that_is_not_a_run_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--resume", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a resumable run directory" in result.stderr
