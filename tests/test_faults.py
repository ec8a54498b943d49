"""Each fault kind does what its name says, at the dependency, boundaries included."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import pytest
import simpy
from pydantic import TypeAdapter

from sim.config.model import Dependency
from sim.config.scenario import Fault
from sim.dists import draws, stream, uniforms
from sim.engine.clock import spawn
from sim.engine.dependency import DependencyRuntime
from sim.engine.faults import active_fault, drive_capacity

FAULT = TypeAdapter(Fault)


def build(
    faults: list[dict[str, Any]], latency: str = "100ms", capacity: int | None = None
) -> tuple[simpy.Environment, DependencyRuntime]:
    env = simpy.Environment()
    spec = Dependency.model_validate({"latency": {"constant": latency}, "capacity": capacity})
    specs = [FAULT.validate_python({"target": "dep", **f}) for f in faults]
    active = [active_fault(s, uniforms(stream(1, 0, f"fault:{i}"))) for i, s in enumerate(specs)]
    dep = DependencyRuntime(
        env,
        "dep",
        spec,
        draws(spec.latency, stream(1, 0, "lat")),
        uniforms(stream(1, 0, "u")),
        active,
    )
    for s in specs:
        if s.kind == "capacity":
            env.process(drive_capacity(env, dep.pool, [(s.start, s.end, s.capacity)]))
    return env, dep


def calls_at(
    env: simpy.Environment, dep: DependencyRuntime, times: list[float], timeout: float = 5.0
) -> list[tuple[float, str, float]]:
    """(start, outcome, duration) of a call started at each of ``times``."""
    out: list[tuple[float, str, float]] = []

    def one(at: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(at)
        outcome = yield from dep.call(timeout)
        out.append((at, outcome, env.now - at))

    for t in times:
        spawn(env, one(t))
    env.run(until=max(times) + 100)
    return sorted(out)


def test_outage_refuses_fast_inside_its_window_only() -> None:
    env, dep = build([{"kind": "outage", "start": 10, "duration": 5}])
    results = calls_at(env, dep, [9.99, 10.0, 12.0, 14.99, 15.0])
    assert [o for _, o, _ in results] == [
        "success",
        "connection",
        "connection",
        "connection",
        "success",
    ]
    assert results[1][2] == pytest.approx(0.005)  # refused after refuse_latency, not a timeout


def test_error_rate_fails_its_share_with_its_category() -> None:
    env, dep = build(
        [
            {
                "kind": "error_rate",
                "category": "server_error",
                "probability": "30%",
                "start": 0,
                "duration": 1000,
            }
        ]
    )
    results = calls_at(env, dep, [i * 0.1 for i in range(5000)])
    share = sum(o == "server_error" for _, o, _ in results) / len(results)
    assert share == pytest.approx(0.30, abs=0.02)
    assert {o for _, o, _ in results} == {"success", "server_error"}


def test_latency_multiplier_and_ramp() -> None:
    env, dep = build(
        [{"kind": "latency", "multiplier": 20, "start": 10, "duration": 100, "ramp": 10}]
    )
    results = {t: d for t, _, d in calls_at(env, dep, [5.0, 15.0, 20.0, 50.0])}
    assert results[5.0] == pytest.approx(0.1)
    assert results[15.0] == pytest.approx(0.1 * (1 + 19 * 0.5))  # halfway up the ramp
    assert results[20.0] == pytest.approx(2.0)
    assert results[50.0] == pytest.approx(2.0)


def test_latency_add_with_jitter_stays_in_bounds() -> None:
    env, dep = build(
        [{"kind": "latency", "add": "1s", "jitter": "20%", "start": 0, "duration": 1000}]
    )
    durations = [d for _, _, d in calls_at(env, dep, [i * 1.0 for i in range(300)])]
    assert min(durations) >= 1.1 * 0.8 - 1e-9 and max(durations) <= 1.1 * 1.2 + 1e-9
    assert max(durations) - min(durations) > 0.3


def test_hang_ends_only_at_the_callers_timeout() -> None:
    env, dep = build([{"kind": "hang", "start": 0, "duration": 100}], capacity=1)
    results = calls_at(env, dep, [1.0, 200.0], timeout=7.5)
    assert results[0][1:] == ("timeout", pytest.approx(7.5))
    assert results[1][1] == "success"
    assert dep.pool.busy == 0  # the hung call's slot came back


def test_slow_call_beyond_timeout_keeps_the_server_busy() -> None:
    """The caller gives up at its timeout; the server finishes the work regardless."""
    env, dep = build([], latency="10s", capacity=1)
    results = calls_at(env, dep, [0.0, 3.0], timeout=2.0)
    assert [o for _, o, _ in results] == ["timeout", "timeout"]
    assert results[1][2] == pytest.approx(2.0)  # queued behind the abandoned work


def test_capacity_fault_queues_calls_and_restores() -> None:
    env, dep = build(
        [{"kind": "capacity", "capacity": 1, "start": 10, "duration": 10}],
        latency="1s",
        capacity=10,
    )
    results = calls_at(env, dep, [11.0, 11.0, 11.0, 30.0, 30.0, 30.0], timeout=math.inf)
    during = sorted(d for t, _, d in results if t == 11.0)
    after = [d for t, _, d in results if t == 30.0]
    assert during == pytest.approx([1.0, 2.0, 3.0])  # one at a time
    assert after == pytest.approx([1.0, 1.0, 1.0])


def test_flapping_alternates_down_and_up_starting_down() -> None:
    env, dep = build(
        [{"kind": "flapping", "down": "10s", "up": "20s", "start": 100, "duration": 90}]
    )
    times = [100.0, 109.9, 110.0, 129.9, 130.0, 140.0, 160.0, 189.0, 190.0]
    outcomes = [o for _, o, _ in calls_at(env, dep, times)]
    assert outcomes == [
        "connection",
        "connection",
        "success",
        "success",
        "connection",
        "success",
        "connection",
        "success",
        "success",
    ]


def test_probability_limits_the_share_of_calls_affected() -> None:
    env, dep = build([{"kind": "outage", "probability": "25%", "start": 0, "duration": 1000}])
    results = calls_at(env, dep, [i * 0.1 for i in range(4000)])
    share = sum(o == "connection" for _, o, _ in results) / len(results)
    assert share == pytest.approx(0.25, abs=0.02)


def test_overlapping_faults_outage_wins_over_latency() -> None:
    env, dep = build(
        [
            {"kind": "latency", "multiplier": 5, "start": 0, "duration": 100},
            {"kind": "outage", "start": 50, "duration": 10},
        ]
    )
    results = {t: (o, d) for t, o, d in calls_at(env, dep, [10.0, 55.0, 70.0])}
    assert results[10.0] == ("success", pytest.approx(0.5))
    assert results[55.0][0] == "connection"
    assert results[70.0] == ("success", pytest.approx(0.5))


def serve_three_calls(serves_abandoned: bool) -> tuple[str, str, str]:
    env = simpy.Environment()
    spec = Dependency.model_validate(
        {"latency": {"constant": "1s"}, "capacity": 1, "serves_abandoned": serves_abandoned}
    )
    dep = DependencyRuntime(
        env, "dep", spec, draws(spec.latency, stream(1, 0, "lat")), uniforms(stream(1, 0, "u")), []
    )
    out: dict[str, str] = {}

    def call(name: str, at: float, timeout: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(at)
        out[name] = yield from dep.call(timeout)

    spawn(env, call("a", 0.0, 5.0))  # served 0 -> 1
    spawn(env, call("b", 0.05, 0.5))  # queued; its caller leaves at 0.55
    spawn(env, call("c", 0.6, 1.5))  # must be served by 2.1
    env.run()
    return out["a"], out["b"], out["c"]


def test_a_server_that_cannot_cancel_works_for_callers_who_left() -> None:
    """Queued calls whose caller timed out are dropped, unless the dependency
    serves_abandoned: then they still take a slot when their turn comes."""
    assert serve_three_calls(False) == ("success", "timeout", "success")
    assert serve_three_calls(True) == ("success", "timeout", "timeout")


def test_model_overrides_change_the_model_for_one_scenario(tmp_path: Any) -> None:
    from sim.config import load_scenario
    from tests.conftest import write_scenario

    path = write_scenario(tmp_path, model_overrides={"dependencies": {"primary": {"capacity": 7}}})
    loaded = load_scenario(path)
    assert loaded.shop.dependencies["primary"].capacity == 7
    assert loaded.shop.dependencies["secondary"].capacity == 80  # untouched
