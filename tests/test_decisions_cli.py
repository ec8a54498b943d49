"""run and sweep end in a decision, through the real CLI: run's recommendation (terminal,
--json, report.md, report.html, rebuilt reports) with what the run never exercised, and
the sweep's decision with its equivalent region."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from tests.conftest import write_scenario

runner = CliRunner()
THRESHOLD = "payment.breaker.failure_rate_threshold"
NEVER_OPENS = {
    "payment": {
        "timeout": "2s",
        "breaker": {"failure_rate_threshold": "100%", "minimum_number_of_calls": 100000,
                    "sliding_window_size": 100000},
        "fallback": "secondary",
    }
}  # fmt: skip


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_run_recommends_a_configuration_and_says_what_it_never_exercised(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, configurations={"plain": {}, "quiet-breaker": NEVER_OPENS})
    code, out, err = invoke("run", str(path), "--out", str(tmp_path / "r"), "--workers", "1",
                            "--replications", "3", "--json")  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    advice = document["recommendation"]
    assert advice["baseline"] == "plain" and advice["metric"] == "revenue_lost"
    assert advice["indifference"]["text"] == "2% of plain's mean"
    assert advice["verdict"] in ("adopt", "keep-base")
    assert advice["configuration"] == ("quiet-breaker" if advice["verdict"] == "adopt" else "plain")
    assert set(advice["difference"]) == {"mean", "ci_low", "ci_high"}
    never = [n for n in advice["notes"] if "never opened" in n]
    assert never == [
        "quiet-breaker: its breaker (payment) never opened in 3 replications; what sets it "
        "apart from plain is its other settings: payment.fallback, payment.timeout"
    ]
    directory = Path(document["directory"])
    report = (directory / "report.md").read_text("utf-8")
    assert report.index("## Recommendation") < report.index("## Compared with the baseline")
    assert "never opened" in report and "Hsu's multiple comparisons" in report
    assert "Recommendation" in (directory / "report.html").read_text("utf-8")
    assert json.loads((directory / "run.json").read_text("utf-8"))["decision"]["metric"] == (
        "revenue_lost"
    )

    # The report rebuilt from the stored tables says the same.
    (directory / "report.md").unlink()
    code, _, err = invoke("report", str(directory))
    assert code == 0, err
    assert "## Recommendation" in (directory / "report.md").read_text("utf-8")


@pytest.mark.slow
def test_run_decides_on_another_objective_and_indifference(tmp_path: Path) -> None:
    path = write_scenario(tmp_path)
    code, out, err = invoke("run", str(path), "--out", str(tmp_path / "r"), "--workers", "1",
                            "--objective", "revenue_captured:max",
                            "--indifference", "1000")  # fmt: skip
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("recommendation:"))
    assert (
        "revenue_captured" in line and "δ = 1,000 EUR" in line
    )  # in the metric's unit, as the interval


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--objective", "revenu_lost", "did you mean 'revenue_lost'"),
     ("--indifference", "2 parsecs", "cannot read '2 parsecs'")],
)  # fmt: skip
def test_run_refuses_a_bad_decision_option(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    path = write_scenario(tmp_path)
    code, _, err = invoke("run", str(path), "--out", str(tmp_path / "r"), option, value)
    assert code == 2 and message in err
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_sweep_json_carries_a_decision_with_its_region(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, horizon="3m")
    code, out, err = invoke(
        "sweep", str(path), "--configuration", "breaker", "--param", f"{THRESHOLD}=5,50,90",
        "--replications", "3", "--indifference", "5%", "--out", str(tmp_path / "r"),
        "--workers", "2", "--json",
    )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    decision = document["decision"]
    assert decision["metric"] == "revenue_lost" and decision["verdict"] in ("adopt", "keep-base")
    assert decision["indifference"]["text"] == "5% of breaker's mean"
    assert set(decision["best"]) == {THRESHOLD}
    assert all(set(point) == {THRESHOLD} for point in decision["equivalent"])
    assert decision["best"] in decision["equivalent"]
    assert set(decision["region"]) <= {THRESHOLD}
    low, high = decision["region"][THRESHOLD]
    assert low <= decision["best"][THRESHOLD] <= high
    directory = Path(document["directory"])
    table = pd.read_csv(directory / "decision.csv")
    assert {"candidate", THRESHOLD, "status", "vs_base_low", "supported"} <= set(table.columns)
    assert "## Decision" in (directory / "report.md").read_text("utf-8")
    assert document["report"].endswith("report.md")


@pytest.mark.slow
def test_sweep_terminal_marks_the_best_point(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, horizon="3m")
    code, out, err = invoke(
        "sweep", str(path), "--configuration", "breaker", "--param", f"{THRESHOLD}=30,60",
        "--replications", "2", "--out", str(tmp_path / "r"), "--workers", "1",
    )  # fmt: skip
    assert code == 0, err
    assert "★" in out and "− base" in out
    assert "equivalent region" in out and "report: " in out
