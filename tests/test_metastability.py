"""The known result: with unbudgeted retries and a server that keeps working for callers who
left, goodput stays collapsed after the trigger; with a retry budget or a breaker it recovers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import simulate

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "retry_storm.yaml"


# Every test reads one module fixture that runs a retry storm in three configurations.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows() -> dict[str, dict[str, float | int | str]]:
    loaded = load_scenario(SCENARIO)
    return {c: summary_row(simulate(loaded, c, 0)) for c in loaded.scenario.configurations}


def test_unbudgeted_retries_stay_collapsed_after_the_trigger(rows: dict[str, dict]) -> None:
    storm = rows["unbudgeted-retries"]
    assert storm["stayed_degraded"] == 1.0
    assert math.isnan(float(storm["goodput_recovery_s"]))
    assert float(storm["retry_amplification"]) > 2.5


@pytest.mark.parametrize("configuration", ["retry-budget", "breaker", "no-retries"])
def test_a_budget_or_a_breaker_recovers(rows: dict[str, dict], configuration: str) -> None:
    row = rows[configuration]
    assert row["stayed_degraded"] == 0.0
    assert float(row["goodput_recovery_s"]) <= 300
    assert float(row["revenue_lost_pct"]) < 0.5 * float(
        rows["unbudgeted-retries"]["revenue_lost_pct"]
    )


def test_the_trigger_alone_is_not_the_problem(rows: dict[str, dict]) -> None:
    """The same one-minute capacity drop without retries costs a fraction of the storm."""
    assert float(rows["no-retries"]["revenue_lost_pct"]) < 25
