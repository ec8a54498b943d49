"""Bad input never gives a traceback: one message naming file, line and field path, exit 2,
and nothing written under the reports directory.

Every bad file is the shipped scenario (or model) with one small edit, written to tmp_path;
the line a message must point at is found from the edited text itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from typer.testing import CliRunner, Result

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SCENARIO = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"
SHIPPED_MODEL = ROOT / "models" / "reference_shop.yaml"
MODEL_NAME = "shop.yaml"
FAULT = "  - {target: primary, kind: outage, start: 30m, duration: 8m}"

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FIELD_PATH = r"[A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*"


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str


def problems(stderr: str, files: list[Path]) -> list[Problem]:
    """The problems reported on stderr; fails on any line that is not one of them."""
    found: list[Problem] = []
    for raw in ANSI.sub("", stderr).splitlines():
        text = raw.removeprefix("error: ")
        if not text.strip():
            continue
        for file in files:
            prefix = f"{file}:"
            if not text.startswith(prefix):
                continue
            rest = text[len(prefix) :]
            match = re.fullmatch(rf"(?:(\d+):)? (?:({FIELD_PATH}): )?(.*)", rest)
            assert match, f"cannot parse error line {raw!r}"
            line, path, message = match.groups()
            found.append(Problem(str(file), int(line) if line else None, path or "", message))
            break
        else:
            pytest.fail(f"stderr line names no input file (one clear message expected): {raw!r}")
    return found


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the shipped file changed: {old!r} is not there exactly once"
    return text.replace(old, new)


def line_of(text: str, marker: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, f"marker {marker!r} is on lines {lines}, expected exactly one"
    return lines[0]


def refused(result: Result) -> None:
    """Exit 2 through a clean exit, never an exception escaping the command."""
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert isinstance(result.exception, SystemExit), (
        f"{result.exception!r} escaped the command\n{output}"
    )
    assert result.exit_code == 2, output
    assert "Traceback" not in result.stdout + result.stderr
    assert "ok:" not in result.stdout


def empty_or_missing(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    scenario_edits: tuple[tuple[str, str], ...] = ()
    model_edits: tuple[tuple[str, str], ...] = ()
    blame: Literal["scenario", "model"] = "scenario"
    marker: str = ""  # unique text on the line the message must point at
    path: str | None = ""  # dotted field path; None: not checked (malformed YAML)
    says: tuple[str, ...] = ()  # fragments the message must contain


CASES = [
    # malformed YAML
    Case(
        "malformed-yaml",
        (("horizon: 60m", "horizon: 60m: 5"),),
        marker="horizon: 60m: 5",
        path=None,
        says=("malformed YAML",),
    ),
    Case(
        "tab-indentation",
        (("  rate: 12/s\n", "\trate: 12/s\n"),),
        marker="\trate: 12/s",
        path=None,
        says=("malformed YAML",),
    ),
    Case(
        "unsafe-yaml-tag",
        (("seed: 7", "seed: !!python/object/apply:os.system [echo]"),),
        marker="!!python",
        path=None,
        says=("malformed YAML",),
    ),
    # unknown keys
    Case(
        "unknown-top-level-key",
        (("horizon: 60m", "horizn: 60m"),),
        marker="horizn: 60m",
        path="horizn",
        says=("unknown field 'horizn'", "did you mean 'horizon'?"),
    ),
    Case(
        "unknown-breaker-key",
        (("failure_rate_threshold: 50%", "failure_rate_treshold: 50%"),),
        marker="failure_rate_treshold",
        path="configurations.breaker-failover.payment.breaker.failure_rate_treshold",
        says=("unknown field 'failure_rate_treshold'", "did you mean 'failure_rate_threshold'?"),
    ),
    Case(
        "unknown-stage-key",
        (("    payment:\n      timeout: 2s", "    paymnt:\n      timeout: 2s"),),
        marker="paymnt:",
        path="configurations.breaker-failover.paymnt",
        says=("unknown field 'paymnt'", "did you mean 'payment'?"),
    ),
    Case(
        "unknown-retry-key",
        (("retry: {max_attempts: 3, wait: 500ms}, fallback", "retry: {max_atempts: 3}, fallback"),),
        marker="max_atempts",
        path="configurations.retry-then-failover.payment.retry.max_atempts",
        says=("unknown field 'max_atempts'", "did you mean 'max_attempts'?"),
    ),
    Case(
        "unknown-key-of-latency-fault",
        ((FAULT, "  - {target: primary, kind: latency, multiplyer: 3, start: 30m, duration: 8m}"),),
        marker="multiplyer",
        path="faults[0].multiplyer",
        says=("unknown field 'multiplyer'", "did you mean 'multiplier'?"),
    ),
    # wrong units
    Case(
        "horizon-given-as-rate",
        (("horizon: 60m", "horizon: 40/s"),),
        marker="horizon: 40/s",
        path="horizon",
        says=("'40/s'", "duration"),
    ),
    Case(
        "rate-given-as-duration",
        (("  rate: 12/s\n", "  rate: 5s\n"),),
        marker="rate: 5s",
        path="traffic.rate",
        says=("'5s'", "rate"),
    ),
    Case(
        "threshold-not-a-percentage",
        (("failure_rate_threshold: 50%", "failure_rate_threshold: half"),),
        marker="failure_rate_threshold: half",
        path="configurations.breaker-failover.payment.breaker.failure_rate_threshold",
        says=("percentage",),
    ),
    Case(
        "threshold-above-100-percent",
        (("failure_rate_threshold: 50%", "failure_rate_threshold: 150%"),),
        marker="failure_rate_threshold: 150%",
        path="configurations.breaker-failover.payment.breaker.failure_rate_threshold",
        says=("150%",),
    ),
    # zero or negative quantities
    Case(
        "zero-rate",
        (("  rate: 12/s\n", "  rate: 0/s\n"),),
        marker="rate: 0/s",
        path="traffic.rate",
        says=("greater than 0",),
    ),
    Case(
        "negative-rate",
        (("  rate: 12/s\n", "  rate: -3/s\n"),),
        marker="rate: -3/s",
        path="traffic.rate",
        says=("greater than 0",),
    ),
    Case(
        "zero-rate-in-profile",
        (("{at: 20m, rate: 48/s", "{at: 20m, rate: 0/s"),),
        marker="rate: 0/s",
        path="traffic.profile[0].rate",
        says=("greater than 0",),
    ),
    Case(
        "zero-horizon",
        (("horizon: 60m", "horizon: 0s"),),
        marker="horizon: 0s",
        path="horizon",
        says=("greater than 0",),
    ),
    # cross-references
    Case(
        "missing-model-file",
        ((f"model: {MODEL_NAME}", "model: no_such_shop.yaml"),),
        marker="model: no_such_shop.yaml",
        path="model",
        says=("model file not found", "no_such_shop.yaml"),
    ),
    Case(
        "fault-at-unknown-dependency",
        (("target: primary", "target: primry"),),
        marker="target: primry",
        path="faults[0].target",
        says=("unknown dependency 'primry'", "did you mean 'primary'?"),
    ),
    Case(
        "fault-after-horizon",
        (("start: 30m", "start: 90m"),),
        marker="start: 90m",
        path="faults[0].start",
        says=("after the horizon",),
    ),
    Case(
        "fallback-to-unknown-gateway",
        (("      fallback: secondary", "      fallback: tertiary"),),
        marker="fallback: tertiary",
        path="configurations.breaker-failover.payment.fallback",
        says=("unknown gateway 'tertiary'", "primary, secondary"),
    ),
    Case(
        "fallback-to-the-primary",
        (("      fallback: secondary", "      fallback: primary"),),
        marker="fallback: primary",
        path="configurations.breaker-failover.payment.fallback",
        says=("'primary' is the primary gateway",),
    ),
    # duplicate keys
    Case(
        "duplicate-key",
        (("seed: 7\n", "seed: 7\nseed: 8\n"),),
        marker="seed: 8",
        path="seed",
        says=("duplicate key 'seed'",),
    ),
    Case(
        "duplicate-nested-key",
        (("      timeout: 2s\n", "      timeout: 2s\n      timeout: 3s\n"),),
        marker="timeout: 3s",
        path="configurations.breaker-failover.payment.timeout",
        says=("duplicate key 'timeout'",),
    ),
    Case(
        "duplicate-configuration",
        (("  retry-then-failover:", "  no-breaker:   # again"),),
        marker="# again",
        path="configurations.no-breaker",
        says=("duplicate key 'no-breaker'",),
    ),
    # fault kinds
    Case(
        "unknown-fault-kind",
        ((FAULT, "  - target: primary\n    kind: meltdown\n    start: 30m\n    duration: 8m"),),
        marker="kind: meltdown",
        path="faults[0].kind",
        says=("'meltdown'", "outage", "flapping"),
    ),
    Case(
        "fault-without-kind",
        ((FAULT, "  - target: primary\n    start: 30m\n    duration: 8m"),),
        marker="- target: primary",
        path="faults[0].kind",
    ),
    # the model behind the scenario
    Case(
        "stage-calls-unknown-dependency",
        model_edits=(("dependency: orders_db", "dependency: order_db"),),
        blame="model",
        marker="dependency: order_db",
        path="stages.order_record.dependency",
        says=("unknown dependency 'order_db'", "did you mean 'orders_db'?"),
    ),
    Case(
        "unknown-payment-gateway",
        model_edits=(("gateways: [primary, secondary]", "gateways: [primary, secondary, backup]"),),
        blame="model",
        marker="gateways: [primary, secondary, backup]",
        path="stages.payment.gateways[2]",
        says=("unknown dependency 'backup'",),
    ),
    Case(
        "unknown-dependency-key",
        model_edits=(("    capacity: 200", "    capcity: 200"),),
        blame="model",
        marker="capcity: 200",
        path="dependencies.inventory_service.capcity",
        says=("unknown field 'capcity'", "did you mean 'capacity'?"),
    ),
]
MODEL_CASES = [case for case in CASES if case.blame == "model"]


def case_named(name: str) -> Case:
    [case] = [case for case in CASES if case.id == name]
    return case


@dataclass(frozen=True)
class Files:
    scenario: Path
    model: Path
    scenario_text: str
    model_text: str

    def blamed(self, case: Case) -> tuple[Path, str]:
        if case.blame == "model":
            return self.model, self.model_text
        return self.scenario, self.scenario_text


def build(directory: Path, case: Case) -> Files:
    """The shipped scenario and model with the edits of ``case``, side by side."""
    directory.mkdir(parents=True, exist_ok=True)
    scenario_text, n = re.subn(
        r"^model:.*$", f"model: {MODEL_NAME}", SHIPPED_SCENARIO.read_text("utf-8"), flags=re.M
    )
    assert n == 1
    model_text = SHIPPED_MODEL.read_text("utf-8")
    for old, new in case.scenario_edits:
        scenario_text = edit(scenario_text, old, new)
    for old, new in case.model_edits:
        model_text = edit(model_text, old, new)
    files = Files(directory / "scenario.yaml", directory / MODEL_NAME, scenario_text, model_text)
    files.scenario.write_text(scenario_text, encoding="utf-8")
    files.model.write_text(model_text, encoding="utf-8")
    return files


def expect_one_problem(stderr: str, file: Path, text: str, case: Case) -> None:
    found = problems(stderr, [file, file.parent / "scenario.yaml", file.parent / MODEL_NAME])
    assert len(found) == 1, f"expected one clear message, got {len(found)}:\n{stderr}"
    problem = found[0]
    assert problem.file == str(file), stderr
    assert problem.line == line_of(text, case.marker), stderr
    if case.path is not None:
        assert problem.path == case.path, stderr
    for fragment in case.says:
        assert fragment in problem.message, stderr


# --------------------------------------------------------------------------- tests


def test_unedited_copies_are_valid(tmp_path: Path) -> None:
    """The starting point of every case passes, so each failure below is the edit's."""
    files = build(tmp_path, Case("none"))
    result = runner.invoke(app, ["validate", str(files.scenario), str(files.model)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_scenario_gives_one_message_with_line_and_path(
    tmp_path: Path, case: Case, command: str
) -> None:
    files = build(tmp_path / "in", case)
    reports = tmp_path / "reports"
    args = ["validate", str(files.scenario)]
    if command == "run":
        args = ["run", str(files.scenario), "--out", str(reports), "--workers", "1"]
    result = runner.invoke(app, args)
    refused(result)
    expect_one_problem(result.stderr, *files.blamed(case), case)
    assert empty_or_missing(reports)


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda case: case.id)
def test_bad_model_given_directly(tmp_path: Path, case: Case) -> None:
    files = build(tmp_path, case)
    result = runner.invoke(app, ["validate", str(files.model)])
    refused(result)
    expect_one_problem(result.stderr, files.model, files.model_text, case)


def test_missing_scenario_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    reports = tmp_path / "reports"
    for args in (["validate", str(missing)], ["run", str(missing), "--out", str(reports)]):
        result = runner.invoke(app, args)
        refused(result)
        [problem] = problems(result.stderr, [missing])
        assert "file not found" in problem.message
    assert empty_or_missing(reports)


def test_directory_without_yaml(tmp_path: Path) -> None:
    """validate takes a directory for the YAML files under it: one without any is bad input
    (a directory that holds some: tests/test_first_hour.py)."""
    result = runner.invoke(app, ["validate", str(tmp_path)])
    refused(result)
    [problem] = problems(result.stderr, [tmp_path])
    assert problem.message == "a directory without any .yaml or .yml file"


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    result = runner.invoke(app, ["validate", str(path)])
    refused(result)
    [problem] = problems(result.stderr, [path])
    assert "cannot read" in problem.message


@pytest.mark.parametrize(
    ("text", "kind"), [("", "empty"), ("# only a comment\n", "empty"), ("- a\n- b\n", "list")]
)
def test_file_that_is_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    refused(result)
    [problem] = problems(result.stderr, [path])
    assert problem.line == 1
    assert "expected a mapping" in problem.message
    assert kind in problem.message


@pytest.mark.parametrize("key", ["[/]", "[bold]typo", "[link=x]k"])
def test_markup_like_key_is_printed_verbatim(tmp_path: Path, key: str) -> None:
    """Messages are plain text: a key that looks like console markup is shown as written."""
    files = build(tmp_path, Case("markup", ((("seed: 7\n", f'seed: 7\n"{key}": 1\n'),))))
    result = runner.invoke(app, ["validate", str(files.scenario)])
    refused(result)
    assert f"unknown field {key!r}" in ANSI.sub("", result.stderr), result.stderr
    assert f"{files.scenario}:{line_of(files.scenario_text, key)}:" in result.stderr


def test_file_name_with_brackets_is_printed_verbatim(tmp_path: Path) -> None:
    case = case_named("fault-at-unknown-dependency")
    files = build(tmp_path / "[draft]" / "[b]v2", case)
    result = runner.invoke(app, ["validate", str(files.scenario)])
    refused(result)
    expect_one_problem(result.stderr, files.scenario, files.scenario_text, case)


def test_one_bad_file_among_good_ones(tmp_path: Path) -> None:
    case = case_named("fault-at-unknown-dependency")
    files = build(tmp_path, case)
    result = runner.invoke(app, ["validate", str(SHIPPED_MODEL), str(files.scenario)])
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "ok:" in result.stdout
    expect_one_problem(result.stderr, files.scenario, files.scenario_text, case)


def test_bad_input_leaves_existing_reports_untouched(tmp_path: Path) -> None:
    case = case_named("fallback-to-unknown-gateway")
    files = build(tmp_path / "in", case)
    reports = tmp_path / "reports"
    earlier = reports / "flash-sale-gateway-outage" / "20240101-000000-seed7"
    earlier.mkdir(parents=True)
    (earlier / "report.md").write_text("# earlier run\n", encoding="utf-8")
    before = sorted(p.relative_to(reports) for p in reports.rglob("*"))
    result = runner.invoke(app, ["run", str(files.scenario), "--out", str(reports)])
    refused(result)
    assert sorted(p.relative_to(reports) for p in reports.rglob("*")) == before


def _breakerlab() -> list[str]:
    for script in (Path(sys.executable).with_name("breakerlab"), ROOT / ".venv/bin/breakerlab"):
        if script.is_file():
            return [str(script)]
    return [sys.executable, "-m", "sim.cli"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "case_id"),
    [("run", "fault-at-unknown-dependency"), ("validate", "unknown-breaker-key")],
)
def test_real_process_exits_2_without_traceback(tmp_path: Path, command: str, case_id: str) -> None:
    case = case_named(case_id)
    files = build(tmp_path / "in", case)
    reports = tmp_path / "reports"
    if command == "run":
        argv = [*_breakerlab(), "run", str(files.scenario), "--out", str(reports)]
    else:  # the module entry point, for once
        argv = [sys.executable, "-m", "sim.cli", "validate", str(files.scenario)]
    env = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "COLUMNS"}}
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**env, "NO_COLOR": "1"},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    expect_one_problem(done.stderr, files.scenario, files.scenario_text, case)
    assert empty_or_missing(reports)
    assert not (tmp_path / "reports").exists()


def test_dependency_names_cannot_hold_breaker_name_separators(tmp_path: Path) -> None:
    """ "@" and ":" join a dependency's name with a node or a failure category in breaker
    names (primary@2, primary:timeout), so a dependency may not use them."""
    text = SHIPPED_MODEL.read_text("utf-8")
    bad = tmp_path / MODEL_NAME
    bad.write_text(edit(text, "  primary:\n", '  "prim@ry":\n'), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(bad)])
    refused(result)
    message = ANSI.sub("", result.stderr)
    assert f"{bad}:{line_of(bad.read_text('utf-8'), 'prim@ry')}: dependencies.prim@ry:" in message
    assert "letters, digits" in message
