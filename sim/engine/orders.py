"""The state of every order of a run: one table of typed columns, and per-stage statistics.

Columns are ``array.array`` buffers allocated once from the arrival count (a byte or eight
per order, no Python object per value), indexed by order id on the hot path and handed to
``RunResult`` as numpy arrays without a copy.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

import numpy as np

from sim.engine.records import ABANDONED, COMPLETED, FAILED, PENDING
from sim.resilience.outcomes import ABANDONED as CALL_ABANDONED

STAGES = ("cart", "inventory", "payment", "order_record", "fulfillment", "notification")
NOT_COMPLETED = -2  # confirmed_by of an order that did not complete (yet)
NO_CHANNEL = -1  # confirmed_by: no channel confirmed, customer-service follow-up
INT32 = next(code for code in "il" if array(code).itemsize == 4)  # C int is 4 bytes nearly always

# The RunResult columns this table fills, with their numpy dtypes; bool columns are kept
# as int8 0/1 and viewed as bool.
COLUMNS: dict[str, type] = {
    "outcome": np.int8,
    "cause": np.int16,
    "checkout_end": np.float64,
    "gateway": np.int8,
    "fee": np.float64,
    "confirmed_by": np.int8,
    "confirmed_at": np.float64,
    "notifications_sent": np.int8,
    "duplicate": np.int8,
    "queued": np.bool_,
    "interrupted": np.bool_,
    "resumed": np.bool_,
    "compensated_after_crash": np.bool_,
    "recovered_at": np.float64,
    "restarted_at": np.float64,
    "final_at": np.float64,
    "fulfilled": np.bool_,
    "failed_over": np.bool_,
    "product": np.int32,
    "stock_flag": np.int8,
}


def column(typecode: str, value: Any, n: int) -> array[Any]:
    """``n`` copies of ``value`` in a typed buffer."""
    return array(typecode, [value]) * n


def floats(values: np.ndarray) -> array[float]:
    """A numpy array as a buffer of doubles, for item access at Python speed."""
    return array("d", values.astype(np.float64).tobytes())


def as_numpy(values: array[Any], dtype: type) -> np.ndarray:
    """A typed buffer as a numpy array of ``dtype``, sharing its memory."""
    if dtype is np.bool_:
        return np.frombuffer(values, dtype=np.int8).view(np.bool_)
    return np.frombuffer(values, dtype=dtype)


class StageStats:
    """Entries into one stage, exits from it and the total time spent in it; ``inside``,
    the orders in it now, is the difference: what the monitor samples and Little's law
    checks. The order process updates the attributes in place (a method call per entry
    and exit cost 2.5 % of a run; an entry is one increment)."""

    __slots__ = ("entries", "exits", "time")

    def __init__(self) -> None:
        self.entries = 0
        self.exits = 0
        self.time = 0.0

    @property
    def inside(self) -> int:
        return self.entries - self.exits


class Stages:
    """One ``StageStats`` per pipeline stage (STAGES), as attributes for the hot path."""

    __slots__ = STAGES

    def __init__(self) -> None:
        self.cart = StageStats()
        self.inventory = StageStats()
        self.payment = StageStats()
        self.order_record = StageStats()
        self.fulfillment = StageStats()
        self.notification = StageStats()

    def items(self) -> list[tuple[str, StageStats]]:
        return [(stage, getattr(self, stage)) for stage in STAGES]


class OrderTable:
    """Per order (index = order id, in arrival order): the customer's inputs, how the order
    went, and the engine's own bookkeeping; plus the cause names their codes index."""

    def __init__(
        self, arrival: np.ndarray, basket: np.ndarray, patience: np.ndarray, product: np.ndarray
    ) -> None:
        n = arrival.size
        self.size = n
        self.active = 0  # orders in flight: checkout, queued for capture, saga, confirmation
        self.cause_codes: dict[str, int] = {}
        # The customer, and the engine's own bookkeeping.
        self.arrival = floats(arrival)
        self.basket = floats(basket)
        self.patience = floats(patience)
        self.cancel_delay: array[float] = column("d", math.inf, n)  # after acceptance
        self.cancel_at: array[float] = column("d", math.inf, n)
        self.node_of: array[int] = column(INT32, 0, n)  # the node whose stack charged it
        # How each order went (COLUMNS).
        self.outcome: array[int] = column("b", PENDING, n)
        self.cause: array[int] = column("h", -1, n)  # index into cause_codes; -1 completed
        self.checkout_end: array[float] = column("d", math.nan, n)
        self.gateway: array[int] = column("b", -1, n)
        self.fee: array[float] = column("d", 0.0, n)
        self.confirmed_by: array[int] = column("b", NOT_COMPLETED, n)
        self.confirmed_at: array[float] = column("d", math.nan, n)
        self.notifications_sent: array[int] = column("b", 0, n)
        self.duplicate: array[int] = column("b", 0, n)  # 1 recognised, 2 charged twice
        self.queued: array[int] = column("b", 0, n)
        self.interrupted: array[int] = column("b", 0, n)
        self.resumed: array[int] = column("b", 0, n)
        self.compensated_after_crash: array[int] = column("b", 0, n)
        self.recovered_at: array[float] = column("d", math.nan, n)  # recovery settled it
        self.restarted_at: array[float] = column("d", math.nan, n)  # its site came back
        self.final_at: array[float] = column("d", math.nan, n)  # definitively confirmed
        self.fulfilled: array[int] = column("b", 0, n)
        self.failed_over: array[int] = column("b", 0, n)
        self.product: array[int] = array(INT32, product.astype(np.int32).tobytes())
        self.stock_flag: array[int] = column("b", 0, n)  # see Inventory.reserve

    def cause_code(self, name: str) -> int:
        """Small integer code of a cause name, allocated on first use."""
        code = self.cause_codes.get(name)
        if code is None:
            code = self.cause_codes[name] = len(self.cause_codes)
        return code

    def end(self, i: int, outcome: int, cause: str) -> None:
        """Order ``i`` ends other than completed: its outcome and why."""
        self.outcome[i] = outcome
        self.cause[i] = self.cause_code(cause)

    def lost(self, i: int, stage: str, call: str) -> None:
        """Order ``i`` lost at ``stage`` by a call's outcome: abandoned or failed."""
        if call == CALL_ABANDONED:
            self.end(i, ABANDONED, stage)
        else:
            self.end(i, FAILED, f"{stage}_{call}")

    def complete(self, i: int, gateway: int, fee: float, now: float) -> None:
        self.outcome[i] = COMPLETED
        self.gateway[i] = gateway
        self.fee[i] = fee
        if self.confirmed_by[i] == NOT_COMPLETED:  # a saga keeps the in-app confirmation
            self.confirmed_by[i] = NO_CHANNEL
        self.final_at[i] = now

    def fail_unfinished(self) -> None:
        """Orders still pending when the drain limit ran out fail as ``unfinished``."""
        code = self.cause_code("unfinished")  # named in every run, pending orders or not
        outcome = as_numpy(self.outcome, np.int8)
        pending = outcome == PENDING
        outcome[pending] = FAILED
        as_numpy(self.cause, np.int16)[pending] = code

    def columns(self) -> dict[str, Any]:
        """The RunResult per-order columns (numpy arrays), sharing this table's memory."""
        return {name: as_numpy(getattr(self, name), dtype) for name, dtype in COLUMNS.items()}
