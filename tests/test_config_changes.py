"""Configuration changes while a scenario runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import simulate
from sim.errors import ConfigError
from tests.conftest import write_scenario

BREAKER = {
    "failure_rate_threshold": 20,
    "sliding_window_size": 20,
    "minimum_number_of_calls": 10,
    "wait_duration_in_open_state": "10s",
}
ERRORS = [
    {
        "target": "primary",
        "kind": "error_rate",
        "probability": "30%",
        "start": "1m",
        "duration": "2m",
    }
]


def run(tmp_path: Path, changes: list[dict[str, Any]]) -> Any:
    path = write_scenario(
        tmp_path,
        faults=ERRORS,
        config_changes=changes,
        configurations={"c": {"payment": {"failover": True, "breaker": BREAKER}}},
    )
    return simulate(load_scenario(path), "c", 0)


def test_a_widened_threshold_keeps_the_breaker_closed_for_its_window(tmp_path: Path) -> None:
    tight = run(tmp_path, [])
    widened = run(
        tmp_path,
        [{"at": "50s", "until": "3m10s", "set": {"payment.breaker.failure_rate_threshold": 90}}],
    )
    assert summary_row(tight)["breaker_trips"] > 0
    assert summary_row(widened)["breaker_trips"] == 0
    assert [t for t, _ in widened.config_events] == [50.0, 190.0]
    assert "back to the configuration" in widened.config_events[-1][1]


def test_a_change_that_ends_restores_the_written_policy(tmp_path: Path) -> None:
    """Widened only before the errors start: the breaker trips as if nothing changed."""
    early = run(
        tmp_path,
        [{"at": "10s", "until": "40s", "set": {"payment.breaker.failure_rate_threshold": 90}}],
    )
    assert summary_row(early)["breaker_trips"] > 0


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"at": "1m", "set": {"payment.breaker.failure_rate_threshold": 150}}, "percent"),
        ({"at": "1m", "set": {"payment.bulkhead": {"max_concurrent_calls": 3}}}, "add or remove"),
        ({"at": "1m", "configurations": ["nope"], "set": {"payment.timeout": "1s"}}, "nope"),
        ({"at": "2m", "until": "1m", "set": {"payment.timeout": "1s"}}, "until"),
    ],
)
def test_bad_changes_are_refused_before_running(
    tmp_path: Path, change: dict[str, Any], says: str
) -> None:
    path = write_scenario(
        tmp_path,
        config_changes=[change],
        configurations={"c": {"payment": {"breaker": BREAKER}}},
    )
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert says in str(err.value) and "config_changes[0]" in str(err.value)
