"""Sagas: every order completes or is fully compensated; idempotency keys prevent double
charges and charges without an order."""

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

FLAKY = [
    {
        "target": "fulfillment",
        "kind": "error_rate",
        "probability": "20%",
        "start": 0,
        "duration": "10m",
    },
]


def run(tmp_path: Path, configuration: dict[str, Any], faults: list[dict[str, Any]]) -> RunResult:
    model = yaml.safe_load(MODEL.read_text())
    model["catalogue"] = {"products": 20, "popularity": 0.5, "stock": {"constant": 1000}}
    model_path = tmp_path / "shop.yaml"
    model_path.write_text(yaml.safe_dump(model))
    path = write_scenario(
        tmp_path, model=str(model_path), faults=faults, configurations={"c": configuration}
    )
    return simulate(load_scenario(path), "c", 0)


SAGA = {
    "processing": {"workflow": "saga"},
    "payment": {"timeout": "700ms", "retry": {"max_attempts": 3, "wait": "100ms"}},
}


def test_every_saga_completes_or_is_fully_compensated(tmp_path: Path) -> None:
    result = run(tmp_path, SAGA, FLAKY)
    failed_late = np.isin(
        np.asarray([*result.cause_names, ""], dtype=object)[result.cause],
        [n for n in result.cause_names if n.startswith(("capture_", "fulfillment_"))],
    )
    assert failed_late.any()
    assert np.all(result.compensated[failed_late])
    assert np.all(result.outcome[failed_late] == FAILED)
    assert np.all(result.fee[failed_late] == 0)
    assert np.all(result.compensated[result.outcome == COMPLETED] == False)  # noqa: E712
    # Every unit a compensated order held went back on the shelf.
    completed = np.count_nonzero(result.outcome == COMPLETED)
    assert result.samples["stock_units"][-1] == 20 * 1000 - completed
    row = summary_row(result)
    assert int(row["compensations"]) == int(np.count_nonzero(failed_late & (result.arrival >= 30)))
    assert float(row["refunds"]) > 0  # fulfilment failures refund the capture


def test_idempotency_keys_prevent_double_charges(tmp_path: Path) -> None:
    keyed = summary_row(run(tmp_path, SAGA, []))
    unkeyed = summary_row(run(tmp_path, {**SAGA, "idempotency_keys": False}, []))
    assert keyed["double_charges"] == 0 and keyed["charged_without_order"] == 0
    # Captures that timed out at checkout but went through at the gateway, then retried.
    assert int(unkeyed["double_charges"]) > 0
    assert int(unkeyed["charged_without_order"]) >= 0


def test_simple_workflow_has_no_saga_bookkeeping(tmp_path: Path) -> None:
    row = summary_row(run(tmp_path, {}, FLAKY))
    assert row["compensations"] == 0 and row["double_charges"] == 0
