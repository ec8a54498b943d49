"""Fitting a dependency's model from monitoring data: a lognormal latency by median and p99
(or the empirical distribution when the lognormal fits poorly), error and decline rates
with their intervals, and a capacity where latency shows calls queueing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import optimize, stats

Z99 = 2.3263478740408408  # standard normal quantile at 0.99
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
EMPIRICAL_POINTS = 200  # an empirical latency keeps this many quantiles, not every sample


@dataclass(frozen=True)
class FitPolicy:
    """When a lognormal is poor enough to fall back to the empirical distribution: its KS
    distance exceeds ``ks_max`` and the 5 % critical value (so both relevant and real), or
    its p99 is off by more than ``p99_error_max`` with ``p99_samples`` calls to judge by."""

    ks_max: float = 0.05
    p99_error_max: float = 0.25
    p99_samples: int = 500
    min_samples: int = 20
    confidence: float = 0.95


DEFAULT_POLICY = FitPolicy()


@dataclass(frozen=True)
class LatencyFit:
    """A latency fit: the lognormal's median and p99 with intervals, its KS distance, the
    observed and fitted quantiles, and the distribution chosen (``empirical`` holds its
    quantile points). ``qq`` pairs observed with fitted quantiles for the QQ plot."""

    kind: Literal["lognormal", "empirical", "constant"]
    samples: int
    median: float
    p99: float
    median_ci: tuple[float, float]
    p99_ci: tuple[float, float]
    ks: float
    observed: dict[str, float]
    fitted: dict[str, float]
    qq: tuple[np.ndarray, np.ndarray]
    empirical: list[float] = field(default_factory=list)
    reason: str = ""

    @property
    def sigma(self) -> float:
        return float(np.log(self.p99 / self.median) / Z99) if self.p99 > self.median else 0.0


def _lognormal_quantiles(mu: float, sigma: float) -> dict[str, float]:
    return {k: float(np.exp(mu + sigma * stats.norm.ppf(q))) for k, q in QUANTILES.items()}


def _interval(centre: float, se: float, confidence: float) -> tuple[float, float]:
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return float(np.exp(centre - z * se)), float(np.exp(centre + z * se))


def fit_latency_samples(latencies: np.ndarray, policy: FitPolicy = DEFAULT_POLICY) -> LatencyFit:
    """Fit per-call latencies (seconds) by maximum likelihood (scipy's ``lognorm.fit``)."""
    x = np.sort(np.asarray(latencies, dtype=float))
    n = len(x)
    observed = {k: float(np.quantile(x, q)) for k, q in QUANTILES.items()}
    probabilities = (np.arange(min(n, EMPIRICAL_POINTS)) + 0.5) / min(n, EMPIRICAL_POINTS)
    if np.ptp(x) == 0:
        value = float(x[0])
        flat = (value, value)
        qq_flat = (np.quantile(x, probabilities), np.full(len(probabilities), value))
        return LatencyFit("constant", n, value, value, flat, flat, 0.0, observed, observed, qq_flat)
    x = np.maximum(x, x[x > 0].min() / 2 if (x > 0).any() else 1e-6)  # a logarithm needs > 0
    sigma, _, scale = stats.lognorm.fit(x, floc=0)
    mu = float(np.log(scale))
    # Intervals from the normal theory of log-latencies: mu's standard error, and by the
    # delta method that of mu + z99 sigma (the log of the p99).
    sd = float(np.std(np.log(x), ddof=1))
    se_mu = sd / np.sqrt(n)
    se_p99 = np.sqrt(sd**2 / n + Z99**2 * sd**2 / (2 * (n - 1)))
    fitted = _lognormal_quantiles(mu, float(sigma))
    ks = float(stats.kstest(x, "lognorm", args=(sigma, 0, scale)).statistic)
    qq = (np.quantile(x, probabilities), stats.lognorm.ppf(probabilities, sigma, 0, scale))
    critical = 1.358 / np.sqrt(n)  # the KS test's 5 % critical value
    reason = ""
    if ks > max(policy.ks_max, critical):
        reason = f"KS distance {ks:.3f} above {max(policy.ks_max, critical):.3f}"
    elif n >= policy.p99_samples:
        error = abs(fitted["p99"] / observed["p99"] - 1)
        if error > policy.p99_error_max:
            reason = f"fitted p99 off the observed one by {error:.0%}"
    return LatencyFit(
        kind="empirical" if reason else "lognormal",
        samples=n,
        median=float(scale),
        p99=fitted["p99"],
        median_ci=_interval(mu, se_mu, policy.confidence),
        p99_ci=_interval(mu + Z99 * float(sigma), float(se_p99), policy.confidence),
        ks=ks,
        observed=observed,
        fitted=fitted,
        qq=qq,
        empirical=[float(v) for v in np.quantile(x, probabilities)] if reason else [],
        reason=reason,
    )


def histogram_quantile(q: float | np.ndarray, bounds: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Quantiles of bucketed latencies as Prometheus's ``histogram_quantile`` computes them:
    linear within a bucket, the first starting at 0, none above the largest bound."""
    cumulative = np.cumsum(counts)
    edges = np.concatenate([[0.0], bounds, [bounds[-1]]])
    ranks = np.atleast_1d(q) * cumulative[-1]
    out = np.interp(ranks, np.concatenate([[0.0], cumulative]), edges)
    return np.asarray(out, dtype=float)


def fit_latency_histogram(
    bounds: np.ndarray, counts: np.ndarray, policy: FitPolicy = DEFAULT_POLICY
) -> LatencyFit:
    """Fit bucketed latencies (``counts[i]`` up to ``bounds[i]``, the last above them all)
    by maximum likelihood on the buckets, with intervals from the observed information."""
    counts = np.asarray(counts, dtype=float)
    n = round(float(counts.sum()))
    logs = np.log(np.where(bounds > 0, bounds, 1e-12))
    observed = {k: float(histogram_quantile(q, bounds, counts)[0]) for k, q in QUANTILES.items()}

    def nll(theta: np.ndarray) -> float:
        mu, sigma = theta
        cdf = np.concatenate([[0.0], stats.norm.cdf((logs - mu) / sigma), [1.0]])
        probabilities = np.clip(np.diff(cdf), 1e-300, None)
        return float(-(counts * np.log(probabilities)).sum())

    start_median = max(observed["p50"], 1e-9)
    start = np.array(
        [
            np.log(start_median),
            max(np.log(max(observed["p99"], start_median * 1.01) / start_median) / Z99, 0.05),
        ]
    )
    best = optimize.minimize(nll, start, method="L-BFGS-B", bounds=[(None, None), (1e-4, None)])
    mu, sigma = (float(v) for v in best.x)
    covariance = np.linalg.pinv(_hessian(nll, best.x))
    se_mu = float(np.sqrt(max(covariance[0, 0], 0.0)))
    var_p99 = covariance[0, 0] + Z99**2 * covariance[1, 1] + 2 * Z99 * covariance[0, 1]
    fitted = _lognormal_quantiles(mu, sigma)
    share = np.cumsum(counts)[:-1] / max(counts.sum(), 1.0)
    model = stats.norm.cdf((logs - mu) / sigma)
    ks = float(np.max(np.abs(share - model))) if len(share) else 0.0
    inside = (share > 0) & (share < 1)
    qq = (bounds[inside], np.exp(mu + sigma * stats.norm.ppf(share[inside])))
    reason = (
        f"KS distance {ks:.3f} above {policy.ks_max:.3f}"
        if ks > max(policy.ks_max, 1.358 / np.sqrt(max(n, 1)))
        else ""
    )
    probabilities = (np.arange(EMPIRICAL_POINTS) + 0.5) / EMPIRICAL_POINTS
    return LatencyFit(
        kind="empirical" if reason else "lognormal",
        samples=n,
        median=float(np.exp(mu)),
        p99=fitted["p99"],
        median_ci=_interval(mu, se_mu, policy.confidence),
        p99_ci=_interval(mu + Z99 * sigma, float(np.sqrt(max(var_p99, 0.0))), policy.confidence),
        ks=ks,
        observed=observed,
        fitted=fitted,
        qq=qq,
        empirical=[float(v) for v in histogram_quantile(probabilities, bounds, counts)]
        if reason
        else [],
        reason=reason,
    )


def _hessian(fn: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a scalar function at ``x`` (2 parameters here)."""
    h = np.zeros((len(x), len(x)))
    for i in range(len(x)):
        for j in range(len(x)):
            di, dj = np.eye(len(x))[i] * step, np.eye(len(x))[j] * step
            h[i, j] = (fn(x + di + dj) - fn(x + di - dj) - fn(x - di + dj) + fn(x - di - dj)) / (
                4 * step * step
            )
    return h


@dataclass(frozen=True)
class Rate:
    """A share with its Wilson interval, from ``count`` out of ``total``."""

    value: float
    low: float
    high: float
    count: int
    total: int


def rate(count: float, total: float, confidence: float = 0.95) -> Rate:
    k, n = round(count), round(total)
    if n <= 0:
        return Rate(0.0, 0.0, 1.0, 0, 0)
    interval = stats.binomtest(k, n).proportion_ci(confidence, method="wilson")
    return Rate(k / n, float(interval.low), float(interval.high), k, n)


def outcome_rates(counts: Mapping[str, float], confidence: float = 0.95) -> dict[str, Rate]:
    """The model's rates: each error category out of every call, and declines out of the
    calls that did not fail (the engine draws a decline only for those)."""
    total = sum(counts.values())
    rates = {
        c: rate(counts.get(c, 0), total, confidence)
        for c in ("timeout", "connection", "server_error")
    }
    answered = counts.get("ok", 0) + counts.get("declined", 0)
    rates["decline"] = rate(counts.get("declined", 0), answered, confidence)
    return rates


def in_flight_at_start(start: np.ndarray, latency: np.ndarray) -> np.ndarray:
    """For each call, how many other calls were in flight when it started."""
    order = np.argsort(start, kind="stable")
    starts = start[order]
    ends = np.sort(start + latency)
    others = np.searchsorted(starts, starts, side="right") - np.searchsorted(ends, starts, "right")
    result = np.empty(len(start), dtype=int)
    result[order] = others - 1
    return result


BASELINE_SAMPLE = 5000  # calls the saturation test compares each level with, at most


@dataclass(frozen=True)
class CapacityEstimate:
    """The concurrency from which calls queue: at ``capacity`` calls in flight or more,
    latency's lower quartile is ``ratio`` times its value at low concurrency."""

    capacity: int
    ratio: float
    p_value: float
    calls_queued: int


def estimate_capacity(
    start: np.ndarray,
    latency: np.ndarray,
    min_calls: int = 30,
    min_ratio: float = 1.2,
    alpha: float = 1e-3,
) -> CapacityEstimate | None:
    """A capacity when the data shows saturation, else None.

    A call that finds ``capacity`` others in flight waits for one to finish, so from that
    level on even its fastest calls are slower. The lower quartile shows this sooner than
    the median. Each level (or group of sparse levels) with ``min_calls`` calls is compared
    with the calls at the lower half of concurrency (one-sided Mann-Whitney); the capacity
    is the first level from which every group is slower by ``min_ratio``, significantly.
    The first levels past the true capacity wait little, so this level errs upwards (by
    up to about 40 % on synthetic queues); capacity.fifo_capacity then reads
    the capacity itself below it (tests/test_calibration_fit.py).
    """
    keep = np.isfinite(latency)
    start, latency = start[keep], latency[keep]
    if len(start) < 2 * min_calls:
        return None
    level = in_flight_at_start(start, latency)
    cut = float(np.median(level))
    baseline = latency[level <= cut]
    base_q = float(np.quantile(baseline, 0.25))
    if len(baseline) < min_calls or base_q <= 0:
        return None
    # Consecutive levels are pooled until each group holds min_calls calls: under
    # overload the queue grows quickly and each level alone holds a few calls.
    verdicts: list[tuple[int, bool, float, float]] = []
    group: list[int] = []
    order = np.argsort(level, kind="stable")
    levels, by_level = level[order], latency[order]
    # A few thousand baseline calls tell a 20 % shift as well as all of them, and keep the
    # test cheap when the log holds hundreds of thousands (an evenly spaced sample).
    reference = baseline[:: max(1, len(baseline) // BASELINE_SAMPLE)]
    for value in np.unique(level[level > cut]):
        group.append(int(value))
        low = np.searchsorted(levels, group[0], side="left")
        calls = by_level[low : np.searchsorted(levels, group[-1], side="right")]
        if len(calls) < min_calls:
            continue
        ratio = float(np.quantile(calls, 0.25)) / base_q
        p = float(stats.mannwhitneyu(calls, reference, alternative="greater").pvalue)
        verdicts.append((group[0], ratio >= min_ratio and p < alpha, ratio, p))
        group = []
    found: CapacityEstimate | None = None
    for value, saturated, ratio, p in reversed(verdicts):
        if not saturated:
            break
        found = CapacityEstimate(value, ratio, p, int((level >= value).sum()))
    return found
