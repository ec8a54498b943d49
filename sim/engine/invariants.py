"""Checks every run makes on itself before anyone reads its numbers."""

from __future__ import annotations

import numpy as np

from sim.engine.records import CENTS, COMPLETED, OUTCOMES, PENDING, RunResult, cents
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
    basket, fee = cents(result.basket), cents(result.fee)  # exact: money is in whole cents
    demanded = int(basket.sum())
    captured = int((basket[completed] - fee[completed]).sum())
    fees = int(fee.sum())
    lost = int(basket[~completed].sum())
    if demanded != captured + fees + lost:
        raise InvariantError(
            f"{where}: revenue demanded {demanded / CENTS:.2f} != captured "
            f"{captured / CENTS:.2f} + fees {fees / CENTS:.2f} + lost and declined "
            f"{lost / CENTS:.2f}"
        )
