"""What users of a CLI and a Python library expect: a fast start (heavy modules imported
only by the commands that use them), shell completion, --version, --quiet and --json for
scripts, shipped scenarios by name, init, a public API in ``sim``, named Optuna
objectives and Optuna's log level left alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

import sim
from sim.app.inputs import scenario_path
from sim.app.tune import run_tune
from sim.cli import app
from sim.examples import shipped_scenarios
from tests.conftest import ROOT, write_scenario

runner = CliRunner()
HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "optuna", "dask", "distributed", "simpy",
         "pydantic", "pyarrow", "yaml")  # fmt: skip


def imported_by(code: str) -> set[str]:
    """Top-level packages a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(done.stdout.split())


@pytest.mark.parametrize("code", ["import sim", "import sim.cli"])
def test_starting_imports_nothing_heavy(code: str) -> None:
    assert imported_by(code) & set(HEAVY) == set()


def test_help_offers_shell_completion_and_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("--install-completion", "--show-completion", "--version", "run", "sweep",
                 "tune", "report", "validate", "schema", "init"):  # fmt: skip
        assert word in result.stdout, word


def test_version_is_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"breakerlab {sim.__version__}\n"


def test_shared_options_read_the_same_in_every_command() -> None:
    helps = {c: runner.invoke(app, [c, "--help"]).stdout for c in ("run", "sweep", "tune")}
    for option in ("--replications", "--seed", "--out", "--workers", "--scheduler",
                   "--dask-local", "--quiet", "--json"):  # fmt: skip
        assert all(option in text for text in helps.values()), option


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(
        tmp_path_factory.mktemp("conventions"),
        horizon="2m",
        replications=2,
        faults=[{"target": "primary", "kind": "outage", "start": "40s", "duration": "40s"}],
    )


@pytest.mark.slow
def test_run_json_prints_one_document_and_nothing_else(scenario: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", str(scenario), "--workers", "1", "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout)  # the whole of stdout
    assert document["command"] == "run" and document["result"] == "pass"
    assert Path(document["report"]).is_file()
    metrics = {(r["configuration"], r["metric"]) for r in document["results"]}
    assert {("plain", "revenue_lost"), ("breaker", "checkout_p99_s")} <= metrics
    assert {r["baseline"] for r in document["differences"]} == {"plain"}
    assert "NaN" not in result.stdout  # strict JSON: null instead


@pytest.mark.slow
def test_run_quiet_prints_no_tables(scenario: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", str(scenario), "--workers", "1", "--out", str(tmp_path), "--quiet"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert "mean ±" not in result.stdout and "paired difference" not in result.stdout
    lines = [line.split(":")[0] for line in result.stdout.splitlines()]
    assert lines == ["recommendation", "report", "html"]


@pytest.mark.slow
def test_tune_json_and_named_objectives(scenario: Path, tmp_path: Path) -> None:
    args = ["tune", str(scenario), "--configuration", "breaker", "--trials", "2",
            "--param", "payment.breaker.failure_rate_threshold=20:80", "--objective",
            "revenue_lost", "--objective", "checkout_p99_s", "--workers", "1",
            "--selection-budget", "8", "--finalists", "1", "--fresh-replications", "2",
            "--out", str(tmp_path), "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["command"] == "tune"
    written = document["policy"] if document["decision"]["verdict"] == "adopt" else None
    assert Path(written or document["region_file"]).is_file()
    storage = f"sqlite:///{tmp_path / 'tune-tiny' / 'study.db'}"
    study = optuna.load_study(study_name="tune-tiny", storage=storage)
    assert study.metric_names == ["revenue_lost", "checkout_p99_s"]


@pytest.mark.slow
def test_the_library_leaves_optunas_log_level_alone(scenario: Path, tmp_path: Path) -> None:
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.DEBUG)
    try:
        run_tune(scenario, ["payment.breaker.failure_rate_threshold=20:80"], trials=1,
                 configuration="breaker", workers=1, out=tmp_path, selection_budget=4,
                 finalists=1, fresh_replications=2)  # fmt: skip
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG
    finally:
        optuna.logging.set_verbosity(before)


def test_a_shipped_scenario_by_name() -> None:
    shipped = shipped_scenarios()
    assert scenario_path("flash_sale_gateway_outage") == shipped["flash_sale_gateway_outage"]
    result = runner.invoke(app, ["validate", "flash_sale_gateway_outage"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"ok: {shipped['flash_sale_gateway_outage']}")
    wrong = runner.invoke(app, ["run", "flash_sale_gateway_outag", "--out", "unused"])
    assert wrong.exit_code == 2
    assert "did you mean 'flash_sale_gateway_outage'?" in " ".join(wrong.stderr.split())
    assert not Path("unused").exists()


def test_init_copies_the_examples_once(tmp_path: Path) -> None:
    target = tmp_path / "lab"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.stderr
    assert (target / "scenarios" / "flash_sale_gateway_outage.yaml").is_file()
    assert (target / "models" / "reference_shop.yaml").is_file()
    copied = runner.invoke(app, ["validate", str(target / "scenarios" / "tuning_example.yaml")])
    assert copied.exit_code == 0, copied.stderr
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == 2
    assert "--force" in again.stderr
    assert runner.invoke(app, ["init", str(target), "--force"]).exit_code == 0


@pytest.mark.slow
def test_python_api_end_to_end(scenario: Path, tmp_path: Path) -> None:
    loaded = sim.load_scenario(scenario)
    run = sim.run(loaded, workers=1, out=tmp_path)
    assert isinstance(run, sim.RunOutput) and not run.failed
    figures = run.figures()
    assert figures["latency"].png.startswith(b"\x89PNG")
    goodput = run.over_time("completed")
    assert goodput is not None and goodput._repr_png_()
    assert sim.load_run(run.directory).summary.equals(run.data.summary)
