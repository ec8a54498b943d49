"""Writes the two sample inputs of ``breakerlab calibrate`` beside this file, from a seed:
ten minutes of synthetic calls (no real shop's data) to the reference shop's inventory
service, gateways and order database, with a two-minute flash-sale burst.

    python models/calibration/make_samples.py

- ``primary`` saturates during the burst: it serves at most 6 calls at once, the rest
  queue, so calibrate finds a capacity of 6, from the calls and from the Prometheus
  in-flight and queue-length gauges alike.
- ``secondary`` answers from two populations (a fast path and a slow fraud check), which
  no lognormal fits: calibrate falls back to the empirical distribution.
"""

from __future__ import annotations

import csv
import heapq
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20260314
START = 1_773_480_000.0  # epoch seconds of the first call
SPAN, BURST = 600.0, (240.0, 360.0)  # seconds; the burst's window
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # Prometheus'
STEP = 15.0  # the range query's step

# name: (calls per second outside / inside the burst, capacity, caller's timeout,
#        outcome shares: timeout, connection, server_error, declined among answered)
DEPENDENCIES = {
    "inventory_service": ((2.0, 11.0), None, 2.0, (0.002, 0.001, 0.004, 0.0)),
    "primary": ((2.0, 11.0), 6, 10.0, (0.001, 0.002, 0.005, 0.03)),
    "secondary": ((0.4, 0.8), None, 10.0, (0.0, 0.002, 0.004, 0.035)),
    "orders_db": ((2.0, 11.0), None, 3.0, (0.0, 0.0, 0.001, 0.0)),
}


def service_times(name: str, rng: np.random.Generator, n: int) -> np.ndarray:
    if name == "inventory_service":
        return rng.lognormal(np.log(0.015), np.log(0.120 / 0.015) / 2.326, n)
    if name == "primary":
        return rng.lognormal(np.log(0.35), np.log(1.8 / 0.35) / 2.326, n)
    if name == "secondary":  # 70 % fast path, 30 % a slow fraud check
        fast = rng.normal(0.25, 0.03, n)
        slow = rng.normal(1.6, 0.15, n)
        return np.clip(np.where(rng.random(n) < 0.7, fast, slow), 0.05, None)
    return rng.lognormal(np.log(0.008), np.log(0.060 / 0.008) / 2.326, n)


def arrivals(rates: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Poisson arrivals at the base rate, and at the burst rate inside the burst."""
    times, t = [], 0.0
    while t < SPAN:
        rate = rates[1] if BURST[0] <= t < BURST[1] else rates[0]
        t += rng.exponential(1 / rate)
        times.append(t)
    return np.array(times[:-1])


def queued(starts: np.ndarray, service: np.ndarray, capacity: int | None) -> np.ndarray:
    """Latency through a first-come first-served pool of ``capacity`` servers; each call's
    start of service is kept in POOL for the in-flight and queue gauges."""
    if capacity is None:
        POOL.append((starts, starts, starts + service))
        return service
    free = [0.0] * capacity
    latency = np.empty(len(starts))
    begins = np.empty(len(starts))
    for i, (start, work) in enumerate(zip(starts, service, strict=True)):
        begin = max(start, heapq.heappop(free))
        heapq.heappush(free, begin + work)
        latency[i] = begin + work - start
        begins[i] = begin
    POOL.append((starts, begins, begins + service))
    return latency


POOL: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per dependency, in order


def calls() -> list[tuple[float, str, float | None, str]]:
    rng = np.random.default_rng(SEED)
    rows: list[tuple[float, str, float | None, str]] = []
    for name, (rates, capacity, timeout, shares) in DEPENDENCIES.items():
        starts = arrivals(rates, rng)
        latency = queued(starts, service_times(name, rng, len(starts)), capacity)
        u = rng.random(len(starts))
        edges = np.cumsum(shares[:3])
        for start, lat, draw in zip(starts, latency, u, strict=True):
            if draw < edges[0] or lat >= timeout:
                rows.append((start, name, timeout, "timeout"))
            elif draw < edges[1]:
                rows.append((start, name, None, "connection"))
            elif draw < edges[2]:
                rows.append((start, name, lat, "server_error"))
            else:
                declined = rng.random() < shares[3]
                rows.append((start, name, lat, "declined" if declined else "ok"))
    return sorted(rows)


def write_csv(rows: list[tuple[float, str, float | None, str]]) -> None:
    with (HERE / "sample_calls.csv").open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file, lineterminator="\n")
        out.writerow(["timestamp", "dependency", "latency", "status"])
        for start, name, latency, status in rows:
            out.writerow(
                [f"{START + start:.3f}", name, "" if latency is None else f"{latency:.4f}", status]
            )


def write_prometheus(rows: list[tuple[float, str, float | None, str]]) -> None:
    """Cumulative counters sampled every STEP, as ``query_range`` returns them."""
    steps = np.arange(0.0, SPAN + STEP, STEP)
    result = []
    for name in DEPENDENCIES:
        mine = [r for r in rows if r[1] == name]
        ends = np.array([s + (lat or 0.0) for s, _, lat, _ in mine])
        latency = np.array([lat if lat is not None else 0.0 for _, _, lat, _ in mine])
        for le in (*BUCKETS, float("inf")):
            inside = latency <= le
            values = [[START + t, str(int((inside & (ends <= t)).sum()))] for t in steps]
            metric = {
                "__name__": "dependency_call_duration_seconds_bucket",
                "dependency": name,
                "job": "checkout",
                "le": "+Inf" if le == float("inf") else f"{le:g}",
            }
            result.append({"metric": metric, "values": values})
        for category in ("ok", "declined", "timeout", "connection", "server_error"):
            done = np.array([r[3] == category for r in mine])
            values = [[START + t, str(int((done & (ends <= t)).sum()))] for t in steps]
            metric = {
                "__name__": "dependency_calls_total",
                "dependency": name,
                "job": "checkout",
                "category": category,
            }
            result.append({"metric": metric, "values": values})
    for name, (starts, begins, ends) in zip(DEPENDENCIES, POOL, strict=True):
        # Gauges as an exporter scrapes them: calls being served, calls waiting for a server.
        for metric_name, low, high in (
            ("dependency_in_flight", begins, ends),
            ("dependency_queue_length", starts, begins),
        ):
            values = [[START + t, str(int(((low <= t) & (t < high)).sum()))] for t in steps]
            metric = {"__name__": metric_name, "dependency": name, "job": "checkout"}
            result.append({"metric": metric, "values": values})
    document = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    text = json.dumps(document, indent=1)
    (HERE / "sample_prometheus.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    rows = calls()
    write_csv(rows)
    write_prometheus(rows)
    print(f"{len(rows)} calls")
