"""Metastability: does goodput come back after the trigger, how long does it take, and how
many dependency calls does each order cost meanwhile (retry amplification)?"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.records import COMPLETED, RunResult


def goodput(result: RunResult, bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(bin starts, orders completed per second in each bin) up to the horizon."""
    done = result.checkout_end[result.outcome == COMPLETED]
    edges = np.arange(0.0, result.horizon + bin_s, bin_s)
    counts, _ = np.histogram(done, bins=edges)
    return edges[:-1], counts / bin_s


def recovery_row(result: RunResult) -> dict[str, float]:
    """goodput_recovery_s (nan: not within the limit), stayed_degraded (1 or 0) and
    retry_amplification: how much calls per order grew after the trigger (1: not at all)."""
    if result.recovery is None:
        return {}
    start, end, within, share, bin_s = result.recovery
    starts, rate = goodput(result, bin_s)
    before = rate[(starts >= result.warmup) & (starts + bin_s <= start)]
    baseline = float(before.mean()) if before.size else math.nan
    after = np.nonzero((starts >= end) & (starts < end + within))[0]
    recovered = [k for k in after if rate[k] >= share * baseline]
    recovery = float(starts[recovered[0]] - end) if recovered else math.nan
    return {
        "goodput_recovery_s": recovery,
        "stayed_degraded": float(not recovered),
        "retry_amplification": _amplification(result, end, end + within),
    }


def _amplification(result: RunResult, start: float, end: float) -> float:
    """The largest growth, over the dependencies most orders call (at least one call per two
    orders before the trigger, so rare channels do not add noise), of calls per arriving
    order: in the window after the trigger against before it (1: no amplification)."""
    times = np.asarray(result.samples.get("time", []))
    if times.size == 0:
        return math.nan

    def per_order(a_time: float, b_time: float, series: list[float]) -> float:
        a, b = np.searchsorted(times, [a_time, min(b_time, times[-1])])
        b = min(int(b), times.size - 1)
        orders = np.count_nonzero((result.arrival >= a_time) & (result.arrival < b_time))
        return (float(series[b]) - float(series[int(a)])) / orders if orders else math.nan

    trigger_start = result.recovery[0] if result.recovery else start
    growth = []
    for name, series in result.samples.items():
        if not name.startswith("calls_"):
            continue
        before = per_order(result.warmup, trigger_start, series)
        if before and before >= 0.5:
            growth.append(per_order(start, end, series) / before)
    return max(growth) if growth else math.nan
