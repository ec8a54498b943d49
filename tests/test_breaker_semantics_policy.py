"""Policy rules at their edges: a preset read from a configuration file is the preset built
in code, and Hystrix compares its truncated error percentage with the threshold as written,
fractions of a percent included."""

from __future__ import annotations

import pytest

from sim.config.breakers import PRESETS
from sim.resilience import BreakerPolicy


@pytest.mark.parametrize(
    ("library", "params"),
    [
        ("polly", {"failure_ratio": 0.2, "break_duration": "7s"}),
        ("hystrix", {"circuit_breaker_sleep_window_in_milliseconds": 2500}),
        ("envoy", {"consecutive_5xx": 7}),
    ],
)
def test_a_preset_from_a_file_is_the_preset_built_in_code(
    library: str, params: dict[str, object]
) -> None:
    spec = PRESETS[library].model_validate({"preset": library, **params})
    assert BreakerPolicy.from_spec(spec) == BreakerPolicy.preset(library, **params)


@pytest.mark.parametrize(
    ("threshold", "failures", "calls", "trips"),
    [
        (33.4, 1, 3, False),  # int(33.33) = 33 < 33.4
        (33.0, 1, 3, True),
        (50.0, 1, 2, True),
        (50.5, 101, 200, False),  # 101 of 200 is 50.5 %, truncated to 50 < 50.5
        (50.5, 102, 200, True),
    ],
)
def test_hystrix_threshold_keeps_its_fraction(
    threshold: float, failures: int, calls: int, trips: bool
) -> None:
    policy = BreakerPolicy.preset(
        "hystrix",
        circuit_breaker_error_threshold_percentage=threshold,
        circuit_breaker_request_volume_threshold=1,
    )
    assert policy.exceeded(calls, failures, 0, 1) is trips


def test_node_windows_take_fractional_milliseconds_as_javascript_does() -> None:
    # opossum: Math.floor(rollingCountTimeout / rollingCountBuckets), the timeout as given.
    opossum = BreakerPolicy.preset(
        "opossum", rolling_count_timeout=1000.6, rolling_count_buckets=1
    ).new_window()
    assert opossum.bucket_ms == 1000  # type: ignore[attr-defined]
    # cockatiel: Math.round(duration / windowCount) with max(5, ceil(duration / 1000)) windows.
    cockatiel = BreakerPolicy.preset(
        "cockatiel", breaker="sampling", threshold=0.5, duration=5000.6
    ).new_window()
    assert cockatiel.window_ms == 833  # type: ignore[attr-defined]  # 5000.6 / 6 = 833.4


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"failure_rate_threshold": 0.0}, "failure_rate_threshold must lie in (0, 1]"),
        ({"failure_rate_threshold": 1.5}, "failure_rate_threshold must lie in (0, 1]"),
        ({"slow_call_rate_threshold": 0.0}, "slow_call_rate_threshold must lie in (0, 1]"),
        (
            {"failure_rate_threshold": None},
            "give a failure_rate_threshold or a failure_count_threshold",
        ),
        ({"failure_count_threshold": 0}, "failure_count_threshold must be >= 1"),
        (
            {"minimum_number_of_calls": 0},
            "sliding_window_size and minimum_number_of_calls must be >= 1",
        ),
        (
            {"permitted_number_of_calls_in_half_open_state": 0},
            "permitted_number_of_calls_in_half_open_state must be >= 1",
        ),
        ({"success_threshold": 0}, "success_threshold must be >= 1"),
        ({"max_wait_duration_in_open_state": -1.0}, "durations must be >= 0"),
        (
            {"sweep_interval": 0.0},
            "window_duration, bucket_duration and sweep_interval must be > 0",
        ),
        ({"open_backoff_multiplier": 0.5}, "open_backoff_multiplier must be >= 1"),
        (
            {"window_duration": 0.0},
            "window_duration, bucket_duration and sweep_interval must be > 0",
        ),
        (
            {"bucket_duration": 0.0},
            "window_duration, bucket_duration and sweep_interval must be > 0",
        ),
    ],
)
def test_a_refused_policy_says_why(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        BreakerPolicy(**fields)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_half_open_with_unlimited_permits_decides_after_one_result() -> None:
    policy = BreakerPolicy(permitted_number_of_calls_in_half_open_state=None)
    assert policy.minimum_calls(half_open=True) == 1


def test_boundary_values_a_policy_accepts() -> None:
    BreakerPolicy(max_wait_duration_in_open_state=0.0)  # open for no time at all
    BreakerPolicy(open_backoff="exponential", open_backoff_multiplier=1.0)  # a fixed wait
