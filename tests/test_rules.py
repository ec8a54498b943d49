"""Operational rules acting on error rates, and lifting when the hold ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.config import load_scenario
from sim.engine import RunResult, simulate
from sim.engine.records import COMPLETED
from sim.errors import ConfigError
from tests.conftest import write_scenario

ERRORS = [
    {
        "target": "primary",
        "kind": "error_rate",
        "probability": "60%",
        "start": "1m",
        "duration": "2m",
    }
]


def run(tmp_path: Path, rule: dict[str, Any], configuration: dict[str, Any]) -> RunResult:
    path = write_scenario(
        tmp_path,
        faults=ERRORS,
        configurations={"c": configuration},
        rules=[
            {
                "dependency": "primary",
                "error_rate_above": "30%",
                "window": "20s",
                "hold": "30s",
                **rule,
            }
        ],
    )
    return simulate(load_scenario(path), "c", 0)


def share(result: RunResult, gateway: int, start: float, end: float) -> float:
    done = (
        (result.outcome == COMPLETED) & (result.checkout_end >= start) & (result.checkout_end < end)
    )
    return float(np.count_nonzero(result.gateway[done] == gateway) / max(1, np.count_nonzero(done)))


def test_route_to_sends_payments_to_the_other_gateway_while_errors_last(tmp_path: Path) -> None:
    result = run(tmp_path, {"action": "route_to", "target": "secondary"}, {})
    assert share(result, 1, 90, 170) > 0.8
    assert share(result, 0, 0, 55) > 0.95
    assert share(result, 0, 200, 240) > 0.95  # lifted once the errors are gone
    ons = [t for t, text in result.config_events if text.startswith("rule on")]
    assert ons and 60 < ons[0] < 90


def test_force_open_forces_the_breaker_and_lets_it_close_again(tmp_path: Path) -> None:
    breaker = {"failure_rate_threshold": "90%", "minimum_number_of_calls": 100}
    result = run(
        tmp_path, {"action": "force_open"}, {"payment": {"failover": True, "breaker": breaker}}
    )
    states = [(new) for _, name, _, new in result.transitions if name == "primary"]
    assert "forced_open" in states and states[-1] == "closed"


def test_switch_to_async_queues_orders_while_errors_last(tmp_path: Path) -> None:
    result = run(tmp_path, {"action": "switch_to_async"}, {})
    queued_at = result.checkout_end[result.queued]
    assert queued_at.size > 100 and queued_at.min() > 60


def test_a_rule_on_an_unknown_dependency_is_refused(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path,
        rules=[{"dependency": "primry", "error_rate_above": "30%", "action": "force_open"}],
    )
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.path == "rules[0].dependency" and "primary" in err.value.message
