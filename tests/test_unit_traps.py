"""Values that are legal but almost certainly not meant are refused with the fix spelled
out (README, units): a percentage below 1 where the library counts in percent, a bare
number of more than an hour where seconds are assumed, a latency fault's add longer than
the horizon."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.config import load_scenario
from sim.config.configuration import StagePolicy
from sim.errors import ConfigError
from sim.resilience.policy import BreakerPolicy

ROOT = Path(__file__).resolve().parents[1]
MODEL = (ROOT / "models" / "reference_shop.yaml").as_posix()


@pytest.mark.parametrize(
    ("library", "field"),
    [
        ("resilience4j", "failure_rate_threshold"),
        ("hystrix", "circuit_breaker_error_threshold_percentage"),
        ("opossum", "error_threshold_percentage"),
    ],
)
def test_a_bare_percentage_below_one_is_refused_in_every_percent_field(
    library: str, field: str
) -> None:
    with pytest.raises(
        ValueError, match=re.escape("write 50 for 50 %, or '0.5%' if you do mean 0.5 %")
    ):
        BreakerPolicy.preset(library, **{field: 0.5})
    assert BreakerPolicy.preset(library, **{field: "0.5%"}).failure_rate_threshold == pytest.approx(
        0.005
    )


@pytest.mark.parametrize("value", [3601, 5000, "7200", 86400])
def test_a_bare_number_over_an_hour_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match=rf"write '{value}ms' for milliseconds"):
        StagePolicy.model_validate({"timeout": value})


@pytest.mark.parametrize("value", [3600, 3000, 7200.0, "7200s", "2h", "5000ms", 0.5])
def test_an_hour_or_less_floats_and_units_are_taken_as_written(value: object) -> None:
    StagePolicy.model_validate({"timeout": value})


def scenario(tmp_path: Path, fault: str, horizon: str = "30m") -> Path:
    path = tmp_path / "s.yaml"
    text = f"""
    name: s
    model: {MODEL}
    horizon: {horizon}
    traffic: {{rate: 1/s, basket: {{constant: 50}}, patience: {{constant: 30s}}}}
    faults:
      - {fault}
    configurations:
      plain: {{}}
    """
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_a_latency_add_longer_than_the_horizon_is_refused_at_its_line(tmp_path: Path) -> None:
    path = scenario(
        tmp_path, "{target: primary, kind: latency, start: 1m, duration: 5m, add: 50m}", "40m"
    )
    with pytest.raises(
        ConfigError, match=r"add 50m is longer than the horizon \(40m\).*'3000ms'"
    ) as caught:
        load_scenario(path)
    assert caught.value.line == 6 and caught.value.path == "faults[0].add"
    load_scenario(
        scenario(
            tmp_path,
            "{target: primary, kind: latency, start: 1m, duration: 5m, add: 3000ms}",
            "40m",
        )
    )


def test_a_bare_hour_and_more_in_a_scenario_names_the_field(tmp_path: Path) -> None:
    path = scenario(tmp_path, "{target: primary, kind: outage, start: 1m, duration: 7200}", "3h")
    with pytest.raises(ConfigError, match="write '7200ms' for milliseconds") as caught:
        load_scenario(path)
    assert caught.value.path == "faults[0].duration"


def test_a_bare_latency_add_of_a_hundred_seconds_or_more_is_refused(tmp_path: Path) -> None:
    """The issue's case: 'add: 3000' meant 3 s and was 50 minutes, inside a 60 m horizon."""
    path = scenario(
        tmp_path, "{target: primary, kind: latency, start: 1m, duration: 5m, add: 3000}", "60m"
    )
    with pytest.raises(
        ConfigError, match="add: 3000 delays every affected call by 50 minutes: write '3000ms'"
    ) as caught:
        load_scenario(path)
    assert caught.value.path == "faults[0].add"
    for fine in ("add: 99", "add: 3000ms", "add: 3000s", "add: 2.5"):
        load_scenario(
            scenario(
                tmp_path,
                f"{{target: primary, kind: latency, start: 1m, duration: 5m, {fine}}}",
                "60m",
            )
        )
