"""Records to tables: one summary row per configuration x replication, and the orders.

Only orders arriving after the warm-up count; the invariants are checked again on the
aggregates, from a different angle than the engine's per-order check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.analysis.metrics import LOST_CAUSES
from sim.analysis.recovery import recovery_row
from sim.analysis.topology import topology_row
from sim.engine.records import (
    ABANDONED,
    CENTS,
    COMPLETED,
    DECLINED,
    FAILED,
    OUTCOMES,
    RunResult,
    cents,
)
from sim.errors import InvariantError

OPEN_STATES = {"open", "forced_open"}
# Columns that have no value without data (a percentile of no orders, the time of a trip
# that never came): NaN there. Every other column is a count or a sum, and 0 of nothing.
UNDEFINED_WITHOUT_DATA = frozenset(
    {
        "checkout_p50_s",
        "checkout_p95_s",
        "checkout_p99_s",
        "result_p50_s",
        "result_p95_s",
        "result_p99_s",
        "first_trip_s",
        "confirmation_p95_s",
        "final_confirmation_p95_s",
        "goodput_recovery_s",
        "retry_amplification",
        "recovery_time_s",
        "config_propagation_max_s",
    }
)


def summary_row(result: RunResult) -> dict[str, float | int | str]:
    """The summary of one run; columns listed in README's "What the report shows"."""
    counted = result.arrival >= result.warmup
    outcome = result.outcome[counted]
    basket = cents(result.basket[counted])  # money summed in exact integer cents
    fee = cents(result.fee[counted])
    cause = result.cause[counted]
    completed = outcome == COMPLETED
    declined = outcome == DECLINED
    lost = (outcome == FAILED) | (outcome == ABANDONED)
    waited = (result.checkout_end - result.arrival)[counted]
    latency = waited[completed]
    p50, p95, p99 = _percentiles(latency)
    # Every order that reached a result page (completed, failed or declined) and when:
    # failing fast is a faster answer, which latency of completed orders alone hides.
    r50, r95, r99 = _percentiles(waited[(outcome != ABANDONED) & np.isfinite(waited)])
    demanded = money(basket.sum())
    fees = money(fee.sum())
    captured = money(basket[completed].sum() - fee.sum())
    revenue_lost = money(basket[lost].sum())
    revenue_declined = money(basket[declined].sum())
    row: dict[str, float | int | str] = {
        "configuration": result.configuration,
        "replication": result.replication,
        "orders": int(outcome.size),
        **{name: int(np.count_nonzero(outcome == code)) for code, name in enumerate(OUTCOMES)},
        "revenue_demanded": demanded,
        "revenue_captured": captured,
        "revenue_lost": revenue_lost,
        "revenue_lost_pct": 100.0 * revenue_lost / demanded if demanded else 0.0,
        "revenue_declined": revenue_declined,
        "fees": fees,
        "checkout_p50_s": p50,
        "checkout_p95_s": p95,
        "checkout_p99_s": p99,
        "result_p50_s": r50,
        "result_p95_s": r95,
        "result_p99_s": r99,
    }
    row.update(_lost_by_cause(result, outcome, cause, basket))
    row.update(_breakers(result))
    row.update(_dependencies(result))
    row.update(_post_checkout(result, counted, completed))
    row.update(_gateways(result, counted, completed))
    row.update(_stock(result, counted, completed, cause))
    row.update(_capture(result, counted))
    row.update(_saga(result, counted))
    row.update(recovery_row(result))
    row.update(_crashes(result, counted))
    row.update(topology_row(result))
    _check(row, result)
    return row


def money(total_cents: int | np.integer) -> float:
    """An exact sum of integer cents in currency units."""
    return int(total_cents) / CENTS


def _percentiles(values: np.ndarray) -> list[float]:
    """p50, p95 and p99 of ``values``; NaN for each when there are none."""
    return np.percentile(values, [50, 95, 99]).tolist() if values.size else [math.nan] * 3


