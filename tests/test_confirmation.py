"""The confirmation chain and duplicate orders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import simulate
from tests.conftest import MODEL, write_scenario

TRAFFIC = {
    "rate": "10/s",
    "basket": {"constant": 50},
    "patience": {"constant": "2m"},
}


def shop(tmp_path: Path, **notification: Any) -> str:
    model = yaml.safe_load(MODEL.read_text())
    model["stages"]["notification"].update(notification)
    for name in ("in_app", "email", "sms"):
        model["dependencies"][name]["errors"] = {}
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(model))
    return str(path)


def row(
    tmp_path: Path,
    model: str,
    faults: list[dict[str, Any]],
    configuration: dict[str, Any] | None = None,
    **traffic: Any,
) -> dict[str, Any]:
    path = write_scenario(
        tmp_path,
        model=model,
        faults=faults,
        traffic={**TRAFFIC, **traffic},
        configurations={"c": configuration or {}},
        horizon="5m",
    )
    return summary_row(simulate(load_scenario(path), "c", 0))


def test_an_acknowledged_in_app_confirmation_ends_the_chain(tmp_path: Path) -> None:
    r = row(tmp_path, shop(tmp_path, acknowledged="100%"), [])
    assert r["confirmed_in_app"] == r["completed"]
    assert r["calls_email"] == 0 and r["cs_followups"] == 0
    assert float(r["confirmation_p95_s"]) < 5


def test_unacknowledged_confirmations_fall_back_to_email_with_a_receipt(tmp_path: Path) -> None:
    model = shop(tmp_path, acknowledged="0%", receipt_loss=0, receipt_delay={"constant": "30s"})
    r = row(tmp_path, model, [])
    # The few e-mail calls slower than the 5 s timeout go on to SMS.
    assert int(r["confirmed_email"]) + int(r["confirmed_sms"]) == r["completed"]
    assert int(r["confirmed_email"]) > 0.99 * int(r["completed"])
    assert 30 < float(r["confirmation_p95_s"]) < 35  # waited for the receipt


def test_email_outage_falls_back_to_sms_or_customer_service(tmp_path: Path) -> None:
    model = shop(tmp_path, acknowledged="0%")
    down = [{"target": "email", "kind": "outage", "start": 0, "duration": "10m"}]
    chain = row(tmp_path, model, down)
    no_chain = row(tmp_path, model, down, {"notification": {"fallback_chain": False}})
    assert chain["confirmed_sms"] == chain["completed"] - chain["cs_followups"]
    assert int(chain["cs_followups"]) < 0.05 * int(chain["completed"])
    assert no_chain["cs_followups"] == no_chain["completed"]


def test_lost_receipts_wait_the_receipt_timeout_before_the_sms(tmp_path: Path) -> None:
    model = shop(tmp_path, acknowledged="0%", receipt_loss="100%", receipt_timeout="90s")
    r = row(tmp_path, model, [])
    assert r["confirmed_sms"] == r["completed"]
    assert float(r["confirmation_p95_s"]) > 90
    # Shown in-app (unseen), e-mailed (never delivered) and texted: three messages each.
    # (less the few e-mails that timed out before the provider accepted them).
    assert 2.99 * int(r["completed"]) <= int(r["notifications_sent"]) <= 3 * int(r["completed"])


def test_sms_is_retried_with_backoff(tmp_path: Path) -> None:
    model = shop(tmp_path, acknowledged="0%")
    down = [
        {"target": "email", "kind": "outage", "start": 0, "duration": "10m"},
        {"target": "sms", "kind": "outage", "start": 0, "duration": "10m"},
    ]
    r = row(tmp_path, model, down)
    # Default SMS policy: four attempts, 30 s apart and doubling.
    assert int(r["calls_sms"]) >= 4 * int(r["completed"]) * 0.9
    assert r["cs_followups"] == r["completed"]


def test_idempotency_keys_make_resubmissions_free(tmp_path: Path) -> None:
    model = shop(tmp_path, acknowledged="0%")
    down = [
        {"target": "email", "kind": "outage", "start": 0, "duration": "10m"},
        {"target": "sms", "kind": "outage", "start": 0, "duration": "10m"},
    ]
    keyed = row(tmp_path, model, down, {"idempotency_keys": True}, resubmit="50%")
    unkeyed = row(tmp_path, model, down, {"idempotency_keys": False}, resubmit="50%")
    assert int(keyed["duplicate_submissions"]) > 0
    assert keyed["duplicate_orders"] == 0 and keyed["refunds"] == 0
    assert unkeyed["duplicate_orders"] == unkeyed["duplicate_submissions"] > 0
    assert float(unkeyed["refunds"]) == 50 * int(unkeyed["duplicate_orders"])
