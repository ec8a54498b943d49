"""Choreographed sagas: the same steps as the orchestrated saga, each service reacting to
the previous one's event. Every saga still completes or is fully compensated; there is no
orchestrator to crash; each event delivery shows in the final confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import RunResult, simulate
from sim.engine.records import COMPLETED, FAILED
from tests.conftest import MODEL, write_scenario

PAYMENT = {"timeout": "700ms", "retry": {"max_attempts": 3, "wait": "100ms"}}
FLAKY = {"target": "fulfillment", "kind": "error_rate", "probability": "20%", "start": 0,
         "duration": "10m"}  # fmt: skip


def run(tmp_path: Path, configurations: dict[str, Any], faults: list[Any]) -> dict[str, RunResult]:
    model = yaml.safe_load(MODEL.read_text())
    model["catalogue"] = {"products": 20, "popularity": 0.5, "stock": {"constant": 1000}}
    model_path = tmp_path / "shop.yaml"
    model_path.write_text(yaml.safe_dump(model))
    path = write_scenario(
        tmp_path, model=str(model_path), faults=faults, configurations=configurations
    )
    loaded = load_scenario(path)
    return {name: simulate(loaded, name, 0) for name in configurations}


def test_every_choreographed_saga_completes_or_is_fully_compensated(tmp_path: Path) -> None:
    processing = {"workflow": "choreography", "event_delay": {"constant": "200ms"}}
    result = run(tmp_path, {"c": {"processing": processing, "payment": PAYMENT}}, [FLAKY])["c"]
    names = np.asarray([*result.cause_names, ""], dtype=object)[result.cause]
    late = np.isin(names, [n for n in result.cause_names if n.startswith("fulfillment_")])
    assert late.any()
    assert np.all(result.compensated[late]) and np.all(result.outcome[late] == FAILED)
    assert np.all(result.fee[late] == 0)
    assert not result.compensated[result.outcome == COMPLETED].any()
    completed = np.count_nonzero(result.outcome == COMPLETED)
    assert result.samples["stock_units"][-1] == 20 * 1000 - completed  # units given back
    row = summary_row(result)
    assert row["charged_without_order"] == 0 and row["double_charges"] == 0
    assert row["compensations"] == np.count_nonzero(result.compensated[result.arrival >= 30])


def test_each_event_delivery_delays_the_final_confirmation(tmp_path: Path) -> None:
    """Three deliveries on the way to a completed order (recorded -> payment, captured ->
    fulfilment, fulfilled -> order service): with 2 s each, 6 s later than orchestrated."""
    slow = {"workflow": "choreography", "event_delay": {"constant": "2s"}}
    results = run(
        tmp_path,
        {
            "orchestrated": {"processing": {"workflow": "saga"}, "payment": PAYMENT},
            "choreographed": {"processing": slow, "payment": PAYMENT},
        },
        [],
    )
    wait = {}
    for name, r in results.items():
        done = r.outcome == COMPLETED
        wait[name] = (r.final_at - r.checkout_end)[done]
        assert done.sum() > 1000
    assert wait["choreographed"].min() >= 6.0 - 1e-9
    assert np.median(wait["choreographed"]) - np.median(wait["orchestrated"]) >= 5.5


def test_an_orchestrator_crash_does_not_stop_a_choreography(tmp_path: Path) -> None:
    crash = {"kind": "crash", "target": "orchestrator", "start": "1m", "duration": "1m"}
    results = run(
        tmp_path,
        {
            "orchestrated": {"processing": {"workflow": "saga"}, "payment": PAYMENT},
            "choreographed": {"processing": {"workflow": "choreography"}, "payment": PAYMENT},
        },
        [crash],
    )
    assert summary_row(results["orchestrated"])["interrupted"] > 0
    row = summary_row(results["choreographed"])
    assert row["interrupted"] == 0 and row["charged_without_order"] == 0
    # No saga waited for the orchestrator: final confirmations keep up during the crash.
    r = results["choreographed"]
    during = (r.outcome == COMPLETED) & (r.checkout_end > 70) & (r.checkout_end < 110)
    assert during.any() and np.all(r.final_at[during] - r.checkout_end[during] < 10)
