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
from array import array
from collections.abc import Callable, Generator
from typing import Any

import numpy as np

from sim.engine.calls import GuardedDependency
from sim.engine.clock import Step
from sim.engine.orders import as_numpy, column
from sim.resilience.outcomes import ANSWERED, SUCCESS

INTERRUPTED = "interrupted"  # the orchestrator crashed: the step's result never reached the log


class SagaLedger:
    """Per order: the event log (last step completed) and what the saga charged, refunded
    and compensated, as typed columns (see ``sim.engine.orders``)."""

    def __init__(self, n: int) -> None:
        self.pending: array[int] = column("b", 0, n)  # recorded; capture, fulfilment to come
        self.captured: array[int] = column("b", 0, n)  # the log says the capture completed
        self.taken: array[int] = column("b", 0, n)  # charges the gateway took, logged or not
        self.compensated: array[int] = column("b", 0, n)
        self.double_charges: array[int] = column("b", 0, n)  # beyond the one it needed
        self.without_order: array[int] = column("b", 0, n)  # charges with no order behind
        self.refunded: array[float] = column("d", 0.0, n)

    def columns(self) -> dict[str, Any]:
        """The RunResult columns of the saga (numpy arrays), sharing this ledger's memory."""
        return {
            "compensated": as_numpy(self.compensated, np.bool_),
            "double_charges": as_numpy(self.double_charges, np.int8),
            "charged_without_order": as_numpy(self.without_order, np.int8),
            "refunded": as_numpy(self.refunded, np.float64),
        }


class _Charges(list[int]):
    """Where the capture call notes work the gateway finished after its caller gave up; each
    note is a charge, accounted the moment it lands (hedged losers land late)."""

    def __init__(self, on_charge: Callable[[], None]) -> None:
        super().__init__()
        self._on_charge = on_charge

    def append(self, value: int) -> None:
        super().append(value)
        self._on_charge()


def _charge(ledger: SagaLedger, i: int, basket: float, idempotency: bool) -> None:
    """One more capture of order ``i`` went through at the gateway."""
    if idempotency:
        if ledger.taken[i] >= 1:
            return  # the gateway recognises the key: no second charge
        ledger.taken[i] = 1
    else:
        ledger.taken[i] += 1
    if ledger.captured[i] and ledger.taken[i] > 1:
        ledger.double_charges[i] += 1
        ledger.refunded[i] += basket  # refunded when the customer complains
    elif ledger.compensated[i] and not ledger.captured[i]:
        if idempotency:
            ledger.refunded[i] += basket  # found by its key, refunded
        else:
            ledger.without_order[i] += 1  # nobody knows the gateway took the money


def run_saga(
    ledger: SagaLedger,
    i: int,
    basket: float,
    capture: GuardedDependency,
    fulfillment: GuardedDependency,
    idempotency: bool,
    crashed: Callable[[], bool] = lambda: False,
    hop: Callable[[], float] | None = None,
) -> Generator[Step, Any, str | None]:
    """None when the saga completed; ``interrupted`` when the orchestrator crashed during a
    step (run it again after recovery: it resumes from the log); else the failed step and
    outcome, e.g. ``capture_timeout``, after every compensation has run.

    ``hop``: choreography; each step starts when the previous step's event reaches its
    service (order recorded -> payment, captured -> fulfilment, fulfilled or failed -> the
    order service), one event delivery each."""
    ledger.pending[i] = False
    if hop is not None:
        yield hop()  # "order recorded" reaches the payment service
    if not ledger.captured[i]:
        charges = _Charges(lambda: _charge(ledger, i, basket, idempotency))
        outcome = yield from capture.call(math.inf, charges)
        captured = outcome in ANSWERED  # a capture is never declined
        if captured:
            _charge(ledger, i, basket, idempotency)
        if crashed():
            return INTERRUPTED  # whatever the gateway did, the log never heard of it
        if not captured:
            ledger.compensated[i] = True
            if idempotency:
                ledger.refunded[i] += ledger.taken[i] * basket  # found by its key, refunded
            else:
                ledger.without_order[i] = ledger.taken[i]  # nobody knows it was taken
            if hop is not None:
                yield hop()  # "payment failed" reaches the order service
            return f"capture_{outcome}"
        ledger.captured[i] = True
        if ledger.taken[i] > 1:
            ledger.double_charges[i] = ledger.taken[i] - 1
            ledger.refunded[i] += (ledger.taken[i] - 1) * basket  # refunded on complaint
        if hop is not None:
            yield hop()  # "payment captured" reaches fulfilment
    outcome = yield from fulfillment.call()
    if crashed():
        return INTERRUPTED
    if outcome != SUCCESS:
        ledger.compensated[i] = True
        ledger.refunded[i] += basket
    if hop is not None:
        yield hop()  # "fulfilled" or "fulfilment failed" reaches the order service
    return None if outcome == SUCCESS else f"fulfillment_{outcome}"
