"""The report shows what checkout nodes did: the run-time changes and how they reached the
nodes, the mechanism table with the disagreement columns, and the rollout figure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.app.run import RunOutput, run_scenario
from sim.config import load_scenario
from sim.report.tables import mechanisms, run_time_changes
from tests.conftest import write_scenario

BREAKER = {
    "failure_rate_threshold": "50%",
    "sliding_window_size": 20,
    "minimum_number_of_calls": 10,
    "wait_duration_in_open_state": "10s",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunOutput:
    root = tmp_path_factory.mktemp("rollout")
    scenario = write_scenario(
        root,
        name="tiny-rollout",
        replications=1,
        config_changes=[
            {
                "at": "90s",
                "until": "3m",
                "configurations": ["slow"],
                "propagation": {"constant": "40s"},
                "set": {"payment.timeout": "1s"},
            }
        ],
        configurations={
            "plain": {"payment": {"timeout": "2s", "breaker": BREAKER, "fallback": "secondary"}},
            "slow": {
                "breaker_state": {"scope": "per_node"},
                "payment": {"timeout": "2s", "breaker": BREAKER, "fallback": "secondary"},
            },
        },
    )
    return run_scenario(scenario, out=root / "reports", workers=1)


@pytest.mark.slow
def test_report_lists_the_change_and_how_it_reaches_the_nodes(run: RunOutput) -> None:
    text = (run.directory / "report.md").read_text("utf-8")
    assert "## Configuration changes and rules at run time" in text
    row = "| at 90s until 3m | slow | set payment.timeout=1s | each node after its own delay,"
    assert row + " mean 40s |" in text


def test_report_shows_node_columns_only_for_the_mechanisms_used(run: RunOutput) -> None:
    text = (run.directory / "report.md").read_text("utf-8")
    section = text.split("## Resilience mechanisms")[1].split("\n## ")[0]
    assert "node breakers disagreed (s)" in section
    assert "nodes ran different configs (s)" in section
    assert "queued" not in section  # no asynchronous capture in this scenario
    html = (run.directory / "report.html").read_text("utf-8")
    assert "node breakers disagreed (s)" in html


def test_rollout_figure_is_drawn_and_constant_delay_means_no_disagreement(
    run: RunOutput,
) -> None:
    assert (run.directory / "rollout.png").is_file()
    assert "rollout.png" in (run.directory / "report.md").read_text("utf-8")
    summary = pd.read_csv(run.directory / "summary.csv").set_index("configuration")
    # A constant delay brings every node the change at the same instant: nothing to disagree
    # on, but the change took 40 s to get there.
    assert summary.loc["slow", "config_disagreement_s"] == 0
    assert summary.loc["slow", "config_propagation_max_s"] == pytest.approx(40.0)
    assert summary.loc["slow", "breaker_disagreement_s"] > 0
    assert summary.loc["plain", "breaker_disagreement_s"] == 0
    timeline = run.data.timeline
    slow = timeline[timeline["configuration"] == "slow"].set_index("second")
    assert slow.loc[100, "nodes_on_latest_config"] == 0  # issued at 90 s, arrives at 130 s
    assert slow.loc[140, "nodes_on_latest_config"] == 4


def test_tables_leave_out_what_no_configuration_used(tmp_path: Path) -> None:
    ci = pd.DataFrame(
        {
            "configuration": ["a", "a", "b", "b"],
            "metric": ["final_confirmation_p95_s", "queued", "final_confirmation_p95_s", "queued"],
            "mean": [12.0, 0.0, 14.0, 0.0],
            "ci_low": [11.0, 0.0, 13.0, 0.0],
            "ci_high": [13.0, 0.0, 15.0, 0.0],
        }
    )
    assert mechanisms(ci) is None  # final confirmation alone does not mean async was used
    ci.loc[3, "mean"] = 5.0
    used = mechanisms(ci)
    assert used is not None
    header, rows = used
    assert "queued" in header and "final confirmation p95 (s)" in header
    assert "nodes ran different configs s" not in header
    assert rows[1][header.index("queued")] == "5"
    assert run_time_changes(load_scenario(write_scenario(tmp_path)).scenario) is None
