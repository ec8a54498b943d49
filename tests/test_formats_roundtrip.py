"""Round trips: import(export(c)) == c for every shipped configuration and every preset a
format can express, compared as behaviour (sim/config/formats/canonical.py), less exactly the
paths the export listed as not expressed; and every path left out is listed loudly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from formats_canonical import Canonical, canonical_configuration, canonical_stage, without

from sim.config import load_scenario
from sim.config.configuration import Configuration, StagePolicy
from sim.config.formats import EXPORTERS, Exported, export_configuration, import_file
from sim.config.formats.common import STAGES
from sim.config.formats.stacks import stages_of
from sim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SUFFIX = {
    "resilience4j": ".yml",
    "dotnet": ".json",
    "envoy": ".yaml",
    "istio": ".yaml",
    "hystrix": ".properties",
    "opossum": ".json",
    "cockatiel": ".json",
    "pybreaker": ".py",
}
SHIPPED = [
    (path.stem, name, config)
    for path in sorted((ROOT / "scenarios").glob("*.yaml"))
    for name, config in load_scenario(path).scenario.configurations.items()
]


def round_trip(config: Configuration, fmt: str, tmp_path: Path) -> tuple[Exported, Canonical]:
    """``config`` exported in ``fmt``, written, imported back: the export and what the
    import means, stage by stage."""
    exported = export_configuration(config, fmt)
    path = tmp_path / f"exported{SUFFIX[fmt]}"
    path.write_text(exported.text, encoding="utf-8")
    blocks: dict[str, Any] = {}
    stacks = stages_of(config)[0]
    try:
        blocks = import_file(path, fmt).blocks
    except ConfigError as exc:  # nothing written: every layer of every stack left out
        assert exc.message.startswith("no "), exc
        for name, stack in stacks.items():
            written = [
                f
                for f in ("timeout", "retry", "breaker", "bulkhead", "rate_limiter", "hedging")
                if getattr(stack, f) is not None
            ]
            assert all(
                f"{name}.{f}" in exported.paths or f"{name}.{f}".startswith(tuple(exported.paths))
                for f in written
                if f != "retry" or stack.retry.attempts > 1
            ), (name, written, exported.paths)
    back: Canonical = {}
    for stage in STAGES:
        back |= canonical_stage(StagePolicy.model_validate(blocks.get(stage, {})), f"{stage}.")
    return exported, back


def assert_round_trip(config: Configuration, fmt: str, tmp_path: Path) -> Exported:
    exported, back = round_trip(config, fmt, tmp_path)
    want = without(canonical_configuration(config), exported.paths)
    got = without(back, exported.paths)
    differs = {
        k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)
    }
    assert not differs, f"{fmt}: (written, read back) differ: {differs}\n{exported.text}"
    for path in exported.paths:  # loud: every path left out has its line
        assert any(line.startswith(path.rsplit(".", 1)[0]) for line in exported.unexpressed), path
    return exported


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_every_shipped_configuration_round_trips(fmt: str, tmp_path: Path) -> None:
    for scenario, name, config in SHIPPED:
        try:
            assert_round_trip(config, fmt, tmp_path)
        except AssertionError as exc:
            raise AssertionError(f"{scenario}/{name}: {exc}") from None


def stage(**layers: Any) -> Configuration:
    return Configuration.model_validate({"payment": layers})


# Each preset with settings away from its defaults, in every format that can say it.
PRESETS: list[tuple[str, dict[str, Any]]] = [
    (
        "resilience4j",
        {
            "preset": "resilience4j",
            "failure_rate_threshold": 35,
            "slow_call_rate_threshold": 70,
            "slow_call_duration_threshold": "1500ms",
            "sliding_window_type": "TIME_BASED",
            "sliding_window_size": 20,
            "minimum_number_of_calls": 7,
            "wait_duration_in_open_state": "12s",
            "permitted_number_of_calls_in_half_open_state": 3,
            "max_wait_duration_in_half_open_state": "4s",
            "transition_to_state_after_wait_duration": "CLOSED",
            "automatic_transition_from_open_to_half_open_enabled": True,
            "enable_exponential_backoff": True,
            "exponential_backoff_multiplier": 3,
            "exponential_max_wait_duration_in_open_state": "2m",
            "record_exceptions": ["timeout", "server_error"],
            "ignore_exceptions": ["rejected"],
        },
    ),
    ("resilience4j", {"preset": "resilience4j", "failure_rate_threshold": "0.5%"}),
    (
        "dotnet",
        {
            "preset": "polly",
            "failure_ratio": 0.25,
            "minimum_throughput": 12,
            "sampling_duration": "45s",
            "break_duration": "7500ms",
        },
    ),
    (
        "hystrix",
        {
            "preset": "hystrix",
            "circuit_breaker_error_threshold_percentage": 30,
            "circuit_breaker_request_volume_threshold": 8,
            "circuit_breaker_sleep_window_in_milliseconds": 2500,
            "metrics_rolling_statistical_window_in_milliseconds": 20000,
            "metrics_health_snapshot_interval_in_milliseconds": 250,
        },
    ),
    (
        "envoy",
        {
            "preset": "envoy",
            "consecutive_5xx": 3,
            "interval": "5s",
            "base_ejection_time": "15s",
            "max_ejection_time": "120s",
        },
    ),
    (
        "istio",
        {"preset": "envoy", "consecutive_5xx": 7, "interval": "2s", "base_ejection_time": "45s"},
    ),
    (
        "opossum",
        {
            "preset": "opossum",
            "error_threshold_percentage": 25,
            "volume_threshold": 10,
            "reset_timeout": 5000,
            "rolling_count_timeout": 20000,
            "rolling_count_buckets": 20,
            "allow_warm_up": True,
        },
    ),
    (
        "cockatiel",
        {
            "preset": "cockatiel",
            "breaker": "sampling",
            "threshold": 0.3,
            "duration": 20000,
            "minimum_rps": 4,
            "half_open_after": 2000,
            "half_open_backoff": "exponential",
            "half_open_max_delay": 60000,
            "handle": ["timeout", "connection"],
        },
    ),
    (
        "cockatiel",
        {"preset": "cockatiel", "breaker": "consecutive", "threshold": 3, "half_open_after": "1s"},
    ),
    (
        "pybreaker",
        {
            "preset": "pybreaker",
            "fail_max": 3,
            "reset_timeout": "45s",
            "success_threshold": 2,
            "exclude": ["connection"],
        },
    ),
]


@pytest.mark.parametrize(
    ("fmt", "breaker"), PRESETS, ids=[f"{f}-{b['preset']}-{i}" for i, (f, b) in enumerate(PRESETS)]
)
def test_each_preset_round_trips_through_its_format(
    fmt: str, breaker: dict[str, Any], tmp_path: Path
) -> None:
    exported = assert_round_trip(stage(timeout="2s", breaker=breaker), fmt, tmp_path)
    assert not any(path.startswith("payment.breaker") for path in exported.paths), (
        exported.unexpressed
    )


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
@pytest.mark.parametrize(
    "preset",
    [
        "resilience4j",
        "polly",
        "hystrix",
        "envoy",
        "opossum",
        "cockatiel",
        "pybreaker",
        "circuitbreaker",
        "absolute",
    ],
)
def test_a_preset_a_format_cannot_say_is_listed_not_dropped(
    fmt: str, preset: str, tmp_path: Path
) -> None:
    exported = assert_round_trip(stage(breaker={"preset": preset}), fmt, tmp_path)
    own = {
        "resilience4j": ["resilience4j"],
        "dotnet": ["polly"],
        "hystrix": ["hystrix"],
        "envoy": ["envoy"],
        "istio": ["envoy"],
        "opossum": ["opossum"],
        "cockatiel": ["cockatiel"],
        "pybreaker": ["pybreaker"],
    }
    assert ("payment.breaker" in exported.paths) == (preset not in own[fmt])


# Stacks beyond the breaker: retries, bulkheads, limiters, in the formats that have them.
STACKS: list[tuple[str, dict[str, Any]]] = [
    (
        "resilience4j",
        {
            "timeout": "750ms",
            "retry": {
                "max_attempts": 4,
                "wait": "250ms",
                "backoff": "randomized",
                "multiplier": 2,
                "jitter": 0.3,
                "max_wait": "3s",
                "retry_on": ["timeout"],
            },
            "bulkhead": {
                "type": "thread_pool",
                "core_thread_pool_size": 4,
                "max_thread_pool_size": 8,
                "queue_capacity": 20,
            },
            "rate_limiter": {
                "limit_for_period": 10,
                "limit_refresh_period": "1s",
                "timeout_duration": "0s",
            },
        },
    ),
    (
        "resilience4j",
        {
            "retry": {"max_attempts": 2, "wait": "1s"},
            "bulkhead": {"max_concurrent_calls": 7, "max_wait_duration": "20ms"},
        },
    ),
    (
        "dotnet",
        {
            "timeout": "1s",
            "retry": {
                "max_retry_attempts": 5,
                "wait": "300ms",
                "backoff": "polly_decorrelated_v2",
                "max_wait": "10s",
                "deadline": "20s",
            },
            "bulkhead": {"max_concurrent_calls": 50},
            "breaker": {"preset": "polly"},
            "order": [
                "bulkhead",
                "retry",
                "hedging",
                "circuit_breaker",
                "rate_limiter",
                "time_limiter",
            ],
        },
    ),
    (
        "dotnet",
        {
            "timeout": "1s",
            "retry": {
                "max_retry_attempts": 2,
                "wait": "100ms",
                "backoff": "linear",
                "jitter": 0.25,
                "deadline": "9s",
            },
            "bulkhead": {"max_concurrent_calls": 5},
            "breaker": {"preset": "polly"},
            "order": [
                "bulkhead",
                "retry",
                "hedging",
                "circuit_breaker",
                "rate_limiter",
                "time_limiter",
            ],
        },
    ),
    (
        "envoy",
        {
            "timeout": "1500ms",
            "retry": {
                "max_retry_attempts": 3,
                "wait": "50ms",
                "backoff": "full_jitter",
                "multiplier": 2,
                "max_wait": "500ms",
                "deadline": "8s",
                "retry_on": ["connection"],
                "budget": "envoy",
            },
            "bulkhead": {"max_concurrent_calls": 64},
        },
    ),
    (
        "istio",
        {
            "timeout": "1s",
            "retry": {
                "max_retry_attempts": 2,
                "wait": "25ms",
                "backoff": "full_jitter",
                "multiplier": 2,
                "max_wait": "250ms",
                "deadline": "5s",
                "retry_on": ["server_error", "timeout", "connection", "rejected"],
            },
            "bulkhead": {"max_concurrent_calls": 100},
        },
    ),
    (
        "hystrix",
        {
            "timeout": "1200ms",
            "bulkhead": {
                "type": "thread_pool",
                "core_thread_pool_size": 6,
                "max_thread_pool_size": 12,
                "queue_capacity": 8,
            },
        },
    ),
    (
        "opossum",
        {
            "timeout": "3s",
            "bulkhead": {"max_concurrent_calls": 12},
            "breaker": {"preset": "opossum"},
        },
    ),
    (
        "cockatiel",
        {
            "timeout": "2s",
            "retry": {
                "max_retry_attempts": 3,
                "wait": "128ms",
                "backoff": "polly_decorrelated_v2",
                "max_wait": "30s",
            },
            "bulkhead": {"max_concurrent_calls": 9},
        },
    ),
    (
        "cockatiel",
        {
            "retry": {
                "max_retry_attempts": 2,
                "wait": "200ms",
                "backoff": "exponential",
                "multiplier": 2,
                "max_wait": "5s",
                "retry_on": ["timeout", "server_error"],
            }
        },
    ),
]


@pytest.mark.parametrize(
    ("fmt", "layers"), STACKS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(STACKS)]
)
def test_stacks_round_trip_with_nothing_left_out(
    fmt: str, layers: dict[str, Any], tmp_path: Path
) -> None:
    exported = assert_round_trip(stage(**layers), fmt, tmp_path)
    assert exported.paths == [], exported.unexpressed


def test_what_a_format_cannot_say_is_named_in_the_file_itself(tmp_path: Path) -> None:
    config = stage(
        timeout="2s",
        retry={"max_attempts": 3, "budget": "token_bucket", "deadline": "10s"},
        hedging={"max_hedged_attempts": 1},
    )
    exported = export_configuration(config, "resilience4j")
    for path in ("payment.retry.budget", "payment.retry.deadline", "payment.hedging"):
        assert path in exported.paths
        assert f"# NOT EXPRESSED: {path}:" in exported.text
