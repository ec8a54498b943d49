"""Incident traces: parsing, interpolation, and the replay's effect on calls."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import simpy

from sim.config import load_scenario
from sim.config.model import Dependency
from sim.config.trace import load_trace
from sim.dists import draws, stream, uniforms
from sim.engine.clock import spawn
from sim.engine.dependency import DependencyRuntime
from sim.engine.faults import active_fault
from sim.errors import ConfigError
from tests.conftest import write_scenario

ROOT = Path(__file__).resolve().parents[1]


def dependency_with(
    tmp_path: Path, csv: str, latency: str = "100ms"
) -> tuple[simpy.Environment, DependencyRuntime]:
    (tmp_path / "trace.csv").write_text(csv)
    path = write_scenario(
        tmp_path, faults=[{"target": "primary", "kind": "trace", "file": "trace.csv", "start": 0}]
    )
    spec = load_scenario(path).scenario.faults[0]
    env = simpy.Environment()
    dep_spec = Dependency.model_validate({"latency": {"constant": latency}})
    fault = active_fault(spec, uniforms(stream(1, 0, "fault")), dep_spec.latency)
    dep = DependencyRuntime(
        env,
        "primary",
        dep_spec,
        draws(dep_spec.latency, stream(1, 0, "l")),
        uniforms(stream(1, 0, "u")),
        [fault],
    )
    return env, dep


def outcomes_at(
    env: simpy.Environment, dep: DependencyRuntime, t: float, n: int
) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []

    def one() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(t)
        start = env.now
        outcome = yield from dep.call(5.0)
        out.append((outcome, env.now - start))

    for _ in range(n):
        spawn(env, one())
    env.run()
    return out


def test_availability_is_interpolated_between_rows(tmp_path: Path) -> None:
    env, dep = dependency_with(tmp_path, "time,availability\n0,1\n100,0\n")
    results = outcomes_at(env, dep, 50.0, 4000)
    refused = sum(o == "connection" for o, _ in results) / len(results)
    assert refused == pytest.approx(0.5, abs=0.03)


def test_latency_multiplier_and_error_rates(tmp_path: Path) -> None:
    csv = "time,latency_multiplier,server_error_rate\n0,1,0\n100,3,20%\n"
    env, dep = dependency_with(tmp_path, csv)
    results = outcomes_at(env, dep, 50.0, 3000)
    ok = [d for o, d in results if o == "success"]
    assert ok and all(d == pytest.approx(0.2) for d in ok)  # 100 ms x 2
    errors = sum(o == "server_error" for o, _ in results) / len(results)
    assert errors == pytest.approx(0.10, abs=0.02)


def test_trace_fault_lasts_as_long_as_the_trace(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("# a comment\ntime,availability\n0,1\n2m,0.5\n")
    path = write_scenario(
        tmp_path, faults=[{"target": "primary", "kind": "trace", "file": "t.csv", "start": "1m"}]
    )
    fault = load_scenario(path).scenario.faults[0]
    assert fault.duration == 120 and fault.end == 180


@pytest.mark.parametrize(
    ("csv", "line", "says"),
    [
        ("time,availabilty\n0,1\n1,1\n", 1, "unknown column"),
        ("time,availability\n0,1\n0,1\n", 3, "must increase"),
        ("time,availability\n0,1\n5,150%\n", 3, "100%"),
        ("time,availability\n0,1\n5\n", 3, "expected 2 values"),
    ],
)
def test_bad_traces_name_file_and_line(tmp_path: Path, csv: str, line: int, says: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(csv)
    with pytest.raises(ConfigError) as err:
        load_trace(path)
    assert err.value.line == line and says in err.value.message and err.value.file == str(path)


def test_missing_trace_file_points_at_the_fault(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path, faults=[{"target": "primary", "kind": "trace", "file": "nope.csv", "start": 0}]
    )
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.path == "faults[0].file" and "not found" in err.value.message


def test_shipped_incident_loads() -> None:
    trace = load_trace(ROOT / "scenarios" / "incidents" / "primary_gateway_2026-03-14.csv")
    assert trace.length == 1200
    assert set(trace.columns) >= {"availability", "latency_median", "latency_p99"}
