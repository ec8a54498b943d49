"""The money identities of a run's summary, on orders written out by hand: what was
demanded, captured, lost (and why), declined and paid in fees, which orders count (those
arriving after the warm-up), and the invariant check that refuses a summary whose money
does not add up."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim.analysis.summary import _check, summary_row
from sim.engine.records import ABANDONED, COMPLETED, DECLINED, FAILED, RunResult
from sim.errors import InvariantError

CAUSES = [
    "payment_refused",  # no order failed of it: the causes after it still count
    "payment_timeout",
    "inventory_connection",
    "inventory_stockout",
    "unfinished",
    "queue_full",
    "capture_expired",
    "order_record_server_error",
    "fulfillment_timeout",
    "crash_lost",
]
C = {name: code for code, name in enumerate(CAUSES)}

# (arrival, basket, outcome, cause, checkout_end, fee)
ORDERS: list[tuple[float, float, int, int, float, float]] = [
    (5.0, 999.0, COMPLETED, -1, 6.0, 9.0),  # in the warm-up: not counted
    (10.0, 100.0, COMPLETED, -1, 11.0, 3.0),  # exactly at the warm-up's end: counted
    (11.0, 50.0, COMPLETED, -1, 13.0, 1.5),
    (12.0, 30.0, COMPLETED, -1, 16.0, 0.9),
    (13.0, 20.0, COMPLETED, -1, 21.0, 0.6),
    (14.0, 70.0, DECLINED, -1, 15.0, 0.25),  # a decline may carry a fee
    (15.0, 40.0, ABANDONED, -1, 40.0, 0.0),
    (16.0, 25.0, FAILED, C["payment_timeout"], 18.0, 0.0),
    (17.0, 35.0, FAILED, C["payment_timeout"], 19.0, 0.0),
    (18.0, 12.0, FAILED, C["inventory_connection"], 19.0, 0.0),
    (19.0, 8.0, FAILED, C["inventory_stockout"], 19.5, 0.0),
    (20.0, 5.0, FAILED, C["unfinished"], math.nan, 0.0),
    (21.0, 6.0, FAILED, C["queue_full"], 22.0, 0.0),
    (22.0, 7.0, FAILED, C["capture_expired"], 23.0, 0.0),
    (23.0, 9.0, FAILED, C["order_record_server_error"], 24.0, 0.0),
    (24.0, 11.0, FAILED, C["fulfillment_timeout"], 25.0, 0.0),
    (25.0, 13.0, FAILED, C["crash_lost"], 26.0, 0.0),
]


def run_result(orders: list[tuple[float, float, int, int, float, float]]) -> RunResult:
    n = len(orders)
    arrival, basket, outcome, cause, end, fee = (np.array(col) for col in zip(*orders, strict=True))
    zeros = np.zeros(n)
    return RunResult(
        scenario="hand",
        configuration="by-hand",
        replication=3,
        seed=1,
        horizon=60.0,
        warmup=10.0,
        end_time=60.0,
        arrival=arrival.astype(float),
        basket=basket.astype(float),
        outcome=outcome.astype(np.int8),
        cause=cause.astype(np.int16),
        checkout_end=end.astype(float),
        gateway=np.where(outcome == COMPLETED, 0, -1).astype(np.int8),
        fee=fee.astype(float),
        confirmed_by=np.full(n, -2, dtype=np.int8),
        confirmed_at=np.full(n, math.nan),
        notifications_sent=np.zeros(n, dtype=np.int8),
        duplicate=np.zeros(n, dtype=np.int8),
        queued=np.zeros(n, dtype=bool),
        compensated=np.zeros(n, dtype=bool),
        double_charges=np.zeros(n, dtype=np.int8),
        charged_without_order=np.zeros(n, dtype=np.int8),
        refunded=zeros.copy(),
        final_at=np.full(n, math.nan),
        fulfilled=outcome == COMPLETED,
        failed_over=np.zeros(n, dtype=bool),
        product=np.zeros(n, dtype=np.int32),
        stock_flag=np.zeros(n, dtype=np.int8),
        cause_names=list(CAUSES),
        gateway_names=["primary"],
        channel_names=["email"],
        transitions=[],
        dependency_calls={},
        dependency_errors={},
        stage_stats={},
    )


def test_money_by_hand() -> None:
    row = summary_row(run_result(ORDERS))
    assert (row["configuration"], row["replication"]) == ("by-hand", 3)
    assert row["orders"] == 16  # the warm-up order left out
    assert (row["completed"], row["abandoned"], row["failed"], row["declined"]) == (4, 1, 10, 1)
    demanded = 100 + 50 + 30 + 20 + 70 + 40 + 25 + 35 + 12 + 8 + 5 + 6 + 7 + 9 + 11 + 13
    fees = 3.0 + 1.5 + 0.9 + 0.6 + 0.25
    lost = 40 + 25 + 35 + 12 + 8 + 5 + 6 + 7 + 9 + 11 + 13
    assert row["revenue_demanded"] == pytest.approx(demanded)
    assert row["fees"] == pytest.approx(fees)
    assert row["revenue_captured"] == pytest.approx(200.0 - fees)  # completed baskets - fees
    assert row["revenue_lost"] == pytest.approx(lost)
    assert row["revenue_declined"] == pytest.approx(70.0)
    assert row["revenue_lost_pct"] == pytest.approx(100.0 * lost / demanded)
    assert demanded == pytest.approx(
        row["revenue_captured"] + row["fees"] + row["revenue_lost"] + row["revenue_declined"]
    )


def test_lost_revenue_by_cause_by_hand() -> None:
    row = summary_row(run_result(ORDERS))
    by_cause = {
        k: v for k, v in row.items() if k.startswith("revenue_lost_") and k != "revenue_lost_pct"
    }
    assert by_cause == pytest.approx(
        {
            "revenue_lost_abandoned": 40.0,
            "revenue_lost_inventory": 12.0,
            "revenue_lost_stockout": 8.0,  # an empty shelf, not a failure of resilience
            "revenue_lost_payment": 25.0 + 35.0 + 6.0 + 7.0,  # queue_full, capture_* too
            "revenue_lost_order_record": 9.0,
            "revenue_lost_fulfillment": 11.0,
            "revenue_lost_unfinished": 5.0,
            "revenue_lost_crash_lost": 13.0,  # a cause of no stage keeps its own name
        }
    )


def test_checkout_percentiles_of_completed_orders() -> None:
    row = summary_row(run_result(ORDERS))
    # Completed after the warm-up took 1, 2, 4 and 8 s; numpy's linear interpolation.
    latencies = [1.0, 2.0, 4.0, 8.0]
    for q, column in ((50, "checkout_p50_s"), (95, "checkout_p95_s"), (99, "checkout_p99_s")):
        rank = q / 100 * 3
        low = latencies[int(rank)]
        high = latencies[min(int(rank) + 1, 3)]
        assert row[column] == pytest.approx(low + (rank - int(rank)) * (high - low)), column


def test_a_run_with_nothing_demanded() -> None:
    row = summary_row(run_result([(1.0, 10.0, COMPLETED, -1, 2.0, 0.0)]))  # warm-up only
    assert row["orders"] == 0 and row["revenue_demanded"] == 0.0
    assert row["revenue_lost_pct"] == 0.0
    assert all(math.isnan(row[c]) for c in ("checkout_p50_s", "checkout_p95_s", "checkout_p99_s"))
    assert row["revenue_lost_payment"] == 0.0 and row["revenue_lost_abandoned"] == 0.0


def test_an_order_without_an_outcome_is_an_invariant_error() -> None:
    orders = [*ORDERS, (30.0, 10.0, -1, -1, math.nan, 0.0)]  # still pending
    with pytest.raises(InvariantError) as info:
        summary_row(run_result(orders))
    assert str(info.value) == "by-hand / replication 3: outcomes add up to 16, not 17 orders"


def good_row() -> dict[str, Any]:
    return {
        "orders": 3,
        "completed": 1,
        "abandoned": 1,
        "failed": 0,
        "declined": 1,
        "revenue_demanded": 100.0,
        "revenue_captured": 47.0,
        "fees": 3.0,
        "revenue_lost": 20.0,
        "revenue_declined": 30.0,
        "revenue_lost_pct": 20.0,
        "revenue_lost_abandoned": 20.0,
        "revenue_lost_payment": 0.0,
    }


def test_check_accepts_money_that_adds_up_within_rounding() -> None:
    result = run_result(ORDERS)
    _check(good_row(), result)
    _check(good_row() | {"revenue_captured": 47.0 + 5e-7, "revenue_lost_payment": 5e-7}, result)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"revenue_captured": 47.01},
            "revenue demanded 100.00 != captured + fees + lost + declined = 100.01",
        ),
        ({"fees": 2.0}, "revenue demanded 100.00 != captured + fees + lost + declined = 99.00"),
        ({"revenue_declined": 31.0}, "captured + fees + lost + declined = 101.00"),
        ({"revenue_lost_payment": 0.5}, "revenue lost by cause 20.50 != 20.00"),
        ({"declined": 2}, "outcomes add up to 4, not 3 orders"),
    ],
)
def test_check_refuses_money_that_does_not_add_up(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvariantError) as info:
        _check(good_row() | change, run_result(ORDERS))
    assert str(info.value).startswith("by-hand / replication 3: ")
    assert message in str(info.value)


def test_check_ignores_the_lost_share_and_compares_relative_to_large_sums() -> None:
    big = {k: v * 1e9 if isinstance(v, float) else v for k, v in good_row().items()}
    _check(big | {"revenue_captured": 47e9 + 10.0}, run_result(ORDERS))  # 1e-10 relative
    _check(good_row() | {"revenue_lost_pct": 99.0}, run_result(ORDERS))  # not a sum of causes


def percentile(values: list[float], q: float) -> float:
    """numpy's default (linear) percentile, written out."""
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def test_time_to_a_result_page_leaves_out_who_gave_up_and_who_never_got_one() -> None:
    row = summary_row(run_result(ORDERS))
    counted = [o for o in ORDERS if o[0] >= 10.0]
    waits = [end - arrival for arrival, _, outcome, _, end, _ in counted if outcome != ABANDONED]
    waits = [w for w in waits if not math.isnan(w)]  # the unfinished order has no result
    assert len(waits) == 14
    for q in (50, 95, 99):
        assert row[f"result_p{q}_s"] == pytest.approx(percentile(waits, q))


def test_other_counts_take_only_orders_after_the_warm_up() -> None:
    result = run_result(ORDERS)
    n = len(ORDERS)
    result.queued[0] = True  # the warm-up order
    result.compensated[0] = True
    result.stock_flag[:] = 0
    result.stock_flag[1] = 2  # a completed order sold from the cache
    result.stock_flag[7] = 3  # a failed one's flag is no sale
    result.interrupted = np.zeros(n, dtype=bool)
    result.interrupted[0] = True
    result.resumed = np.zeros(n, dtype=bool)
    result.compensated_after_crash = np.zeros(n, dtype=bool)
    result.recovered_at = np.full(n, math.nan)
    result.restarted_at = np.full(n, math.nan)
    row = summary_row(result)
    assert (row["queued"], row["compensations"], row["interrupted"]) == (0, 0, 0)
    assert (row["sold_from_cache"], row["oversold"], row["stockouts"]) == (1, 0, 1)
    assert row["gateway_share_primary"] == 1.0  # every completed order, by the one gateway