def summarize(results: Iterable[RunResult]) -> pd.DataFrame:
    """One row per configuration x replication, in the order configurations were given.

    A column only some runs have (a cause of loss that did not occur in the others, a
    dependency one configuration never called) is 0 where it is missing: a count of nothing.
    Only the columns of ``UNDEFINED_WITHOUT_DATA`` stay NaN, where they have no data.
    """
    return summary_frame(summary_row(r) for r in results)


def summary_frame(rows: Iterable[dict[str, float | int | str]]) -> pd.DataFrame:
    """The summary of rows ``summary_row`` made elsewhere (in a worker, or stored by a
    sweep), exactly as ``summarize`` makes it."""
    frame = pd.DataFrame(list(rows))
    counts = [c for c in frame.columns if c not in UNDEFINED_WITHOUT_DATA]
    return frame.fillna({c: 0 for c in counts})


def lost_causes(summary: pd.DataFrame) -> list[str]:
    """The causes of lost revenue a summary has columns for: the usual ones in their usual
    order, then any other (a crash, an order stuck after one) in the order they appear."""
    present = [
        c.removeprefix("revenue_lost_")
        for c in summary.columns
        if c.startswith("revenue_lost_") and c != "revenue_lost_pct"
    ]
    return [c for c in LOST_CAUSES if c in present] + [c for c in present if c not in LOST_CAUSES]


def _lost_by_cause(
    result: RunResult, outcome: np.ndarray, cause: np.ndarray, basket: np.ndarray
) -> dict[str, float]:
    """Revenue lost by stage (``basket`` in integer cents)."""
    lost = {f"revenue_lost_{c}": 0 for c in LOST_CAUSES}  # integer cents, then money
    lost["revenue_lost_abandoned"] = int(basket[outcome == ABANDONED].sum())
    failed = outcome == FAILED
    for code, name in enumerate(result.cause_names):
        mask = failed & (cause == code)
        if not mask.any():
            continue
        group = name if name == "unfinished" else _stage_of(name)
        if name == "inventory_stockout":  # the shelf was empty: not a failure of resilience
            group = "stockout"
        key = f"revenue_lost_{group}"
        lost[key] = lost.get(key, 0) + int(basket[mask].sum())
    return {key: money(value) for key, value in lost.items()}


def _stage_of(cause: str) -> str:
    if cause == "queue_full" or cause.startswith("capture_"):
        return "payment"  # the capture queue and the saga's capture are payment's
    for stage in ("order_record", "inventory", "payment", "fulfillment"):
        if cause.startswith(stage):
            return stage
    return cause


def _breakers(result: RunResult) -> dict[str, float | int]:
    """Trips after the warm-up, seconds spent open between warm-up and the run's end (a
    node's own breaker counts for its share of the nodes), and when the first trip came."""
    trips = 0
    open_s = 0.0
    first = math.nan
    opened: dict[str, float] = {}
    share = 1.0 / result.nodes  # a node's own breaker guards a share of the traffic
    for time, name, _old, new in result.transitions:
        if new in OPEN_STATES:
            if time >= result.warmup:
                trips += 1
                first = time if math.isnan(first) else first
            opened.setdefault(name, time)
        elif name in opened:
            start = opened.pop(name)
            weight = share if "@" in name else 1.0
            open_s += weight * max(0.0, time - max(start, result.warmup))
    for name, start in opened.items():
        weight = share if "@" in name else 1.0
        open_s += weight * max(0.0, result.end_time - max(start, result.warmup))
    return {"breaker_trips": trips, "breaker_open_s": open_s, "first_trip_s": first}


def _dependencies(result: RunResult) -> dict[str, int]:
    """Calls made after the warm-up, per dependency and in total."""
    samples = result.samples
    times = np.asarray(samples.get("time", []))
    before = int(np.searchsorted(times, result.warmup, side="right")) - 1
    out: dict[str, int] = {}
    total = 0
    for name, calls in result.dependency_calls.items():
        series = samples.get(f"calls_{name}")
        at_warmup = int(series[before]) if series and before >= 0 else 0
        counted = calls - at_warmup
        out[f"calls_{name}"] = counted
        errors = np.asarray(result.dependency_errors.get(name, []))
        out[f"errors_{name}"] = int(np.count_nonzero(errors >= result.warmup))
        total += counted
    return {"dependency_calls": total, **out}


