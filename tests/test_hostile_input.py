"""Hostile and absurd input, through the real CLI (issue 20): every case is refused with
exit 2 in one line naming the file, writes nothing, quotes nothing of a file that is not
an input, and never calls a user's mistake a bug; or it runs correctly.

One section per class of the red-team report: YAML that explodes, values that cannot run,
paths that are not files, other files' contents, damaged run directories (the systematic
damage is in test_store_damage.py), I/O without a path, messages, noise, code that is not a
breaker, processes left behind, and the smaller inconsistencies.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import sim.app.run
import sim.app.runsize
from sim.cli import app
from tests.conftest import MODEL, ROOT, write_scenario

runner = CliRunner()
SECRET = "s3cr3t-hash-d0-not-leak"


def refused(result: Result, file: Path | str, *, lines: int = 1) -> str:
    """Exit 2 through a clean exit; ``lines`` stderr lines, the first naming ``file``;
    no traceback, no internal error. The first line, without its prefix."""
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), f"{result.exception!r}\n{output}"
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr
    found = result.stderr.strip().splitlines()
    assert len(found) == lines, output
    assert found[0].startswith(f"error: {file}"), output
    return found[0].removeprefix("error: ")


def tiny(tmp_path: Path, **overrides: Any) -> Path:
    return write_scenario(tmp_path, **overrides)


def nothing_under(directory: Path) -> bool:
    return not directory.exists() or not any(directory.rglob("*"))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small finished run directory, copied by the tests that damage it."""
    root = tmp_path_factory.mktemp("finished")
    path = write_scenario(root, horizon="2m", replications=1, faults=[])
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(root / "r")])
    assert result.exit_code == 0, result.stderr
    [directory] = (root / "r" / "tiny").iterdir()
    return directory


def copy_of(directory: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(directory, target)
    return target


# --------------------------------------------------------------------------- 1. YAML bombs


def laughs(levels: int = 9) -> str:
    """A billion laughs: 9 ** levels strings once the aliases are expanded."""
    lines = ['  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BOMBS = {
    "billion-laughs": "model_overrides:\n" + laughs(),
    "self-reference": "model_overrides: &a {x: *a}\n",
    "nested-brackets": "description: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep-mapping": "model_overrides:\n"
    + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(2000))
    + "  " * 2001
    + "v: 1\n",
    "alias-chain": "model_overrides:\n"
    + "  c0: &c0 [1]\n"
    + "".join(f"  c{i}: &c{i} [*c{i - 1}]\n" for i in range(1, 200)),
}


@pytest.mark.parametrize("kind", list(BOMBS))
def test_yaml_that_explodes_or_recurses_is_refused_in_one_line(tmp_path: Path, kind: str) -> None:
    path = tiny(tmp_path)
    path.write_text(path.read_text("utf-8") + BOMBS[kind], encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "r")])
    message = refused(result, path)
    assert any(word in message for word in ("nested", "aliases", "alias refers"))
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_a_bomb_in_a_run_directory_is_refused_by_report(finished_run: Path, tmp_path: Path) -> None:
    directory = copy_of(finished_run, tmp_path)
    (directory / "configurations.yaml").write_text("x:\n" + laughs(), encoding="utf-8")
    refused(runner.invoke(app, ["report", str(directory)]), directory / "configurations.yaml")
    (directory / "configurations.yaml").write_text("a: &a {x: *a}\n", encoding="utf-8")
    refused(runner.invoke(app, ["report", str(directory)]), directory / "configurations.yaml")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tiny(tmp_path)
    with path.open("a", encoding="utf-8") as file:
        file.write("description: '" + "x" * (5 * 1024 * 1024) + "'\n")
    message = refused(runner.invoke(app, ["validate", str(path)]), path)
    assert "too large" in message


# --------------------------------------------------------------------------- 2. values


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"horizon": "100000h"}, "cannot be simulated"),
        ({"horizon": 1e308}, "cannot be simulated"),
        (
            {"traffic": {"rate": "1e9/s", "basket": {"constant": 5}, "patience": {"constant": 9}}},
            "cannot be simulated",
        ),
        ({"replications": 1_000_000_000}, "too large for this machine"),
        (
            {"configurations": {"c": {"payment": {"breaker": {"sliding_window_size": 10**9}}}}},
            "breaker windows",
        ),
        ({"model_overrides": {"checkout": {"nodes": 100_000_000}}}, "checkout nodes"),
    ],
    ids=["horizon-100000h", "horizon-1e308", "rate-1e9", "replications", "window", "nodes"],
)
def test_values_that_validate_but_cannot_run_are_refused_with_the_estimate(
    tmp_path: Path, overrides: dict[str, Any], says: str
) -> None:
    path = tiny(tmp_path, faults=[], **overrides)
    for command in (["run", str(path)], ["sweep", str(path), "--param", "payment.timeout=1s,2s"]):
        result = runner.invoke(app, [*command, "--workers", "1", "--out", str(tmp_path / "r")])
        message = refused(result, path)
        assert says in message and "orders" in message
        assert not (tmp_path / "r").exists()
    refused(runner.invoke(app, ["validate", str(path)]), path)


