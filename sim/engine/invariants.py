"""Checks every run makes on itself before anyone reads its numbers."""

from __future__ import annotations

import numpy as np

from sim.engine.records import COMPLETED, OUTCOMES, PENDING, RunResult
from sim.errors import InvariantError


def check_run(result: RunResult) -> None:
    """Each order has exactly one outcome, and the money adds up, or InvariantError."""
    where = f"{result.scenario} / {result.configuration} / replication {result.replication}"
    outcome = result.outcome
    if np.any(outcome == PENDING):
        missing = int(np.count_nonzero(outcome == PENDING))
        raise InvariantError(f"{where}: {missing} orders ended with no outcome")
    if np.any((outcome < 0) | (outcome >= len(OUTCOMES))):
        raise InvariantError(f"{where}: an order has an unknown outcome code")
    counts = np.bincount(outcome, minlength=len(OUTCOMES))
    if int(counts.sum()) != result.orders:
        raise InvariantError(
            f"{where}: outcomes {counts.tolist()} do not add up to {result.orders}"
        )
    completed = outcome == COMPLETED
    if np.any(result.cause[completed] != -1) or np.any(result.cause[~completed] < 0):
        raise InvariantError(f"{where}: a completed order has a cause or a lost one has none")
    if np.any(result.fee[~completed] != 0):
        raise InvariantError(f"{where}: a fee was charged on an order that did not complete")
    if np.any(result.gateway[completed] < 0):
        raise InvariantError(f"{where}: a completed order has no gateway")
    if (
        result.idempotency
        and result.crash_recovery
        and (np.any(result.double_charges != 0) or np.any(result.charged_without_order != 0))
    ):
        raise InvariantError(
            f"{where}: with idempotency keys a customer was charged twice or without an order"
        )
    demanded = float(result.basket.sum())
    captured = float((result.basket[completed] - result.fee[completed]).sum())
    fees = float(result.fee.sum())
    lost = float(result.basket[~completed].sum())
    if not np.isclose(demanded, captured + fees + lost, rtol=1e-9, atol=1e-6):
        raise InvariantError(
            f"{where}: revenue demanded {demanded:.2f} != captured {captured:.2f} "
            f"+ fees {fees:.2f} + lost and declined {lost:.2f}"
        )
