"""Every exit code README documents, produced through the real CLI: 0 ok, 1 a hypothesis
failed, 2 bad input or an I/O problem (one line naming the path), 3 a broken invariant,
4 an internal error (one line, the traceback in a file), 130 interrupted. Never a
traceback on the terminal."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import sim.analysis.summary
import sim.app.inputs
import sim.app.run
import sim.experiment.store
from sim.cli import app
from sim.errors import InvariantError
from tests.conftest import ROOT, write_scenario

runner = CliRunner()
INTERNAL = re.compile(
    r"internal error \(a bug in breakerlab\): (\w+): (.*); details in (\S+)$", re.MULTILINE
)


def one_line(result: Result) -> str:
    """The single line a failure prints on stderr; nothing on stdout, no traceback."""
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{result.exception!r} escaped the command"
    )
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_0_success(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(write_scenario(tmp_path))])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.slow
def test_1_a_failed_hypothesis(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, replications=2, hypotheses=["checkout_p99_s < 0.001"])
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.stderr
    assert "FAIL" in result.stdout
    assert "Traceback" not in result.stderr


def test_2_bad_input(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, horizon="-1m")
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert one_line(result).startswith(f"error: {path}:")
    assert not (tmp_path / "r").exists()


def test_2_schema_into_an_impossible_directory() -> None:
    result = runner.invoke(app, ["schema", "--out", "/proc/nope"])
    assert result.exit_code == 2
    assert one_line(result).startswith("error: /proc/nope")


def test_2_run_out_is_a_file(tmp_path: Path) -> None:
    path = write_scenario(tmp_path)
    file = tmp_path / "a-file"
    file.write_text("not a directory", encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(file)])
    assert result.exit_code == 2
    assert one_line(result) == f"error: {file / 'tiny'}: Not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_2_output_directory_not_writable(tmp_path: Path) -> None:
    path = write_scenario(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(locked)])
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2
    assert one_line(result) == f"error: {locked / 'tiny'}: Permission denied"


def test_2_permission_denied_as_root_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above skips as root (CI runs as root): here the directory refuses the run
    the way the kernel does for anyone else, EACCES from mkdir."""
    locked = tmp_path / "locked"
    real_mkdir = Path.mkdir

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        if self.is_relative_to(locked) and self != locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        real_mkdir(self, *args, **kwargs)

    locked.mkdir()
    monkeypatch.setattr(Path, "mkdir", refuse)
    path = write_scenario(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(locked)])
    assert result.exit_code == 2
    assert one_line(result) == f"error: {locked / 'tiny'}: Permission denied"


def test_2_output_under_a_read_only_filesystem(tmp_path: Path) -> None:
    """/proc refuses new directories for root too."""
    path = write_scenario(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", "/proc/reports"])
    assert result.exit_code == 2
    assert one_line(result).startswith("error: /proc/reports")


def test_2_disk_full_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk fails a write with no file name in the error: the path is still named."""

    def full(handle: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sim.experiment.store.os, "fsync", full)
    path = write_scenario(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    line = one_line(result)
    assert re.fullmatch(
        rf"error: {re.escape(str(tmp_path / 'r'))}/\S+: No space left on device", line
    )


def test_2_report_of_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-run"
    result = runner.invoke(app, ["report", str(missing)])
    assert result.exit_code == 2
    assert one_line(result) == f"error: {missing}: not a directory"


def test_3_a_broken_invariant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(row: object, result: object) -> None:
        raise InvariantError("orders counted twice")

    monkeypatch.setattr(sim.analysis.summary, "_check", broken)
    path = write_scenario(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 3
    assert one_line(result) == "error: orders counted twice"


@pytest.mark.slow
def test_4_a_bug_while_writing_the_report_keeps_the_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(directory: Path, data: object) -> list[Path]:
        raise RuntimeError("drawing went wrong")

    monkeypatch.setattr(sim.app.run, "write_report", bug)
    path = write_scenario(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 4
    match = INTERNAL.fullmatch(one_line(result))
    assert match, result.stderr
    assert match.group(1, 2) == ("RuntimeError", "drawing went wrong")
    [directory] = (tmp_path / "r" / "tiny").iterdir()
    details = Path(match.group(3))
    assert details == directory / "error.log"
    text = details.read_text("utf-8")
    assert "Traceback" in text and "drawing went wrong" in text
    for name in ("summary.csv", "summary_ci.csv"):
        assert (directory / name).is_file(), name
    for table in ("orders", "timeline"):
        assert list((directory / table).glob("*.parquet")), table
    assert not (directory / "journal.json").exists(), "an incomplete run must not look complete"
    assert not (directory / "report.html").exists()


def test_4_a_bug_before_any_run_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(path: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(sim.app.inputs, "load_any", bug)
    result = runner.invoke(app, ["validate", str(write_scenario(tmp_path))])
    assert result.exit_code == 4
    match = INTERNAL.fullmatch(one_line(result))
    assert match, result.stderr
    details = Path(match.group(3))
    try:
        assert details.is_file() and "KeyError: 'surprise'" in details.read_text("utf-8")
    finally:
        details.unlink(missing_ok=True)


# A real Ctrl-C: the process sends itself SIGINT once its first run is saved.
INTERRUPTER = """
import os, signal, sys
import sim.experiment.store as store

save = store.RunStore.save
# As in a terminal: a job started in the background by a non-interactive shell (a CI
# runner) inherits SIGINT ignored, and Python then leaves it ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)


def save_then_interrupt(self, result, key):
    kept = save(self, result, key)
    os.kill(os.getpid(), signal.SIGINT)
    return kept


store.RunStore.save = save_then_interrupt
sys.argv = ["breakerlab", *sys.argv[1:]]
from sim.cli import app
app()
"""


@pytest.mark.slow
def test_130_interrupted_and_resumable(tmp_path: Path) -> None:
    path = write_scenario(tmp_path)
    reports = tmp_path / "r"
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTER, "run", str(path), "--workers", "1",
         "--out", str(reports)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 130, done.stderr
    [directory] = (reports / "tiny").iterdir()
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "interrupted: finished runs are saved; complete them with "
        f"breakerlab run --resume {directory}"
    )
    resumed = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1", "--json"])
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["directory"] == str(directory)


def test_every_documented_code_is_tested() -> None:
    """README's exit-code table lists exactly the codes this file produces."""
    readme = (ROOT / "README.md").read_text("utf-8")
    table = re.findall(r"^\| `(\d+)` \|", readme, flags=re.MULTILINE)
    tested = {m.group(1) for m in re.finditer(r"^def test_(\d+)_", Path(__file__).read_text(
        "utf-8"), flags=re.MULTILINE)}  # fmt: skip
    assert table, "README has no exit-code table"
    assert sorted(map(int, table)) == sorted(map(int, tested))
