"""Policy options reach the engine: presets, per-category breakers, own breakers, retries."""

from __future__ import annotations

from pathlib import Path

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import simulate
from tests.conftest import write_scenario

OUTAGE = [{"target": "primary", "kind": "outage", "start": "1m", "duration": "2m"}]


def run(tmp_path: Path, payment: dict[str, object]) -> dict[str, float | int | str]:
    path = write_scenario(tmp_path, faults=OUTAGE, configurations={"c": {"payment": payment}})
    return summary_row(simulate(load_scenario(path), "c", 0))


def test_every_preset_trips_on_a_hard_outage(tmp_path: Path) -> None:
    presets = (
        "resilience4j",
        "polly",
        "hystrix",
        "pybreaker",
        "circuitbreaker",
        "envoy",
        "absolute",
    )
    for preset in presets:
        breaker: dict[str, object] = {"preset": preset}
        if preset == "resilience4j":
            breaker["minimum_number_of_calls"] = 20
        if preset == "polly":
            breaker["minimum_throughput"] = 20
        row = run(tmp_path, {"timeout": "2s", "breaker": breaker, "fallback": "secondary"})
        assert row["breaker_trips"] > 0, preset
        assert float(row["first_trip_s"]) < 60 + 10, preset  # within 10 s of the outage


def test_per_category_breakers_trip_only_their_category(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path,
        faults=OUTAGE,
        configurations={
            "c": {
                "payment": {
                    "timeout": "2s",
                    "fallback": "secondary",
                    "breaker": {
                        "per_category": {
                            "connection": {"preset": "pybreaker", "fail_max": 3},
                            "timeout": {"preset": "pybreaker", "fail_max": 3},
                        }
                    },
                }
            }
        },
    )
    result = simulate(load_scenario(path), "c", 0)
    opened = {name for _, name, _, new in result.transitions if new == "open"}
    assert "primary:connection" in opened
    assert "primary:timeout" not in opened  # an outage refuses connections: no timeouts


def test_own_breaker_by_class_path_runs_real_pybreaker(tmp_path: Path) -> None:
    ours = run(
        tmp_path, {"timeout": "2s", "fallback": "secondary", "breaker": {"preset": "pybreaker"}}
    )
    real = run(
        tmp_path,
        {
            "timeout": "2s",
            "fallback": "secondary",
            "breaker": {"class": "sim.resilience.pybreaker_adapter:PybreakerAdapter"},
        },
    )
    assert ours == real


def test_retry_budget_caps_amplification_under_total_failure(tmp_path: Path) -> None:
    retry = {"max_attempts": 5, "wait": "10ms"}
    unbudgeted = run(tmp_path, {"retry": retry})
    budgeted = run(tmp_path, {"retry": {**retry, "budget": "token_bucket"}})
    # Unbudgeted: every failed order tries the primary five times during the outage.
    assert int(budgeted["calls_primary"]) < 0.5 * int(unbudgeted["calls_primary"])


def test_polly_convention_counts_retries_not_attempts(tmp_path: Path) -> None:
    r4j = run(tmp_path, {"retry": {"max_attempts": 3, "wait": "10ms"}})
    polly = run(tmp_path, {"retry": {"max_retry_attempts": 2, "wait": "10ms"}})
    assert r4j["calls_primary"] == polly["calls_primary"]


def test_retry_on_limits_what_is_retried(tmp_path: Path) -> None:
    everything = run(tmp_path, {"retry": {"max_attempts": 3, "wait": "10ms"}})
    not_refusals = run(
        tmp_path, {"retry": {"max_attempts": 3, "wait": "10ms", "retry_on": ["timeout"]}}
    )
    assert int(not_refusals["calls_primary"]) < int(everything["calls_primary"])