def test_replications_on_the_command_line_are_estimated_too(tmp_path: Path) -> None:
    path = tiny(tmp_path)
    args = ["run", str(path), "--replications", "1000000000", "--out", str(tmp_path / "r")]
    assert "2,000,000,000 runs" in refused(runner.invoke(app, args), path)
    assert not (tmp_path / "r").exists()


def test_allow_large_runs_what_the_estimate_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine said to have 1 MB refuses even the tiny scenario; --allow-large runs it."""
    monkeypatch.setattr(sim.app.runsize, "memory_available", lambda: 1024 * 1024)
    path = tiny(tmp_path, horizon="1m", replications=1, faults=[], configurations={"c": {}})
    args = ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r"), "--quiet"]
    assert "at most 0.0 GB fit" in refused(runner.invoke(app, args), path)
    assert not (tmp_path / "r").exists()
    result = runner.invoke(app, [*args, "--allow-large"])
    assert result.exit_code == 0, result.stderr


# --------------------------------------------------------------------------- 3. paths


@contextmanager
def never_blocks(seconds: int = 60) -> Iterator[None]:
    """Fail, instead of hanging the suite, if a read blocks (a FIFO opened for reading
    waits for a writer): SIGALRM interrupts the system call."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_device_as_the_scenario_is_refused_unread() -> None:
    with never_blocks():
        result = runner.invoke(app, ["validate", "/dev/zero"])
    message = refused(result, "/dev/zero")
    assert message == "/dev/zero: cannot read file: it is a character device, not a regular file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_as_scenario_or_model_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with never_blocks():
        assert "FIFO" in refused(runner.invoke(app, ["validate", str(fifo)]), fifo)
        path = tiny(tmp_path, model=str(fifo))
        result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "r")])
    assert "cannot read model file: it is a FIFO" in refused(result, fifo)
    assert not (tmp_path / "r").exists()


