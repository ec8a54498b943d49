"""The resilience stack in the engine: bulkheads, rate limiter, hedging and layer order."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import pytest
import simpy

from sim.config.model import Dependency
from sim.config.scenario import StagePolicy
from sim.dists import draws, stream, uniforms
from sim.engine.calls import GuardedDependency
from sim.engine.clock import spawn
from sim.engine.dependency import DependencyRuntime
from sim.engine.stack import retry_setup, stack_setup
from sim.resilience import CircuitBreaker
from sim.resilience.breaker import BreakerPolicy


def guarded(
    policy: dict[str, Any], latency: dict[str, Any], timeout: float = 10.0
) -> tuple[simpy.Environment, GuardedDependency]:
    env = simpy.Environment()
    spec = Dependency.model_validate({"latency": latency})
    dep = DependencyRuntime(
        env,
        "dep",
        spec,
        draws(spec.latency, stream(1, 0, "lat"), block=8),
        uniforms(stream(1, 0, "u")),
        [],
    )
    stage = StagePolicy.model_validate(policy)
    retry, budget = retry_setup(stage.retry)
    g = GuardedDependency(
        dep,
        stage.timeout or timeout,
        retry,
        None,
        uniforms(stream(1, 0, "j")),
        budget,
        layers=stage.layers,
        **stack_setup(env, stage),
    )
    return env, g


def calls_at(
    env: simpy.Environment, g: GuardedDependency, times: list[float]
) -> list[tuple[float, str, float]]:
    out: list[tuple[float, str, float]] = []

    def one(i: int, at: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(at)
        outcome = yield from g.call()
        out.append((i, outcome, env.now))

    for i, t in enumerate(times):
        spawn(env, one(i, t))
    env.run(until=1000)
    return [(t, o, end) for t, o, end in sorted(out)]


def test_semaphore_bulkhead_rejects_at_once_without_wait() -> None:
    env, g = guarded({"bulkhead": {"max_concurrent_calls": 2}}, {"constant": "500ms"})
    outcomes = [o for _, o, _ in calls_at(env, g, [0.0, 0.0, 0.0])]
    assert outcomes == ["success", "success", "rejected"]
    assert g.dependency.calls == 2


def test_semaphore_bulkhead_waits_up_to_max_wait() -> None:
    env, g = guarded(
        {"bulkhead": {"max_concurrent_calls": 1, "max_wait_duration": "1s"}}, {"constant": "500ms"}
    )
    results = calls_at(env, g, [0.0, 0.0, 0.0])
    assert [o for _, o, _ in results] == ["success", "success", "rejected"]
    assert results[1][2] == pytest.approx(1.0)  # waited for the first call's slot
    assert results[2][2] == pytest.approx(1.0)  # gave up after max_wait_duration


def test_thread_pool_bulkhead_core_then_queue_then_extra_threads_then_reject() -> None:
    env, g = guarded(
        {
            "bulkhead": {
                "type": "thread_pool",
                "core_thread_pool_size": 1,
                "max_thread_pool_size": 2,
                "queue_capacity": 1,
            }
        },
        {"constant": "1s"},
    )
    results = calls_at(env, g, [0.0, 0.0, 0.0, 0.0])
    assert [o for _, o, _ in results] == ["success", "success", "success", "rejected"]
    ends = [end for _, _, end in results]
    assert ends[0] == pytest.approx(1.0)  # core thread
    assert ends[2] == pytest.approx(1.0)  # extra thread, because the queue was full
    assert ends[1] == pytest.approx(2.0)  # queued behind them


def test_rate_limiter_rejects_or_waits_for_the_next_cycle() -> None:
    limiter = {"limit_for_period": 2, "limit_refresh_period": "1s"}
    env, g = guarded({"rate_limiter": {**limiter, "timeout_duration": 0}}, {"constant": "10ms"})
    assert [o for _, o, _ in calls_at(env, g, [0.0, 0.0, 0.0])] == [
        "success",
        "success",
        "rejected",
    ]
    env, g = guarded({"rate_limiter": {**limiter, "timeout_duration": "2s"}}, {"constant": "10ms"})
    results = calls_at(env, g, [0.0, 0.0, 0.0])
    assert [o for _, o, _ in results] == ["success"] * 3
    assert results[2][2] == pytest.approx(1.01)


def test_time_limiter_outside_bulkhead_counts_the_wait_inside_does_not() -> None:
    """The default order puts the time limiter around the bulkhead: waiting for a slot
    spends the timeout. Ordered the other way, each call gets its full timeout after."""
    bulkhead = {"max_concurrent_calls": 1, "max_wait_duration": "10s"}
    env, g = guarded({"timeout": "3s", "bulkhead": bulkhead}, {"constant": "2s"})
    default = calls_at(env, g, [0.0, 0.0])
    assert [(o, end) for _, o, end in default] == [("success", 2.0), ("timeout", 3.0)]
    order = ["retry", "hedging", "circuit_breaker", "rate_limiter", "bulkhead", "time_limiter"]
    env, g = guarded({"timeout": "3s", "bulkhead": bulkhead, "order": order}, {"constant": "2s"})
    swapped = calls_at(env, g, [0.0, 0.0])
    assert [(o, end) for _, o, end in swapped] == [("success", 2.0), ("success", 4.0)]


def test_hedging_with_slow_calls_always_hedges() -> None:
    env, g = guarded({"hedging": {"max_hedged_attempts": 2, "delay": "1s"}}, {"constant": "3s"})
    results = calls_at(env, g, [0.0])
    assert results[0][1:] == ("success", pytest.approx(3.0))  # the first attempt wins
    assert g.dependency.calls == 3  # both hedges were launched, at 1 s and 2 s


def test_hedging_fallback_mode_waits_for_a_failure() -> None:
    env, g = guarded(
        {"timeout": "1s", "hedging": {"max_hedged_attempts": 1, "delay": "-1s"}},
        {"constant": "3s"},
    )
    results = calls_at(env, g, [0.0])
    assert results[0][1:] == ("timeout", pytest.approx(2.0))  # second attempt after the first
    assert g.dependency.calls == 2


def test_breaker_outside_retry_sees_one_result_per_call() -> None:
    retry = {"max_attempts": 3, "wait": "10ms"}
    inside = ["retry", "hedging", "circuit_breaker", "rate_limiter", "time_limiter", "bulkhead"]
    outside = ["circuit_breaker", "retry", "hedging", "rate_limiter", "time_limiter", "bulkhead"]
    counts = {}
    for name, order in (("inside", inside), ("outside", outside)):
        env, g = guarded({"timeout": "1s", "retry": retry, "order": order}, {"constant": "3s"})
        g.breaker = CircuitBreaker(BreakerPolicy(sliding_window_size=100))
        calls_at(env, g, [0.0])
        counts[name] = g.breaker.metrics(math.inf)[0]
    assert counts == {"inside": 3, "outside": 1}


def test_a_customer_who_left_never_strands_a_half_open_permit(tmp_path: Any) -> None:
    """Regression: through the general stack (hedging here), a call abandoned inside the
    breaker used to keep its half-open permit, leaving the breaker half-open for ever."""
    from sim.config import load_scenario
    from sim.engine import simulate
    from tests.conftest import write_scenario

    breaker = {
        "minimum_number_of_calls": 10,
        "sliding_window_size": 20,
        "wait_duration_in_open_state": "5s",
    }
    path = write_scenario(  # the default fault: the primary is down from 2 to 3 minutes
        tmp_path,
        traffic={
            "rate": "15/s",
            "basket": {"constant": 50},
            "patience": {"exponential": {"mean": "5s"}},
        },
        configurations={
            "c": {
                "payment": {
                    "timeout": "2s",
                    "breaker": breaker,
                    "hedging": {"max_hedged_attempts": 2, "delay": "300ms"},
                }
            }
        },
    )
    result = simulate(load_scenario(path), "c", 0)
    last = [new for _, name, _, new in result.transitions if name == "primary"][-1]
    assert last == "closed"
    late = (result.arrival > 185) & (result.outcome == 0)  # the outage ends at 3 min
    assert np.count_nonzero(late) > 100


def test_hedged_captures_that_land_late_are_charged(tmp_path: Any) -> None:
    """Regression: without idempotency keys, a hedged capture whose loser also went through
    is a double charge, even when the loser lands after the saga moved on."""
    from sim.analysis import summary_row
    from sim.config import load_scenario
    from sim.engine import simulate
    from tests.conftest import write_scenario

    path = write_scenario(
        tmp_path,
        faults=[],
        configurations={
            "c": {
                "idempotency_keys": False,
                "processing": {"workflow": "saga"},
                "payment": {"hedging": {"max_hedged_attempts": 1, "delay": 0}},
            }
        },
    )
    row = summary_row(simulate(load_scenario(path), "c", 0))
    assert int(row["double_charges"]) > 0.5 * int(row["completed"])
