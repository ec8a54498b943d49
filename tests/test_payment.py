"""Payment orchestration: routing strategies, failover, slow start, fees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import RunResult, simulate
from sim.engine.records import COMPLETED
from tests.conftest import write_scenario

BREAKER = {
    "failure_rate_threshold": "50%",
    "sliding_window_size": 20,
    "minimum_number_of_calls": 10,
    "wait_duration_in_open_state": "10s",
    "permitted_number_of_calls_in_half_open_state": 3,
}


def run(
    tmp_path: Path, payment: dict[str, Any], faults: list[dict[str, Any]], **kw: Any
) -> RunResult:
    path = write_scenario(tmp_path, faults=faults, configurations={"c": {"payment": payment}}, **kw)
    return simulate(load_scenario(path), "c", 0)


def share(result: RunResult, gateway: int, start: float, end: float) -> float:
    """Share of orders completed in [start, end) that the gateway captured."""
    done = result.outcome == COMPLETED
    when = result.checkout_end
    window = done & (when >= start) & (when < end)
    return float(
        np.count_nonzero(result.gateway[window] == gateway) / max(1, np.count_nonzero(window))
    )


def test_weighted_routing_splits_traffic_by_weight(tmp_path: Path) -> None:
    result = run(tmp_path, {"routing": "weighted", "weights": {"primary": 70, "secondary": 30}}, [])
    assert abs(share(result, 0, 0, 240) - 0.7) < 0.04


def test_failover_follows_priority_and_costs_the_secondary_fees(tmp_path: Path) -> None:
    outage = [{"target": "primary", "kind": "outage", "start": "1m", "duration": "2m"}]
    plain = summary_row(run(tmp_path, {"failover": False}, outage))
    failover = run(tmp_path, {"failover": True, "breaker": BREAKER}, outage)
    row = summary_row(failover)
    assert share(failover, 1, 70, 180) > 0.95  # the secondary carries the outage
    assert share(failover, 0, 0, 60) > 0.95
    assert int(row["failovers"]) > 0 and int(plain["failovers"]) == 0
    assert float(row["revenue_lost"]) < 0.3 * float(plain["revenue_lost"])
    fee_per_order = float(row["fees"]) / int(row["completed"])
    assert fee_per_order > float(plain["fees"]) / int(plain["completed"])  # dearer secondary


def test_least_outstanding_avoids_the_slow_gateway(tmp_path: Path) -> None:
    slow = [
        {"target": "primary", "kind": "latency", "multiplier": 10, "start": 0, "duration": "4m"}
    ]
    result = run(tmp_path, {"routing": "least_outstanding", "failover": True}, slow)
    assert share(result, 1, 60, 240) > 0.7


def test_health_routing_moves_away_from_a_failing_gateway(tmp_path: Path) -> None:
    errors = [
        {
            "target": "primary",
            "kind": "error_rate",
            "probability": "80%",
            "start": "1m",
            "duration": "3m",
        }
    ]
    result = run(tmp_path, {"routing": "health", "failover": True}, errors)
    before, during = share(result, 0, 0, 60), share(result, 0, 120, 240)
    assert during < before - 0.2


def test_slow_start_gives_traffic_back_gradually(tmp_path: Path) -> None:
    """After the primary's breaker closes, its share climbs over the slow-start window
    instead of jumping back to everything at once."""
    outage = [{"target": "primary", "kind": "outage", "start": "1m", "duration": "1m"}]
    common = {"failover": True, "breaker": BREAKER}
    ramped = run(
        tmp_path,
        {**common, "slow_start": {"window": "60s", "min_weight": "5%"}},
        outage,
        horizon="6m",
    )
    sudden = run(tmp_path, common, outage, horizon="6m")
    closed = [
        t for t, name, old, new in ramped.transitions if name == "primary" and new == "closed"
    ]
    assert closed
    t0 = closed[-1]
    thirds = [share(ramped, 0, t0 + k * 20, t0 + (k + 1) * 20) for k in range(3)]
    assert thirds[0] < thirds[1] < thirds[2]
    assert thirds[0] < 0.5
    t1 = [t for t, name, _, new in sudden.transitions if name == "primary" and new == "closed"][-1]
    assert share(sudden, 0, t1, t1 + 20) > 0.9
