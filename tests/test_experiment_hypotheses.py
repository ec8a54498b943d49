"""Steady-state hypotheses: judged on the interval, gating the exit code, in journal.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis.hypotheses import judge_interval
from sim.cli import app
from sim.config.experiment import Hypothesis
from tests.conftest import write_scenario

runner = CliRunner()


@pytest.mark.parametrize(
    ("op", "low", "high", "outcome"),
    [
        ("<", 0.5, 0.9, "pass"),
        ("<", 0.5, 1.0, "inconclusive"),  # the interval touches the bound
        ("<", 0.5, 1.5, "inconclusive"),
        ("<", 1.0, 1.5, "fail"),
        ("<=", 0.5, 1.0, "pass"),
        ("<=", 1.0, 1.5, "inconclusive"),
        ("<=", 1.01, 1.5, "fail"),
        (">", 1.01, 2.0, "pass"),
        (">", 0.5, 1.0, "fail"),
        (">=", 1.0, 2.0, "pass"),
        (">=", 0.2, 0.9, "fail"),
        (">=", 0.2, 1.1, "inconclusive"),
    ],
)
def test_verdict_rests_on_the_whole_interval(
    op: str, low: float, high: float, outcome: str
) -> None:
    assert judge_interval(op, 1.0, low, high) == outcome


def test_percent_is_the_unit_of_pct_metrics_and_a_fraction_elsewhere() -> None:
    assert Hypothesis.model_validate("revenue_lost_pct < 1%").value == 1.0
    share = Hypothesis.model_validate("gateway_share_primary >= 90%")
    assert (share.metric, share.op, share.value) == ("gateway_share_primary", ">=", 0.9)


def invoke(path: Path, reports: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(reports), *extra])
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_run_exits_1_when_a_hypothesis_fails_and_writes_the_journal(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path,
        hypotheses=[
            "revenue_lost_pct < 90%",
            {"check": "revenue_lost_pct < 5%", "configurations": ["plain"]},
        ],
    )
    code, stdout, _ = invoke(path, tmp_path / "reports")
    assert code == 1, stdout
    assert "FAIL" in stdout and "PASS" in stdout
    [directory] = (tmp_path / "reports" / "tiny").iterdir()
    journal = json.loads((directory / "journal.json").read_text("utf-8"))
    verdicts = {(v["configuration"], v["check"]): v["outcome"] for v in journal["verdicts"]}
    assert verdicts == {
        ("plain", "revenue_lost_pct < 90%"): "pass",
        ("breaker", "revenue_lost_pct < 90%"): "pass",
        ("plain", "revenue_lost_pct < 5%"): "fail",
    }
    assert journal["result"] == "fail"
    assert journal["seeds"]["seed"] == 5 and journal["seeds"]["replications"] == [0, 1]
    assert journal["scenario"]["name"] == "tiny" and "dependencies" in journal["model"]
    assert journal["versions"]["numpy"] and journal["started"] <= journal["finished"]
    assert "Steady-state hypotheses" in (directory / "report.md").read_text("utf-8")


@pytest.mark.slow
def test_run_exits_0_when_every_hypothesis_passes(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, hypotheses=["orders > 100", "revenue_lost_pct <= 100%"])
    code, stdout, _ = invoke(path, tmp_path / "reports")
    assert code == 0, stdout
    assert stdout.count("PASS") == 4


@pytest.mark.slow
def test_strict_turns_inconclusive_into_exit_1(tmp_path: Path) -> None:
    # Breaker trips vary between replications of the breaker set-up, so its interval
    # straddles its own mean.
    path = write_scenario(tmp_path, replications=3)
    code, _, _ = invoke(path, tmp_path / "a")
    assert code == 0
    [directory] = (tmp_path / "a" / "tiny").iterdir()
    summary = json.loads((directory / "journal.json").read_text("utf-8"))
    assert summary["verdicts"] == []
    ci = pd.read_csv(directory / "summary_ci.csv")
    row = ci[(ci["configuration"] == "breaker") & (ci["metric"] == "revenue_lost")].iloc[0]
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    hypotheses = [{"check": f"revenue_lost < {row['mean']:.6f}", "configurations": ["breaker"]}]
    path = write_scenario(tmp_path, replications=3, hypotheses=hypotheses)
    code, stdout, _ = invoke(path, tmp_path / "b")
    assert code == 0 and "INCONCLUSIVE" in stdout
    code, _, _ = invoke(path, tmp_path / "c", "--strict")
    assert code == 1


def test_unknown_metric_is_bad_input_with_its_line_and_nothing_written(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, hypotheses=["revenue_lost_pct < 1%", "chekout_p99_s < 2"])
    code, _, stderr = invoke(path, tmp_path / "reports")
    assert code == 2
    line = next(
        n for n, text in enumerate(path.read_text("utf-8").splitlines(), 1) if "chekout" in text
    )
    assert f"{path}:{line}: hypotheses[1]: unknown metric 'chekout_p99_s'" in stderr
    assert "did you mean 'checkout_p99_s'?" in stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--baseline", "plian", "unknown configuration 'plian'; did you mean 'plain'?"),
        ("--precision", "five", "expected a relative half-width"),
        ("--precision-metric", "revenue", "unknown metric 'revenue'"),
        ("--warmup", "10m", "warm-up must be shorter than the horizon"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    path = write_scenario(tmp_path)
    extra = [option, value]
    if option == "--precision-metric":
        extra += ["--precision", "5%"]
    code, _, stderr = invoke(path, tmp_path / "reports", *extra)
    assert code == 2
    assert message in stderr
    assert not (tmp_path / "reports").exists()


def test_every_summary_column_is_a_known_metric(tmp_path: Path) -> None:
    """Hypotheses, objectives and precision targets are checked against the known metrics
    before anything runs; every column of a real run must be among them."""
    from sim.analysis.metrics import known_metrics
    from sim.analysis.summary import summary_row
    from sim.config import load_scenario
    from sim.engine import simulate

    loaded = load_scenario(write_scenario(tmp_path, horizon="3m", warmup="0s"))
    row = summary_row(simulate(loaded, "breaker", 0))
    missing = set(row) - {"configuration", "replication"} - set(known_metrics(loaded))
    assert not missing, f"the probe run of sim/analysis/metrics.py misses {sorted(missing)}"
