"""Tuning with Optuna: constraints, Pareto fronts, several scenarios, fresh-seed
re-evaluation, a policy YAML, a shared study storage, and bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.objectives import Constraint, Objective
from sim.app.tune import _aggregate
from sim.cli import app
from sim.config.scenario import Configuration
from sim.errors import ConfigError
from tests.conftest import write_scenario

runner = CliRunner()
THRESHOLD = "payment.breaker.failure_rate_threshold=10:90"
WAIT = "payment.breaker.wait_duration_in_open_state=2s:60s:log"


def tune(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["tune", *args, "--out", str(tmp_path / "r"), "--workers", "2"])
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout + result.stderr


def test_objectives_and_constraints_parse() -> None:
    assert Objective.parse("revenue_lost") == Objective("revenue_lost", "minimize")
    assert Objective.parse("revenue_captured:max").direction == "maximize"
    limit = Constraint.parse("checkout_p99_s<2")
    assert (limit.metric, limit.op, limit.bound) == ("checkout_p99_s", "<", 2.0)
    assert limit.violation(1.5) <= 0 < limit.violation(2.5)
    assert Constraint.parse("completed >= 10").violation(5) > 0
    with pytest.raises(ConfigError):
        Constraint.parse("p99 about 2")


def test_worst_case_aggregation_takes_the_worst_scenario() -> None:
    def ci(value: float) -> pd.DataFrame:
        return pd.DataFrame(
            [{"metric": "revenue_lost", "mean": value, "ci_low": value - 1, "ci_high": value + 1}]
        )

    goals = [Objective("revenue_lost")]
    assert _aggregate([ci(10), ci(30)], "worst", goals, [])["revenue_lost"] == 30
    assert _aggregate([ci(10), ci(30)], "mean", goals, [])["revenue_lost"] == 20


def test_tune_writes_a_policy_re_evaluated_on_fresh_seeds(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, horizon="3m")
    args = [str(path), "--configuration", "breaker", "--param", THRESHOLD, "--param", WAIT]
    args += ["--constraint", "checkout_p99_s<5", "--trials", "3", "--replications", "2"]
    code, output = tune(tmp_path, *args)
    assert code == 0, output
    root = tmp_path / "r" / "tune-tiny"
    assert (root / "study.db").is_file()
    [directory] = [p for p in root.iterdir() if p.is_dir()]
    policy = yaml.safe_load((directory / "policy.yaml").read_text("utf-8"))
    tuned = Configuration.model_validate(policy["tuned"])
    assert tuned.payment.fallback == "secondary" and tuned.payment.breaker is not None
    best = pd.read_csv(directory / "best_trials.csv")
    assert {"revenue_lost", "revenue_lost_ci_low", "revenue_lost_ci_high"} <= set(best.columns)
    fresh = pd.read_csv(directory / "winner_fresh_seeds.csv")
    assert set(fresh["kind"]) == {"interval", "tuned − base"}
    assert set(fresh[fresh["kind"] == "interval"]["replications"]) == {5}
    journal = json.loads((directory / "journal.json").read_text("utf-8"))
    assert journal["seeds"]["fresh"] != journal["seeds"]["search"]

    # The same storage: a second run adds trials to the study instead of starting over.
    code, output = tune(tmp_path, *args)
    assert code == 0, output
    latest = max((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name)
    assert len(pd.read_csv(latest / "trials.csv")) == 6


def test_two_objectives_over_two_scenarios_draw_a_pareto_front(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = write_scenario(tmp_path / "a", horizon="3m", name="first")
    two = write_scenario(tmp_path / "b", horizon="3m", name="second", seed=9)
    code, output = tune(
        tmp_path, str(one), "--scenario", str(two), "--configuration", "breaker",
        "--param", THRESHOLD, "--objective", "revenue_lost", "--objective", "checkout_p99_s",
        "--aggregate", "worst", "--trials", "3", "--replications", "2",
    )  # fmt: skip
    assert code == 0, output
    [directory] = [p for p in (tmp_path / "r" / "tune-first+second").iterdir() if p.is_dir()]
    assert (directory / "pareto.png").is_file()
    fresh = pd.read_csv(directory / "winner_fresh_seeds.csv")
    assert set(fresh["scenario"]) == {"first", "second"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--objective", "revenue"], "unknown metric 'revenue'"),
        (["--constraint", "p99 about 2"], "cannot read"),
        (["--param", "payment.breaker.failur=1:2"], "unknown field 'failur'"),
        (["--aggregate", "median"], "'median' is not one of"),  # a typer enum's message
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    path = write_scenario(tmp_path)
    args = [str(path), "--configuration", "breaker", "--trials", "1"]
    if "--param" not in extra:
        args += ["--param", THRESHOLD]
    code, output = tune(tmp_path, *args, *extra)
    assert code == 2, output
    assert message in output
    assert not (tmp_path / "r").exists()
