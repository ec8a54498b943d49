"""What a run emits: flat per-order columns and a few event lists, no pandas.

``analysis`` turns these into DataFrames; the engine only fills them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Outcomes: every order ends in exactly one.
COMPLETED = 0
ABANDONED = 1
FAILED = 2
DECLINED = 3
PENDING = -1  # not decided yet; none may remain after a run
OUTCOMES = ("completed", "abandoned", "failed", "declined")
CENTS = 100  # money is in whole cents: baskets, fees and refunds (as currency units)

BREAKER_STATE_CODES = {
    "closed": 0,
    "half_open": 1,
    "open": 2,
    "forced_open": 3,
    "disabled": 4,
    "metrics_only": 5,
}


@dataclass
class RunResult:
    """One configuration x replication: everything analysis needs, as flat records."""

    scenario: str
    configuration: str
    replication: int
    seed: int
    horizon: float
    warmup: float
    end_time: float
    # Per order (index = order id, in arrival order).
    arrival: np.ndarray
    basket: np.ndarray
    outcome: np.ndarray  # int8, OUTCOMES index
    cause: np.ndarray  # int16 index into cause_names; -1 when completed
    checkout_end: np.ndarray  # when the customer saw the result, or left the checkout queue
    gateway: np.ndarray  # int8 index into gateway_names; -1 when no gateway answered
    fee: np.ndarray
    confirmed_by: np.ndarray  # int8 index into channel_names; -1 none; -2 not applicable
    confirmed_at: np.ndarray  # when the first confirmation reached the customer (nan: never)
    notifications_sent: np.ndarray  # int8 confirmation messages sent for the order
    duplicate: np.ndarray  # int8 0 none, 1 resubmitted and recognised, 2 charged twice
    queued: np.ndarray  # bool; accepted into the asynchronous capture queue
    compensated: np.ndarray  # bool; a saga step failed and the earlier ones were undone
    double_charges: np.ndarray  # int8 charges beyond the one the order needed
    charged_without_order: np.ndarray  # int8 charges left standing with no order
    refunded: np.ndarray  # money given back (saga compensations and double charges)
    final_at: np.ndarray  # when the order was definitively confirmed (nan: never)
    fulfilled: np.ndarray  # bool; False for orders that did not complete
    failed_over: np.ndarray  # bool; payment tried more than one gateway
    product: np.ndarray  # int32; the product bought (0 without a catalogue)
    stock_flag: np.ndarray  # int8; 1 reserved, 2 sold from cache, 3 from cache and oversold
    cause_names: list[str]
    gateway_names: list[str]
    channel_names: list[str]
    # Events.
    transitions: list[tuple[float, str, str, str]]  # (time, breaker, from, to)
    dependency_calls: dict[str, int]
    dependency_errors: dict[str, list[float]]  # failure instants per dependency
    stage_stats: dict[str, tuple[int, float]]  # entries, total time in stage
    samples: dict[str, list[float]] = field(default_factory=dict)  # per-second monitor
    idempotency: bool = True  # the configuration's idempotency keys
    # (trigger start, trigger end, time limit, goodput share, bin) of a recovery check.
    recovery: tuple[float, float, float, float, float] | None = None
    config_events: list[tuple[float, str]] = field(default_factory=list)  # run-time changes
    nodes: int = 1  # checkout nodes
    # Spans when checkout nodes ran different configuration versions (slow propagation),
    # and per change: seconds until the last node had it (or the run ended).
    config_disagreement: list[tuple[float, float]] = field(default_factory=list)
    config_propagation: list[float] = field(default_factory=list)
    # Crashes: orders interrupted, resumed or compensated on recovery, and when settled.
    interrupted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    resumed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    compensated_after_crash: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    recovered_at: np.ndarray = field(default_factory=lambda: np.zeros(0))
    restarted_at: np.ndarray = field(default_factory=lambda: np.zeros(0))
    restart_times: list[float] = field(default_factory=list)
    crash_recovery: bool = True

    @property
    def orders(self) -> int:
        return int(self.arrival.size)


def cents(amounts: np.ndarray) -> np.ndarray:
    """Amounts of money (currency units, whole cents) as exact integer cents, so sums of
    them, and the identities between those sums, are exact."""
    return np.rint(np.asarray(amounts, dtype=np.float64) * CENTS).astype(np.int64)