def test_a_symlink_loop_as_the_model_is_bad_input(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    os.symlink(tmp_path / "other.yaml", loop)
    os.symlink(loop, tmp_path / "other.yaml")
    path = tiny(tmp_path, model=str(loop))
    message = refused(runner.invoke(app, ["validate", str(path)]), loop)
    assert "symbolic links" in message


def test_a_directory_as_the_model_is_bad_input(tmp_path: Path) -> None:
    path = tiny(tmp_path, model=str(tmp_path))
    assert "a directory" in refused(runner.invoke(app, ["validate", str(path)]), tmp_path)


# --------------------------------------------------------------------------- 4. other files


def secrets_file(tmp_path: Path) -> Path:
    """A readable file that is no input: YAML-shaped lines of secrets."""
    path = tmp_path / "shadow"
    lines = [f"user{i}: {SECRET}-{i}:19000:0:99999:7" for i in range(30)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_model_that_is_another_file_is_refused_without_quoting_it(tmp_path: Path) -> None:
    shadow = secrets_file(tmp_path)
    path = tiny(tmp_path, model=str(shadow))
    result = runner.invoke(app, ["validate", str(path)])
    message = refused(result, shadow)
    assert "not a shop model" in message
    assert SECRET not in result.stderr and "user1" not in result.stderr


def test_a_trace_that_is_another_file_is_refused_without_quoting_it(tmp_path: Path) -> None:
    shadow = secrets_file(tmp_path)
    faults = [{"target": "primary", "kind": "trace", "file": str(shadow), "start": "30s"}]
    result = runner.invoke(app, ["validate", str(tiny(tmp_path, faults=faults))])
    assert "not an incident trace" in refused(result, shadow)
    assert SECRET not in result.stderr and "user" not in result.stderr


def test_many_problems_stop_after_five_and_quote_short_fragments(tmp_path: Path) -> None:
    path = tiny(tmp_path)
    extra = "".join(f"unknown_{i}_{'k' * 80}: 1\n" for i in range(26))
    path.write_text(path.read_text("utf-8") + extra, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 6 and lines[-1] == f"{path}: and 21 more problems"
    assert all(line.removeprefix("error: ").startswith(f"{path}:") for line in lines)
    assert "k" * 50 not in result.stderr  # keys are cut to a short fragment


def test_a_value_is_quoted_as_a_short_sanitised_fragment(tmp_path: Path) -> None:
    path = tiny(tmp_path, horizon="\x1b[31m" + SECRET * 20)
    result = runner.invoke(app, ["validate", str(path)])
    message = refused(result, path)
    assert "\x1b" not in result.stderr and "\\x1b" in message
    assert SECRET * 2 not in message


# --------------------------------------------------------------------------- 5. run directories


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


MANIFEST_DAMAGE = {
    "no-loaded": lambda d: d.pop("loaded"),
    "no-settings": lambda d: d.pop("settings"),
    "replications-abc": lambda d: d["settings"].__setitem__("replications", "abc"),
    "seed-abc": lambda d: d["settings"].__setitem__("seed", "abc"),
    "bad-scenario": lambda d: d["loaded"]["scenario"].__setitem__("horizon", "abc"),
    "format-as-text": lambda d: d.__setitem__("format", "2"),
    "unknown-baseline": lambda d: d["settings"].__setitem__("baseline", "nope"),
}


@pytest.mark.parametrize("damage", list(MANIFEST_DAMAGE))
def test_a_damaged_manifest_is_refused_in_one_line(
    finished_run: Path, tmp_path: Path, damage: str
) -> None:
    directory = copy_of(finished_run, tmp_path)
    edit_json(directory / "experiment.json", MANIFEST_DAMAGE[damage])
    result = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1"])
    message = refused(result, directory)
    if damage == "format-as-text":
        assert "format '2'" in message


REPORT_DAMAGE = {
    "run-json-a-list": ("run.json", b"[]"),
    "run-json-not-utf8": ("run.json", b"\xff\xfe\x00{"),
    "summary-without-configuration": ("summary.csv", b"replication,orders\n0,5\n"),
}


@pytest.mark.parametrize("damage", [*REPORT_DAMAGE, "replications-abc"])
def test_report_refuses_a_damaged_run_directory(
    finished_run: Path, tmp_path: Path, damage: str
) -> None:
    directory = copy_of(finished_run, tmp_path)
    if damage == "replications-abc":
        name = "run.json"
        edit_json(directory / name, lambda d: d.__setitem__("replications", "abc"))
    else:
        name, content = REPORT_DAMAGE[damage]
        (directory / name).write_bytes(content)
    refused(runner.invoke(app, ["report", str(directory)]), directory / name)


@pytest.mark.parametrize("name", ["old.pkl", "old.PKL", "old.pickle", "nested/old.pkl"])
def test_pickles_anywhere_in_runs_are_flagged(
    finished_run: Path, tmp_path: Path, name: str
) -> None:
    directory = copy_of(finished_run, tmp_path)
    planted = directory / "runs" / name
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_bytes(b"\x80\x04N.")
    result = runner.invoke(app, ["run", "--resume", str(directory), "--workers", "1"])
    assert "pickle files in runs/" in refused(result, directory)


# --------------------------------------------------------------------------- 6. I/O


def test_a_full_disk_while_writing_the_report_names_the_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no file name, as write() has

    monkeypatch.setattr(sim.app.run, "write_report", full)
    path = tiny(tmp_path, horizon="1m", replications=1, faults=[])
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r")])
    [directory] = (tmp_path / "r" / "tiny").iterdir()
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {directory}: No space left on device"


def test_a_name_too_long_for_a_directory_is_refused_before_mkdir(tmp_path: Path) -> None:
    path = tiny(tmp_path, name="n" * 300)
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "r")])
    assert "at most 100 characters" in refused(result, path)
    assert not (tmp_path / "r").exists()


def test_a_run_directory_that_cannot_be_made_leaves_no_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mkdir = Path.mkdir

    def refuse_the_run(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.name.startswith("20") and "-seed" in self.name:
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT), str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse_the_run)
    path = tiny(tmp_path)
    out = tmp_path / "deep" / "reports"
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(out)])
    assert result.exit_code == 2 and "Disk quota exceeded" in result.stderr
    assert not (tmp_path / "deep").exists()


# --------------------------------------------------------------------------- 7. messages


@pytest.mark.parametrize(
    ("option", "value"), [("--replications", "0"), ("--workers", "0"), ("--seed", "-1")]
)
def test_an_option_error_is_one_line(tmp_path: Path, option: str, value: str) -> None:
    result = runner.invoke(app, ["run", str(tiny(tmp_path)), option, value])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: Invalid value for '{option}'")
    assert line.endswith(" run --help')")


def test_warmup_past_the_horizon_points_at_the_warmup_line(tmp_path: Path) -> None:
    path = tiny(tmp_path, warmup="10m")
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "warmup" in text)
    message = refused(runner.invoke(app, ["validate", str(path)]), path)
    assert message.startswith(f"{path}:{line}: warmup: warmup must be shorter")


