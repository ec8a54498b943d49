"""The engine against queueing theory: Erlang C, M/M/1 and Little's law."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import pytest
import simpy

from benchmarks.theory import erlang_c_wait, mm1_sojourn, mm1_wait
from sim.analysis.stats import mean_ci
from sim.config.model import Dependency
from sim.config.scenario import LoadedScenario
from sim.dists import draws, stream, uniforms
from sim.engine import simulate
from sim.engine.clock import spawn
from sim.engine.dependency import DependencyRuntime


def mm_c(
    lam: float, mu: float, c: int, horizon: float, warmup: float, rep: int
) -> tuple[float, float]:
    """One replication through a DependencyRuntime: (mean sojourn, mean queue wait)."""
    env = simpy.Environment()
    spec = Dependency.model_validate({"latency": {"exponential": {"mean": 1 / mu}}, "capacity": c})
    dep = DependencyRuntime(
        env,
        "server",
        spec,
        draws(spec.latency, stream(42, rep, "service")),
        uniforms(stream(42, rep, "outcome")),
        [],
    )
    arrivals = np.cumsum(stream(42, rep, "arrivals").exponential(1 / lam, int(lam * horizon * 1.2)))
    sojourn: list[float] = []
    marks: dict[str, tuple[int, float]] = {}

    def customer() -> Generator[simpy.Event, Any, None]:
        start = env.now
        outcome = yield from dep.call(math.inf)
        assert outcome == "success"
        if start >= warmup:
            sojourn.append(env.now - start)

    def source() -> Generator[simpy.Event, Any, None]:
        for at in arrivals:
            if at >= horizon:
                return
            if at >= warmup and "warm" not in marks:
                marks["warm"] = (dep.calls, dep.pool.wait_total)
            yield env.timeout(at - env.now)
            spawn(env, customer())

    env.process(source())
    env.run()
    calls0, wait0 = marks["warm"]
    return float(np.mean(sojourn)), (dep.pool.wait_total - wait0) / (dep.calls - calls0)


def interval(values: list[float]) -> tuple[float, float]:
    _, low, high = mean_ci(np.asarray(values))
    return low, high


@pytest.mark.slow
def test_mmc_queue_wait_reproduces_erlang_c() -> None:
    lam, mu, c = 9.0, 1.0, 10
    runs = [mm_c(lam, mu, c, horizon=3000, warmup=300, rep=r) for r in range(12)]
    expected_wq = erlang_c_wait(lam, mu, c)  # 0.6687 s
    low, high = interval([wq for _, wq in runs])
    assert low <= expected_wq <= high, (low, expected_wq, high)
    low, high = interval([w for w, _ in runs])
    assert low <= expected_wq + 1 / mu <= high, (low, expected_wq + 1 / mu, high)
    assert high - low < 0.2  # the interval is tight enough to mean something


def test_mm1_sojourn_time() -> None:
    lam, mu = 0.7, 1.0
    runs = [mm_c(lam, mu, 1, horizon=8000, warmup=500, rep=r) for r in range(12)]
    low, high = interval([w for w, _ in runs])
    expected = mm1_sojourn(lam, mu)  # 3.33 s
    assert low <= expected <= high, (low, expected, high)
    low, high = interval([wq for _, wq in runs])
    assert low <= mm1_wait(lam, mu) <= high


def test_mm1_is_not_mistaken_for_mm2() -> None:
    """The check above can fail: a server of capacity 2 lands far outside the interval."""
    runs = [mm_c(0.7, 1.0, 2, horizon=4000, warmup=300, rep=r) for r in range(6)]
    _, high = interval([w for w, _ in runs])
    assert high < 1 / (1.0 - 0.7) * 0.6


def test_littles_law_per_stage(calm: LoadedScenario) -> None:
    """L (time-average occupancy, sampled each second) = lambda x W, stage by stage."""
    result = simulate(calm, "plain", 0)
    seconds = len(result.samples["time"])
    for stage, (entries, total_time) in result.stage_stats.items():
        samples = np.asarray(result.samples[f"in_stage_{stage}"], dtype=float)
        lam = entries / seconds
        w = total_time / entries
        sampled = float(samples.mean())
        se = float(samples.std(ddof=1)) / math.sqrt(samples.size)
        assert abs(sampled - lam * w) <= 0.03 * lam * w + 4 * se, (stage, sampled, lam * w)
