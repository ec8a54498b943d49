"""Every shipped scenario loads, runs every configuration and keeps its invariants."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.analysis import summarize, summary_row
from sim.config import load_scenario
from sim.engine import simulate
from tests.test_causes import assert_causes_add_up
from tests.test_metrics import undeclared_columns

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_there_are_at_least_three_scenarios() -> None:
    assert len(SCENARIOS) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_invariants_hold_on_shipped_scenario(path: Path) -> None:
    loaded = load_scenario(path)
    results, rows = [], []
    for configuration in loaded.scenario.configurations:
        result = simulate(loaded, configuration, 0)  # checks per-order invariants
        row = summary_row(result)  # checks the money and the outcome counts again
        assert row["orders"] > 0
        assert row["completed"] > 0
        results.append(result)
        rows.append(row)
    assert_causes_add_up(summarize(results))  # the report shows every lost dollar
    # Every column it makes is a declared metric (hypotheses and --objective accept it).
    assert undeclared_columns(loaded, rows) == set()


@pytest.mark.slow
def test_flagship_scenario_tells_configurations_apart() -> None:
    """The demo's point: failing over keeps revenue that retrying the primary loses."""
    loaded = load_scenario(ROOT / "scenarios" / "flash_sale_gateway_outage.yaml")
    lost = {
        c: summary_row(simulate(loaded, c, 0))["revenue_lost_pct"]
        for c in loaded.scenario.configurations
    }
    assert lost["no-breaker"] > 5 * lost["breaker-failover"]


@pytest.mark.slow
def test_brownout_error_only_breaker_never_trips() -> None:
    """Latency x20 with no errors: a breaker counting errors does nothing, a slow-call
    breaker trips and fails over."""
    loaded = load_scenario(ROOT / "scenarios" / "gateway_brownout.yaml")
    error_only = summary_row(simulate(loaded, "error-breaker", 0))
    slow_call = summary_row(simulate(loaded, "slow-call-breaker", 0))
    assert error_only["breaker_trips"] == 0
    assert slow_call["breaker_trips"] > 0
    assert slow_call["revenue_lost"] < 0.5 * float(error_only["revenue_lost"])


@pytest.mark.slow
def test_slow_propagation_costs_what_breakers_win_back() -> None:
    """The fix reaching nodes over minutes loses more than reaching them at once; a
    slow-call breaker, shared or per node, covers the gap; per-node breakers trip more
    often (each on its own calls) and disagree with each other."""
    loaded = load_scenario(ROOT / "scenarios" / "slow_config_propagation.yaml")
    row = {c: summary_row(simulate(loaded, c, 0)) for c in loaded.scenario.configurations}
    instant, slow = row["instant-change"], row["slow-change"]
    shared, per_node = row["slow-change-shared-breaker"], row["slow-change-per-node-breakers"]
    assert instant["config_disagreement_s"] == 0
    assert slow["config_disagreement_s"] > 60
    assert slow["revenue_lost"] > 1.2 * float(instant["revenue_lost"])
    assert shared["revenue_lost"] < slow["revenue_lost"]
    assert per_node["revenue_lost"] < slow["revenue_lost"]
    assert per_node["breaker_trips"] > shared["breaker_trips"] > 0
    assert per_node["breaker_disagreement_s"] > 0 == shared["breaker_disagreement_s"]
