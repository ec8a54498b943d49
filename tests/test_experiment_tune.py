"""Tuning in three stages (search, selection, fresh-seed confirmation): a policy only on
adopt, the equivalent region on keep-base, constraints, Pareto fronts, several scenarios,
a shared study storage, the runs it may use, and bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.objectives import Constraint, Objective
from sim.app.study import aggregate_intervals, best_trials, spread_out
from sim.cli import app
from sim.config.scenario import Configuration
from sim.errors import ConfigError
from sim.experiment.params import parse_param
from tests.conftest import write_scenario

runner = CliRunner()
THRESHOLD = "payment.breaker.failure_rate_threshold=10:90"
WAIT = "payment.breaker.wait_duration_in_open_state=2s:60s:log"
SMALL = ["--selection-budget", "12", "--finalists", "2", "--fresh-replications", "3"]
BAD_BREAKER = {
    "payment": {
        "timeout": "2s",
        "breaker": {"failure_rate_threshold": "5%", "sliding_window_size": 20,
                    "minimum_number_of_calls": 10, "wait_duration_in_open_state": "60s"},
        "fallback": "secondary",
    }
}  # fmt: skip


def tune(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["tune", *args, "--out", str(tmp_path / "r"), "--workers", "2"])
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout + result.stderr


def only_directory(root: Path) -> Path:
    [directory] = [p for p in root.iterdir() if p.is_dir()]
    return directory


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
    assert aggregate_intervals([ci(10), ci(30)], "worst", goals, [])["revenue_lost"] == 30
    assert aggregate_intervals([ci(10), ci(30)], "mean", goals, [])["revenue_lost"] == 20


def test_finalists_are_distinct_and_spread_over_the_better_half() -> None:
    table = pd.DataFrame(
        {
            "trial": range(8),
            "payment.breaker.failure_rate_threshold": [50, 50, 52, 90, 20, 51, 30, 70],
            "revenue_lost": [1.0, 1.0, 1.1, 1.2, 1.3, 5.0, 6.0, 7.0],
            "feasible": [True] * 8,
        }
    )
    ranked = best_trials(table, [Objective("revenue_lost")], 8)
    assert len(ranked) == 7  # trial 1 repeats trial 0's value
    chosen = spread_out(ranked, [parse_param("payment.breaker.failure_rate_threshold=10:90")], 3)
    values = chosen["payment.breaker.failure_rate_threshold"].tolist()
    assert values[0] == 50  # the best first
    assert set(values[1:]) == {90, 20}  # then the farthest among the better half


@pytest.mark.slow
def test_a_bad_base_is_replaced_by_an_adopted_policy(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, horizon="3m",
                          configurations={"plain": {}, "breaker": BAD_BREAKER})  # fmt: skip
    args = [str(path), "--configuration", "breaker", "--param",
            "payment.breaker.failure_rate_threshold=30:90", "--trials", "4",
            "--indifference", "1%", "--json", *SMALL]  # fmt: skip
    code, output = tune(tmp_path, *args)
    assert code == 0, output
    document = json.loads(output)
    decision = document["decision"]
    assert decision["verdict"] == "adopt"
    assert decision["winner"]["payment.breaker.failure_rate_threshold"] >= 30
    assert decision["difference"]["ci_high"] < -decision["indifference"]["value"]
    directory = Path(document["directory"])
    policy = yaml.safe_load((directory / "policy.yaml").read_text("utf-8"))
    tuned = Configuration.model_validate(policy["tuned"])
    assert tuned.payment.fallback == "secondary" and tuned.payment.breaker is not None
    assert not (directory / "region.yaml").exists()
    runs = document["runs"]
    assert runs["search"] == 4 and runs["selection"] <= 12 and runs["fresh"] == 6
    assert runs["total"] == runs["search"] + runs["selection"] + runs["fresh"]
    fresh = pd.read_csv(directory / "winner_fresh_seeds.csv")
    assert set(fresh["kind"]) == {"interval", "tuned − base"}
    journal = json.loads((directory / "journal.json").read_text("utf-8"))
    assert len({journal["seeds"][k] for k in ("search", "selection", "fresh")}) == 3
    report = (directory / "report.md").read_text("utf-8")
    assert report.startswith("# Tuning breaker") and "**adopt**" in report


@pytest.mark.slow
def test_no_policy_is_written_when_nothing_beats_the_base_by_delta(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, horizon="3m")
    args = [str(path), "--configuration", "breaker", "--param", THRESHOLD, "--param", WAIT,
            "--constraint", "checkout_p99_s<5", "--trials", "3", "--indifference", "500%",
            *SMALL]  # fmt: skip
    code, output = tune(tmp_path, *args)
    assert code == 0, output
    assert "keep-base: no setting is shown to beat the base" in output
    root = tmp_path / "r" / "tune-tiny"
    directory = only_directory(root)
    assert not (directory / "policy.yaml").exists()
    region = yaml.safe_load((directory / "region.yaml").read_text("utf-8"))
    assert region["verdict"] == "keep-base"
    assert set(region["region"]) <= {THRESHOLD.split("=")[0], WAIT.split("=")[0]}
    selection = pd.read_csv(directory / "selection.csv")
    assert "base" in set(selection["candidate"]) and len(selection) <= 3
    assert (directory / "selection.png").is_file()
    decision = json.loads((directory / "decision.json").read_text("utf-8"))
    assert decision["verdict"] == "keep-base" and "region" in decision

    # The same storage: a second run adds trials to the study instead of starting over.
    code, output = tune(tmp_path, *args)
    assert code == 0, output
    latest = max((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name)
    assert len(pd.read_csv(latest / "trials.csv")) == 6


@pytest.mark.slow
def test_two_objectives_over_two_scenarios_draw_a_pareto_front(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = write_scenario(tmp_path / "a", horizon="3m", name="first")
    two = write_scenario(tmp_path / "b", horizon="3m", name="second", seed=9)
    code, output = tune(
        tmp_path, str(one), "--scenario", str(two), "--configuration", "breaker",
        "--param", THRESHOLD, "--objective", "revenue_lost", "--objective", "checkout_p99_s",
        "--aggregate", "worst", "--trials", "3", "--selection-budget", "24", "--finalists",
        "2", "--fresh-replications", "2",
    )  # fmt: skip
    assert code == 0, output
    directory = only_directory(tmp_path / "r" / "tune-first+second")
    assert (directory / "pareto.png").is_file()
    assert "decided on revenue_lost" in (directory / "report.md").read_text("utf-8").lower() or (
        "the decision is made on revenue_lost" in (directory / "report.md").read_text("utf-8")
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--objective", "revenue"], "unknown metric 'revenue'"),
        (["--constraint", "p99 about 2"], "cannot read"),
        (["--param", "payment.breaker.failur=1:2"], "has no setting 'failur'"),
        (["--aggregate", "median"], "'median' is not one of"),  # a typer enum's message
        (["--indifference", "lots"], "cannot read 'lots'"),
        (["--selection-budget", "5"], "cannot give 4 finalists"),
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
