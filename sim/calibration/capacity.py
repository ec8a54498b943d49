"""A dependency's capacity (concurrent calls it serves; the rest queue), from per-call
records or from Prometheus gauges.

Per-call records: ``estimate_capacity`` (fit.py) says whether latency shows
queueing at all, and from about which level; it errs upwards, since the first levels past
the capacity wait little. The capacity itself is then read from the queue's mechanics:
through a first-come first-served pool of c servers, call n starts service when the
earliest of the c servers frees, so its service time is its end less that instant. With c
too small, some of those service times come out negative (a call would have to finish
before it started); with the true c none does; with more, none does either. The capacity
is the smallest c with no negative service time (within the timestamps' resolution), and
the service times at that c are the latency the dependency itself adds, queueing removed.

Prometheus: an in-flight gauge (calls being served at each scrape) reads the capacity
directly when the pool is full: at the scrapes where calls wait (a queue gauge above 0),
or as in-flight / saturation where a saturation (utilisation) gauge is exported.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

RESOLUTION = 2e-3  # seconds: exported timestamps and latencies are rounded (ms, 0.1 ms)


def service_starts(start: np.ndarray, end: np.ndarray, capacity: int) -> np.ndarray:
    """When each call (in ``start`` order) would begin service in a first-come first-served
    pool of ``capacity`` servers, given when every call ended."""
    order = np.argsort(start, kind="stable")
    free = [float("-inf")] * capacity
    begins = np.empty(len(start))
    for i in order:
        begin = max(float(start[i]), heapq.heappop(free))
        heapq.heappush(free, float(end[i]))
        begins[i] = begin
    return begins


def fifo_capacity(
    start: np.ndarray, latency: np.ndarray, upper: int, resolution: float = RESOLUTION
) -> int | None:
    """The smallest pool (1..``upper``) through which every call's service time is at
    least ``-resolution``: calls without a latency (refused) are left out."""
    keep = np.isfinite(latency)
    start, end = start[keep], start[keep] + latency[keep]
    if len(start) == 0 or upper < 1:
        return None

    def feasible(capacity: int) -> bool:
        return bool((end - service_starts(start, end, capacity) >= -resolution).all())

    if not feasible(upper):
        return None  # not a first-come first-served pool of up to 'upper' servers
    low, high = 1, upper
    while low < high:  # feasibility only grows with the pool: bisect
        middle = (low + high) // 2
        if feasible(middle):
            high = middle
        else:
            low = middle + 1
    return low


def service_times(start: np.ndarray, latency: np.ndarray, capacity: int) -> np.ndarray:
    """Each call's latency less its wait for a server (NaN where latency is NaN). Calls
    without a known end (timeouts: the dependency may work on past the caller's latency)
    are left out, so the pool looks a little freer than it was under heavy timeouts."""
    out = np.full(len(latency), np.nan)
    keep = np.isfinite(latency)
    end = start[keep] + latency[keep]
    out[keep] = np.maximum(end - service_starts(start[keep], end, capacity), 0.0)
    return out


@dataclass(frozen=True)
class GaugeCapacity:
    """A capacity read from gauges, and how."""

    capacity: int
    method: str
    samples: int


def capacity_from_gauges(
    in_flight: np.ndarray, waiting: np.ndarray | None, saturation: np.ndarray | None
) -> GaugeCapacity | None:
    """The capacity from scrapes of an in-flight gauge: its median where calls were
    waiting, else in-flight / saturation where utilisation was measurable; None when the
    gauges never show a full pool (in-flight alone gives only a lower bound)."""
    if waiting is not None:
        full = in_flight[(waiting > 0) & np.isfinite(in_flight)]
        if len(full):
            return GaugeCapacity(
                round(float(np.median(full))), "in-flight while calls wait", len(full)
            )
    if saturation is not None:
        usable = (saturation >= 0.05) & np.isfinite(saturation) & np.isfinite(in_flight)
        if usable.any():
            ratios = in_flight[usable] / saturation[usable]
            return GaugeCapacity(
                round(float(np.median(ratios))), "in-flight / saturation", int(usable.sum())
            )
    return None
