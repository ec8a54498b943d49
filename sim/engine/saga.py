"""The orchestrated saga after an order is recorded: capture the payment, then hand the
order to fulfilment. A step that fails after its retries triggers the compensations of
the steps before it: refund what was captured, void the authorisation, cancel the record,
release the stock.

Idempotency keys make retried steps safe. Without them, a capture that timed out at the
caller but went through at the gateway, retried, charges twice; and a capture the
orchestrator believes failed cannot be found and refunded: the customer is charged
without an order.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from sim.engine.calls import GuardedDependency
from sim.engine.dependency import DECLINED, SUCCESS


class SagaLedger:
    """Per order: what the saga charged, refunded and compensated."""

    def __init__(self, n: int) -> None:
        self.pending = [False] * n  # recorded, capture and fulfilment still to come
        self.compensated = [False] * n
        self.double_charges = [0] * n  # extra charges beyond the one the order needed
        self.without_order = [0] * n  # charges left standing with no order behind them
        self.refunded = [0.0] * n


def run_saga(
    ledger: SagaLedger,
    i: int,
    basket: float,
    capture: GuardedDependency,
    fulfillment: GuardedDependency,
    idempotency: bool,
) -> Generator[simpy.Event, Any, str | None]:
    """None when the saga completed; else the failed step and outcome, e.g.
    ``capture_timeout``, after every compensation has run."""
    ledger.pending[i] = False
    ghosts: list[int] = []
    outcome = yield from capture.call(math.inf, ghosts)
    captured = outcome is SUCCESS or outcome is DECLINED  # a capture is never declined
    charges = int(captured) + len(ghosts)
    if idempotency:
        charges = min(charges, 1)  # the gateway recognises a retried capture
    if not captured:
        ledger.compensated[i] = True
        if idempotency:
            ledger.refunded[i] += charges * basket  # found by its key, refunded
        else:
            ledger.without_order[i] = charges  # nobody knows the gateway took the money
        return f"capture_{outcome}"
    if charges > 1:
        ledger.double_charges[i] = charges - 1
        ledger.refunded[i] += (charges - 1) * basket  # refunded when the customer complains
    outcome = yield from fulfillment.call()
    if outcome is not SUCCESS:
        ledger.compensated[i] = True
        ledger.refunded[i] += basket
        return f"fulfillment_{outcome}"
    return None