def _crashes(result: RunResult, counted: np.ndarray) -> dict[str, float | int]:
    """Orders a crash interrupted, how recovery settled them, and how long recovery took:
    the longest time from a site's restart to the settling of an order it had interrupted."""
    if result.interrupted.size == 0:
        return {}
    interrupted = result.interrupted[counted]
    delays = (result.recovered_at - result.restarted_at)[result.interrupted]
    delays = delays[~np.isnan(delays)]
    return {
        "interrupted": int(np.count_nonzero(interrupted)),
        "resumed": int(np.count_nonzero(result.resumed[counted])),
        "compensated_after_crash": int(np.count_nonzero(result.compensated_after_crash[counted])),
        "recovery_time_s": float(delays.max()) if delays.size else 0.0,
    }


def _saga(result: RunResult, counted: np.ndarray) -> dict[str, int]:
    """Compensated sagas, and the charges idempotency keys exist to prevent."""
    return {
        "compensations": int(np.count_nonzero(result.compensated[counted])),
        "double_charges": int(result.double_charges[counted].sum()),
        "charged_without_order": int(result.charged_without_order[counted].sum()),
    }


def _capture(result: RunResult, counted: np.ndarray) -> dict[str, float | int]:
    """Asynchronous capture: how much was queued, how deep and how long the queue got,
    what the deferred charges gave, and when orders were definitively confirmed."""
    outcome = result.outcome[counted]
    queued = result.queued[counted]
    names = result.cause_names
    full = names.index("queue_full") if "queue_full" in names else -2
    final = (result.final_at - result.arrival)[counted]
    final = final[~np.isnan(final)]
    depth = np.asarray(result.samples.get("capture_queue", []), dtype=float)
    drain = 0.0
    if depth.size and depth.max() > 0:
        peak = int(depth.argmax())
        empty = np.nonzero(depth[peak:] == 0)[0]
        drain = float(empty[0]) if empty.size else float(depth.size - peak)
    return {
        "queued": int(np.count_nonzero(queued)),
        "queue_max_depth": int(depth.max()) if depth.size else 0,
        "drain_time_s": drain,
        "deferred_captured": int(np.count_nonzero(queued & (outcome == COMPLETED))),
        "deferred_failed": int(np.count_nonzero(queued & (outcome != COMPLETED))),
        "queue_rejected": int(np.count_nonzero(result.cause[counted] == full)),
        "final_confirmation_p95_s": float(np.percentile(final, 95)) if final.size else math.nan,
    }


def _stock(
    result: RunResult, counted: np.ndarray, completed: np.ndarray, cause: np.ndarray
) -> dict[str, int]:
    """Sold from the cache, oversold (sold stock that did not exist) and stockouts."""
    flag = result.stock_flag[counted][completed]
    names = result.cause_names
    stockout = names.index("inventory_stockout") if "inventory_stockout" in names else -2
    return {
        "sold_from_cache": int(np.count_nonzero(flag >= 2)),
        "oversold": int(np.count_nonzero(flag == 3)),
        "stockouts": int(np.count_nonzero(cause == stockout)),
    }


def _gateways(result: RunResult, counted: np.ndarray, completed: np.ndarray) -> dict[str, float]:
    """Share of completed orders each gateway captured, and how many payments failed over."""
    gateway = result.gateway[counted][completed]
    out: dict[str, float] = {"failovers": int(np.count_nonzero(result.failed_over[counted]))}
    for code, name in enumerate(result.gateway_names):
        share = np.count_nonzero(gateway == code) / gateway.size if gateway.size else 0.0
        out[f"gateway_share_{name}"] = float(share)
    return out


