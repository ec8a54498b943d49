"""Crash recovery: interrupted orders are resumed or compensated from the event log, and a
crash at any step never leaves a customer charged without an order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import RunResult, simulate
from sim.engine.records import COMPLETED
from sim.errors import ConfigError
from tests.conftest import MODEL, write_scenario

SAGA = {
    "processing": {"workflow": "saga"},
    "payment": {"timeout": "700ms", "retry": {"max_attempts": 3, "wait": "100ms"}},
}


def run(tmp_path: Path, crash: dict[str, Any], configuration: dict[str, Any]) -> RunResult:
    model = yaml.safe_load(MODEL.read_text())
    model["catalogue"] = {"products": 10, "popularity": 0.5, "stock": {"constant": 2000}}
    model_path = tmp_path / "shop.yaml"
    model_path.write_text(yaml.safe_dump(model))
    path = write_scenario(
        tmp_path,
        model=str(model_path),
        faults=[{"kind": "crash", **crash}],
        configurations={"c": configuration},
    )
    return simulate(load_scenario(path), "c", 0)


def test_a_checkout_node_crash_is_recovered_from_the_log(tmp_path: Path) -> None:
    crash = {"target": "checkout", "node": 1, "start": "1m", "duration": "30s"}
    result = run(tmp_path, crash, SAGA)
    row = summary_row(result)
    assert int(row["interrupted"]) > 0
    assert int(row["resumed"]) + int(row["compensated_after_crash"]) == int(row["interrupted"])
    assert 0 <= float(row["recovery_time_s"]) < 60
    # Nothing stuck: every unit an unfinished order held is back on the shelf.
    completed = np.count_nonzero(result.outcome == COMPLETED)
    assert result.samples["stock_units"][-1] == 10 * 2000 - completed
    assert "stuck_after_crash" not in result.cause_names


def test_without_recovery_interrupted_orders_stay_stuck(tmp_path: Path) -> None:
    crash = {"target": "checkout", "node": 1, "start": "1m", "duration": "30s"}
    config = {**SAGA, "processing": {"workflow": "saga", "crash_recovery": False}}
    result = run(tmp_path, crash, config)
    stuck = result.cause_names.index("stuck_after_crash")
    assert np.count_nonzero(result.cause == stuck) > 0
    completed = np.count_nonzero(result.outcome == COMPLETED)
    assert result.samples["stock_units"][-1] < 10 * 2000 - completed  # units held forever


@pytest.mark.slow
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=st.floats(min_value=40, max_value=200), keys=st.booleans())
def test_an_orchestrator_crash_at_any_moment_never_charges_without_an_order(
    tmp_path: Path, start: float, keys: bool
) -> None:
    """Wherever in the saga the crash lands (before, during or after a capture, or during
    the hand-off to fulfilment), recovery with idempotency keys leaves no charge without an
    order and no double charge; without keys, the double charges are counted."""
    crash = {"target": "orchestrator", "start": start, "duration": "20s"}
    result = run(tmp_path, crash, {**SAGA, "idempotency_keys": keys})  # invariants checked
    row = summary_row(result)
    if keys:
        assert row["charged_without_order"] == 0 and row["double_charges"] == 0
    assert int(row["interrupted"]) > 0
    assert "stuck_after_crash" not in result.cause_names


def test_crash_targets_are_checked(tmp_path: Path) -> None:
    bad = write_scenario(
        tmp_path,
        faults=[
            {"kind": "crash", "target": "checkout", "node": 9, "start": "1m", "duration": "10s"}
        ],
    )
    with pytest.raises(ConfigError) as err:
        load_scenario(bad)
    assert err.value.path == "faults[0].node"


def test_a_restarted_node_forgets_its_own_breakers(tmp_path: Path) -> None:
    """Per-node breakers live in the node's memory: a node restarted while the primary is
    still down comes back with its breaker closed and must trip it again; the other nodes'
    breakers are untouched."""
    breaker = {
        "failure_rate_threshold": "50%",
        "sliding_window_size": 20,
        "minimum_number_of_calls": 10,
        "wait_duration_in_open_state": "5m",
    }
    path = write_scenario(
        tmp_path,
        faults=[
            {"target": "primary", "kind": "outage", "start": "1m", "duration": "3m"},
            {"kind": "crash", "target": "checkout", "node": 1, "start": "2m", "duration": "20s"},
        ],
        configurations={
            "per-node": {
                "breaker_state": {"scope": "per_node"},
                "payment": {"timeout": "2s", "breaker": breaker, "fallback": "secondary"},
            }
        },
    )
    result = simulate(load_scenario(path), "per-node", 0)
    restart = 140.0
    node1 = [(t, old, new) for t, name, old, new in result.transitions if name == "primary@1"]
    assert (restart, "open", "closed") in node1  # forgotten at the restart
    assert any(t > restart and new == "open" for t, _, new in node1)  # and tripped again
    others = [
        (t, new)
        for t, name, _, new in result.transitions
        if name in ("primary@0", "primary@2", "primary@3") and 60 < t < 240
    ]
    assert others and all(new == "open" for _, new in others)  # opened once, held 5 min
