"""Calibration fidelity: synthetic call logs from a known first-come first-served pool
(capacity c, lognormal service of known median and p99, bursts past saturation, a few
timeouts and refusals), written as the CSV calibrate reads (timestamps in ms, latency in
0.1 ms), then calibrated: the capacity and the median come back within 10 %, the p99
within 20 %. Prometheus
gauges give the capacity where they show a full pool. ``python
tests/test_calibration_recovery.py`` prints the recovery table of docs/validation.md."""

from __future__ import annotations

import csv
import heapq
from pathlib import Path

import numpy as np
import pytest

from sim.calibration.calls_csv import read_calls_csv
from sim.calibration.capacity import capacity_from_gauges, fifo_capacity
from sim.calibration.fit import Z99
from sim.calibration.per_dependency import calibrate_calls

# (capacity, median s, p99 s): small and large pools, fast and slow dependencies.
CASES = [
    (3, 0.35, 1.8),
    (6, 0.35, 1.8),
    (8, 0.05, 0.4),
    (12, 0.12, 0.6),
    (25, 0.2, 1.5),
    (40, 0.08, 0.9),
]
TIMEOUT = 10.0


def synthetic_log(
    path: Path, capacity: int, median: float, p99: float, seed: int, pool: int | None = None
) -> Path:
    """Five minutes at 40 % of ``capacity`` calls' throughput with a 90-second burst at
    120 %, through a FIFO pool of ``pool`` servers (default ``capacity``); 0.2 % timeouts
    (the caller's latency), 0.2 % refusals."""
    rng = np.random.default_rng(seed)
    sigma = np.log(p99 / median) / Z99
    mean = median * np.exp(sigma**2 / 2)
    arrivals, t = [], 0.0
    while t < 300:
        rate = (1.2 if 120 <= t < 210 else 0.4) * capacity / mean
        t += rng.exponential(1 / rate)
        arrivals.append(t)
    service = rng.lognormal(np.log(median), sigma, len(arrivals))
    free = [0.0] * (pool or capacity)
    draws = rng.random(len(arrivals))
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file, lineterminator="\n")
        out.writerow(["timestamp", "dependency", "latency", "status"])
        for start, work, draw in zip(arrivals, service, draws, strict=True):
            if draw < 0.002:  # refused at once: never reaches the pool
                out.writerow([f"{1.7e9 + start:.3f}", "dep", "", "connection"])
                continue
            begin = max(start, heapq.heappop(free))
            heapq.heappush(free, begin + work)
            latency = begin + work - start
            if draw < 0.004 or latency >= TIMEOUT:  # the caller gave up; the pool went on
                out.writerow([f"{1.7e9 + start:.3f}", "dep", f"{TIMEOUT:.4f}", "timeout"])
            else:
                out.writerow([f"{1.7e9 + start:.3f}", "dep", f"{latency:.4f}", "ok"])
    return path


def recover(tmp: Path, capacity: int, median: float, p99: float, seed: int) -> dict[str, float]:
    log = synthetic_log(tmp / f"calls-{capacity}-{seed}.csv", capacity, median, p99, seed)
    (found,) = calibrate_calls(read_calls_csv(log))
    assert found.latency is not None and found.capacity is not None, found.notes
    return {"capacity": found.capacity, "median": found.latency.median, "p99": found.latency.p99}


@pytest.mark.slow
@pytest.mark.parametrize(("capacity", "median", "p99"), CASES)
def test_capacity_and_latency_come_back(
    tmp_path: Path, capacity: int, median: float, p99: float
) -> None:
    fitted = recover(tmp_path, capacity, median, p99, seed=capacity)
    # The p99 of five minutes of calls rests on a few dozen: 20 % (docs/validation.md).
    for name, truth, within in (
        ("capacity", capacity, 0.1),
        ("median", median, 0.1),
        ("p99", p99, 0.2),
    ):
        assert abs(fitted[name] - truth) <= within * truth, (name, truth, fitted)


def test_no_capacity_where_nothing_queues(tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "calls.csv", 6, 0.2, 1.0, seed=1, pool=1000)
    (found,) = calibrate_calls(read_calls_csv(log))
    assert found.capacity is None


def test_a_pool_too_small_gives_negative_service_times() -> None:
    """The rule itself: the true pool explains the calls, one server fewer does not."""
    start = np.array([0.0, 0.0, 0.1])
    latency = np.array([1.0, 0.5, 1.4])  # two servers: the third waits until 0.5
    assert fifo_capacity(start, latency, upper=3) == 2  # one: the second would end first


def test_gauges_show_the_capacity_only_when_the_pool_is_full() -> None:
    in_flight = np.array([2, 5, 6, 6, 6, 3], dtype=float)
    waiting = np.array([0, 0, 1, 4, 2, 0], dtype=float)
    found = capacity_from_gauges(in_flight, waiting, None)
    assert found is not None and found.capacity == 6 and found.samples == 3
    saturation = in_flight / 8
    found = capacity_from_gauges(in_flight, None, saturation)
    assert found is not None and found.capacity == 8
    assert capacity_from_gauges(in_flight, np.zeros(6), None) is None
    assert capacity_from_gauges(in_flight, None, None) is None


def recovery_table(seeds: int = 5) -> str:
    """True against fitted, per parameter, mean and worst error over ``seeds`` logs."""
    import tempfile

    rows = [
        "| true: capacity, median, p99 | capacity fitted | median fitted | p99 fitted | worst |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for capacity, median, p99 in CASES:
            fits = [recover(Path(folder), capacity, median, p99, seed) for seed in range(seeds)]
            truth = {"capacity": capacity, "median": median, "p99": p99}
            worst = max(abs(f[k] - t) / t for f in fits for k, t in truth.items())
            cell = {k: ", ".join(f"{f[k]:.3g}" for f in fits) for k in truth}
            true = f"{capacity}, {median * 1000:g} ms, {p99 * 1000:g} ms"
            fitted = f"{cell['capacity']} | {cell['median']} | {cell['p99']}"
            rows.append(f"| {true} | {fitted} | {worst:.1%} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(recovery_table())
