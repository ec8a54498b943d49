"""Per-second timeline of every run: arrivals, outcomes, errors, latency, queues, breakers."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.engine.records import ABANDONED, CENTS, COMPLETED, FAILED, RunResult, cents


def timeline_frame(results: Iterable[RunResult]) -> pd.DataFrame:
    """One row per configuration x replication x simulated second."""
    frame = pd.concat([run_timeline(r) for r in results], ignore_index=True)
    configs = frame["configuration"]
    frame["configuration"] = pd.Categorical(configs, categories=list(dict.fromkeys(configs)))
    return frame


def run_timeline(r: RunResult) -> pd.DataFrame:
    """The timeline of one run, one row per simulated second."""
    seconds = int(np.ceil(max(r.end_time, r.horizon)))
    ended = np.where(np.isnan(r.checkout_end), r.arrival, r.checkout_end)
    done = np.minimum(ended.astype(np.int64), seconds - 1)

    def count(at: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        idx = at if mask is None else at[mask]
        return np.bincount(idx, minlength=seconds)[:seconds]

    completed = r.outcome == COMPLETED
    net = cents(r.basket[completed]) - cents(r.fee[completed])  # exact: whole cents
    captured = np.bincount(done[completed], weights=net, minlength=seconds)[:seconds] / CENTS
    errors = np.zeros(seconds, dtype=np.int64)
    for times in r.dependency_errors.values():
        if times:
            errors += count(np.minimum(np.asarray(times).astype(np.int64), seconds - 1))
    frame = pd.DataFrame(
        {
            "configuration": r.configuration,
            "replication": r.replication,
            "second": np.arange(seconds),
            "arrivals": count(r.arrival.astype(np.int64)),
            "completed": count(done, completed),
            "failed": count(done, r.outcome == FAILED),
            "abandoned": count(done, r.outcome == ABANDONED),
            "revenue_captured": captured,
            "dependency_errors": errors,
        }
    )
    frame = pd.concat([frame, _latency_percentiles(r, done, completed, seconds)], axis=1)
    samples = {k: v for k, v in r.samples.items() if k != "time"}
    if samples and r.samples["time"]:
        # Monitor sample at the end of second s describes second s.
        sample_idx = np.asarray(r.samples["time"], dtype=np.int64) - 1
        keep = sample_idx < seconds
        for name, values in samples.items():
            column = np.full(seconds, np.nan)
            column[sample_idx[keep]] = np.asarray(values, dtype=float)[keep]
            frame[name] = column
    return frame


def _latency_percentiles(
    r: RunResult, done: np.ndarray, completed: np.ndarray, seconds: int
) -> pd.DataFrame:
    """Checkout latency percentiles of the orders completing in each second."""
    latency = (r.checkout_end - r.arrival)[completed]
    when = done[completed]
    out = {
        q: np.full(seconds, np.nan) for q in ("checkout_p50_s", "checkout_p95_s", "checkout_p99_s")
    }
    if latency.size:
        order = np.lexsort((latency, when))
        when, latency = when[order], latency[order]
        starts = np.searchsorted(when, np.arange(seconds))
        ends = np.searchsorted(when, np.arange(seconds), side="right")
        for s in np.nonzero(ends > starts)[0]:
            chunk = latency[starts[s] : ends[s]]
            p50, p95, p99 = np.percentile(chunk, [50, 95, 99])
            out["checkout_p50_s"][s] = p50
            out["checkout_p95_s"][s] = p95
            out["checkout_p99_s"][s] = p99
    return pd.DataFrame(out)
