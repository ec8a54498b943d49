"""Small scenarios built in code, so tests stay fast and independent of the shipped ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.config import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "reference_shop.yaml"


def write_scenario(directory: Path, **overrides: object) -> Path:
    """A short scenario against the reference shop, with fields replaced by ``overrides``."""
    scenario: dict[str, object] = {
        "name": "tiny",
        "model": str(MODEL),
        "horizon": "4m",
        "warmup": "30s",
        "seed": 5,
        "replications": 2,
        "traffic": {
            "rate": "15/s",
            "basket": {"lognormal": {"median": 60, "p99": 400}},
            "patience": {"exponential": {"mean": "25s"}},
        },
        "faults": [{"target": "primary", "kind": "outage", "start": "2m", "duration": "1m"}],
        "configurations": {
            "plain": {},
            "breaker": {
                "payment": {
                    "timeout": "2s",
                    "breaker": {
                        "failure_rate_threshold": "50%",
                        "sliding_window_size": 20,
                        "minimum_number_of_calls": 10,
                        "wait_duration_in_open_state": "10s",
                    },
                    "fallback": "secondary",
                }
            },
        },
    }
    scenario.update(overrides)
    path = directory / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> LoadedScenario:
    return load_scenario(write_scenario(tmp_path))


@pytest.fixture
def calm(tmp_path: Path) -> LoadedScenario:
    """No faults, 30 minutes at 20/s: long enough for steady-state statistics."""
    return load_scenario(
        write_scenario(
            tmp_path,
            faults=[],
            horizon="30m",
            traffic={
                "rate": "20/s",
                "basket": {"constant": 50},
                "patience": {"constant": "1h"},
            },
        )
    )
