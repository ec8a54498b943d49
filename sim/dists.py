"""Random streams and samplers.

Every source of randomness (arrivals, baskets, each dependency's latency...) gets its own
numpy generator, keyed by the scenario seed, the replication and the source's *name* — not
by the configuration — so every configuration sees the same customers and the same faults
(common random numbers), and adding a dependency never shifts another one's draws.
Samplers draw in blocks and hand out plain floats: one ``next()`` per sample on the hot path.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Callable, Iterator

import numpy as np

from sim.config.fields import Distribution
from sim.config.rates import breakpoints

Z99 = 2.3263478740408408  # standard normal quantile at 0.99
BLOCK = 4096


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator of one named source of randomness in one replication."""
    key = (replication, zlib.crc32(name.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def vector_sampler(dist: Distribution) -> Callable[[np.random.Generator, int], np.ndarray]:
    """A function drawing ``n`` values of ``dist`` at once."""
    if dist.lognormal is not None:
        mu = math.log(dist.lognormal.median)
        sigma = (math.log(dist.lognormal.p99) - mu) / Z99
        return lambda rng, n: rng.lognormal(mu, sigma, n)
    if dist.exponential is not None:
        mean = dist.exponential.mean
        return lambda rng, n: rng.exponential(mean, n)
    if dist.constant is not None:
        value = dist.constant
        return lambda rng, n: np.full(n, value)
    assert dist.empirical is not None
    samples = np.asarray(dist.empirical, dtype=float)
    return lambda rng, n: rng.choice(samples, n)


def draws(dist: Distribution, rng: np.random.Generator, block: int = BLOCK) -> Iterator[float]:
    """An endless iterator of samples of ``dist``, drawn ``block`` at a time."""
    if dist.constant is not None:
        return itertools.repeat(float(dist.constant))
    draw = vector_sampler(dist)
    return itertools.chain.from_iterable(draw(rng, block).tolist() for _ in itertools.count())


def uniforms(rng: np.random.Generator, block: int = BLOCK) -> Iterator[float]:
    """An endless iterator of U(0, 1) draws."""
    return itertools.chain.from_iterable(rng.random(block).tolist() for _ in itertools.count())


def rate_breakpoints(
    base: float, changes: list[tuple[float, float, float]], horizon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear arrival rate as (times, rates) from (at, rate, ramp) changes."""
    times, rates = breakpoints(base, changes, horizon)
    return np.asarray(times), np.asarray(rates)


def poisson_arrivals(
    rng: np.random.Generator, times: np.ndarray, rates: np.ndarray, horizon: float
) -> np.ndarray:
    """Arrival instants of a Poisson process with a piecewise-linear rate, by thinning.

    Exact for any rate function bounded by its maximum; vectorised, so a million candidates
    cost milliseconds.
    """
    peak = float(rates.max())
    expected = peak * horizon
    chunks: list[np.ndarray] = []
    t = 0.0
    while t < horizon:
        n = int(expected + 6 * math.sqrt(expected) + 16)
        gaps = rng.exponential(1.0 / peak, n)
        candidates = t + np.cumsum(gaps)
        t = float(candidates[-1])
        candidates = candidates[candidates < horizon]
        keep = rng.random(candidates.size) * peak < np.interp(candidates, times, rates)
        chunks.append(candidates[keep])
    return np.concatenate(chunks) if chunks else np.empty(0)