def _post_checkout(
    result: RunResult, counted: np.ndarray, completed: np.ndarray
) -> dict[str, float | int]:
    """Fulfilment and the confirmation chain: who confirmed, how fast, what it cost."""
    done = counted & (result.outcome == COMPLETED)
    confirmed = result.confirmed_by[done]
    duplicate = result.duplicate[done]
    waited = (result.confirmed_at - result.arrival)[done]
    waited = waited[~np.isnan(waited)]
    charged_twice = duplicate == 2
    out: dict[str, float | int] = {
        "fulfillment_failed": int(np.count_nonzero(~result.fulfilled[done])),
        "cs_followups": int(np.count_nonzero(confirmed == -1)),
        "duplicate_submissions": int(np.count_nonzero(duplicate > 0)),
        "duplicate_orders": int(np.count_nonzero(charged_twice)),
        "refunds": money(
            cents(result.basket[done][charged_twice]).sum() + cents(result.refunded[counted]).sum()
        ),
        "duplicate_fees": money(cents(result.fee[done][charged_twice]).sum()),
        "notifications_sent": int(result.notifications_sent[done].sum()),
        "confirmation_p95_s": float(np.percentile(waited, 95)) if waited.size else math.nan,
    }
    for code, channel in enumerate(result.channel_names):
        out[f"confirmed_{channel}"] = int(np.count_nonzero(confirmed == code))
    return out


def _check(row: dict[str, float | int | str], result: RunResult) -> None:
    where = f"{result.configuration} / replication {result.replication}"
    counts = sum(int(row[name]) for name in OUTCOMES)
    if counts != row["orders"]:
        raise InvariantError(f"{where}: outcomes add up to {counts}, not {row['orders']} orders")
    money = float(row["revenue_captured"]) + float(row["fees"]) + float(row["revenue_lost"])
    money += float(row["revenue_declined"])
    if not math.isclose(float(row["revenue_demanded"]), money, rel_tol=1e-9, abs_tol=1e-6):
        raise InvariantError(
            f"{where}: revenue demanded {row['revenue_demanded']:.2f} != captured + fees + "
            f"lost + declined = {money:.2f}"
        )
    by_cause = sum(
        float(v)
        for k, v in row.items()
        if k.startswith("revenue_lost_") and k != "revenue_lost_pct"
    )
    if not math.isclose(by_cause, float(row["revenue_lost"]), rel_tol=1e-9, abs_tol=1e-6):
        raise InvariantError(
            f"{where}: revenue lost by cause {by_cause:.2f} != {row['revenue_lost']:.2f}"
        )


def orders_frame(results: Iterable[RunResult]) -> pd.DataFrame:
    """One row per order of every run, warm-up orders flagged rather than dropped.

    ``left_at_s`` is when the customer left checkout (saw the result, or gave up waiting)
    and ``waited_s`` how long after arriving; ``checkout_latency_s`` is that wait for orders
    that reached a result page, NaN for abandoned ones. All three are NaN for an order still
    in flight when the run ended.
    """
    results = list(results)
    frames = []
    for r in results:
        waited = r.checkout_end - r.arrival
        cause_names = np.asarray([*r.cause_names, ""], dtype=object)
        gateway_names = np.asarray([*r.gateway_names, ""], dtype=object)
        channel_names = np.asarray([*r.channel_names, "", ""], dtype=object)
        frames.append(
            pd.DataFrame(
                {
                    "configuration": r.configuration,
                    "replication": r.replication,
                    "order": np.arange(r.orders),
                    "arrival_s": r.arrival,
                    "warmup": r.arrival < r.warmup,
                    "basket": r.basket,
                    "outcome": np.asarray(OUTCOMES, dtype=object)[r.outcome],
                    "cause": cause_names[r.cause],
                    "checkout_latency_s": np.where(r.outcome == ABANDONED, np.nan, waited),
                    "left_at_s": r.checkout_end,
                    "waited_s": waited,
                    "gateway": gateway_names[r.gateway],
                    "fee": r.fee,
                    "confirmed_by": channel_names[r.confirmed_by],
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    for column in ("outcome", "cause", "gateway", "confirmed_by"):
        # Categories in order of first appearance.
        values = frame[column]
        frame[column] = pd.Categorical(values, categories=list(dict.fromkeys(values)))
    # Every configuration is a category, in the scenario's order, even one with no orders.
    configurations = list(dict.fromkeys(r.configuration for r in results))
    frame["configuration"] = pd.Categorical(frame["configuration"], categories=configurations)
    return frame
