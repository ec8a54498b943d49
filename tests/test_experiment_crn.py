"""Common random numbers: every configuration sees the same customers and faults, so the
interval of a difference between neighbouring set-ups is far narrower than with
independent seeds at the same number of runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.crn import CrnComparison, compare
from sim.config import load_scenario
from sim.dists import stream
from sim.engine import simulate
from tests.conftest import write_scenario


def breaker(threshold: str) -> dict[str, object]:
    return {
        "payment": {
            "timeout": "2s",
            "breaker": {
                "failure_rate_threshold": threshold,
                "sliding_window_size": 20,
                "minimum_number_of_calls": 10,
                "wait_duration_in_open_state": "10s",
            },
            "fallback": "secondary",
        }
    }


CONFIGURATIONS = {
    "plain": {},
    "retry": {"payment": {"timeout": "2s", "retry": {"max_attempts": 3, "wait": "200ms"}}},
    "b50": breaker("50%"),
    "b80": breaker("80%"),
}


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), [("b50", "b80"), ("plain", "retry")])
def test_crn_interval_of_revenue_lost_difference_is_3x_narrower(
    tmp_path: Path, a: str, b: str
) -> None:
    loaded = load_scenario(write_scenario(tmp_path, configurations=CONFIGURATIONS))
    result = compare(loaded, a, b, replications=6, seed=5, independent_seed=1005)
    assert result.ratio >= 3, result


def test_ratio_interval_is_a_bootstrap_over_replications() -> None:
    """Paired runs that move together: their difference varies far less than against an
    independent run, and the bootstrap interval of the ratio brackets the estimate."""
    rng = np.random.default_rng(3)
    a = rng.normal(1000, 100, 30)
    crn = CrnComparison("revenue_lost", a, a + rng.normal(0, 10, 30), rng.normal(1000, 100, 30))
    low, high = crn.ratio_interval()
    assert crn.ratio > 5
    assert low < crn.ratio < high
    assert low > 3 and high < 40
    assert crn.replications == 30


def test_streams_are_keyed_by_seed_replication_and_name_only() -> None:
    first = stream(7, 2, "fault:0").random(5)
    assert np.array_equal(first, stream(7, 2, "fault:0").random(5))
    for other in (stream(8, 2, "fault:0"), stream(7, 3, "fault:0"), stream(7, 2, "fault:1")):
        assert not np.array_equal(first, other.random(5))


def test_faults_hit_the_same_calls_whatever_the_configuration(tmp_path: Path) -> None:
    """A 50 % error-rate fault draws from its own stream: with identical configurations
    under two names, every record is the same."""
    faults = [
        {"target": "primary", "kind": "error_rate", "start": "1m", "duration": "1m",
         "probability": "50%"}
    ]  # fmt: skip
    configurations = {"one": breaker("50%"), "two": breaker("50%")}
    loaded = load_scenario(write_scenario(tmp_path, faults=faults, configurations=configurations))
    one, two = simulate(loaded, "one", 1), simulate(loaded, "two", 1)
    assert np.array_equal(one.outcome, two.outcome)
    assert np.array_equal(one.checkout_end, two.checkout_end, equal_nan=True)