def test_an_error_in_model_overrides_points_at_the_scenario(tmp_path: Path) -> None:
    path = tiny(tmp_path, model_overrides={"dependencies": {"primary": {"capacity": -3}}})
    message = refused(runner.invoke(app, ["validate", str(path)]), path)
    assert "model_overrides.dependencies.primary.capacity" in message
    assert str(MODEL) not in message


def test_no_internal_names_leak_into_messages(tmp_path: Path) -> None:
    path = tiny(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--baseline", "nope"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --baseline: unknown configuration 'nope'")
    configurations = {"c": {"payment": {"breaker": {"preset": "nope"}}}}
    result = runner.invoke(app, ["validate", str(tiny(tmp_path, configurations=configurations))])
    message = refused(result, tmp_path / "scenario.yaml")
    assert "breaker.preset: unknown preset 'nope'" in message
    for leak in ("<input>", "_kind", "()"):
        assert leak not in message


# --------------------------------------------------------------------------- 8. noise


def test_control_characters_in_a_name_are_refused(tmp_path: Path) -> None:
    path = tiny(tmp_path, configurations={"plain\x01": {}})
    assert "control characters" in refused(runner.invoke(app, ["validate", str(path)]), path)


def test_a_clean_run_keeps_stderr_empty_and_report_md_escapes_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name with a character no font has made matplotlib warn on a successful run (exit 0
    promises an empty stderr); a <script> in a name or description stayed raw in report.md
    (report.html escaped it)."""

    def to_stderr(message: Any, category: Any, filename: str, lineno: int, *rest: Any) -> None:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno))

    # As on a terminal: pytest would otherwise collect the warnings itself.
    monkeypatch.setattr(warnings, "showwarning", to_stderr)
    path = tiny(
        tmp_path,
        horizon="1m",
        replications=1,
        faults=[],
        description="<script>alert(1)</script>",
        configurations={"fast 🚀 <script>x</script>": {"description": "<img src=x>"}},
    )
    args = ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r"), "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert result.stderr == ""
    [directory] = (tmp_path / "r" / "tiny").iterdir()
    text = (directory / "report.md").read_text("utf-8")
    assert not re.search(r"<script|<img", text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# --------------------------------------------------------------------------- 9. not a breaker


def test_a_function_named_as_a_breaker_class_is_never_called(tmp_path: Path) -> None:
    touched = tmp_path / "called"
    breaker = {"class": "subprocess:getoutput", "args": {"cmd": f"touch {touched}"}}
    path = tiny(tmp_path, configurations={"c": {"payment": {"breaker": breaker}}})
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(tmp_path / "r")])
    assert "is a function, not a class" in refused(result, path)
    assert not touched.exists() and not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- 10. orphans


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_die_with_a_killed_run(tmp_path: Path) -> None:
    path = tiny(tmp_path, horizon="30m", replications=6)
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "run", str(path), "--workers", "2", "--quiet",
         "--out", str(tmp_path / "r")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        workers: set[int] = set()
        for _ in range(600):  # the pool starts within seconds; generous for a busy machine
            workers = {pid for pid in children(process.pid) if alive(pid)}
            if len(workers) >= 2 or process.poll() is not None:
                break
            time.sleep(0.1)
        assert len(workers) >= 2, "the pool never started"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    for _ in range(300):  # a generous bound, not a timing assertion
        if not any(alive(pid) for pid in workers):
            break
        time.sleep(0.1)
    survivors = [pid for pid in workers if alive(pid)]
    for pid in survivors:  # never leave them behind, whatever the outcome
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"workers outlived their parent: {survivors}"


# --------------------------------------------------------------------------- 11. the rest


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"configurations": {"": {}}}, "at least 1 character"),
        ({"description": "d" * 20_000}, "at most 10000 characters"),
    ],
    ids=["empty-name", "long-description"],
)
def test_smaller_inconsistencies_are_refused(
    tmp_path: Path, overrides: dict[str, Any], says: str
) -> None:
    path = tiny(tmp_path, **overrides)
    assert says in refused(runner.invoke(app, ["validate", str(path)]), path)


@pytest.mark.parametrize("form", [{"constant": 0}, {"exponential": {"mean": 0}}])
def test_a_patience_of_zero_is_accepted_in_either_form(
    tmp_path: Path, form: dict[str, Any]
) -> None:
    """``constant: 0`` was accepted and ``exponential: {mean: 0}`` refused for the same
    patience (every customer leaves at once, a deliberate extreme): both are accepted."""
    traffic = {"rate": "5/s", "basket": {"constant": 5}, "patience": form}
    result = runner.invoke(app, ["validate", str(tiny(tmp_path, traffic=traffic))])
    assert result.exit_code == 0, result.stderr
