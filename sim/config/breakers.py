"""Breaker settings as users paste them from production: each library's own parameter
names (snake_case) and units, each library's defaults.

A configuration's ``breaker:`` is one of these, told apart by ``preset`` (default
resilience4j), ``class`` (bring your own breaker) or ``per_category`` (one breaker per
failure category, as the paper describes).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
)

from sim.config.fields import Fraction, NonNegativeDuration, PositiveDuration, Strict
from sim.config.model import FailureCategory

ALL: list[FailureCategory] = ["timeout", "connection", "server_error", "rejected"]


def _percent(value: object) -> float:
    """A percentage as the libraries write it: ``50`` or ``"50%"`` both mean 50 %."""
    number: object = value
    if isinstance(value, str):
        try:
            number = float(value.strip().removesuffix("%").strip())
        except ValueError:
            raise ValueError(f"expected a percentage like 50 or '50%', got {value!r}") from None
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ValueError(f"expected a percentage like 50 or '50%', got {value!r}")
    if not 0 < number <= 100:
        raise ValueError(f"{value} is outside 0%..100% (a percentage: 50 means 50%)")
    return float(number)


Percent = Annotated[
    float,
    BeforeValidator(_percent),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}], "description": "percent"}),
]
Millis = Annotated[float, Field(gt=0, description="milliseconds, as Hystrix writes them")]


def _all() -> list[FailureCategory]:
    return list(ALL)


class Resilience4jBreaker(Strict):
    preset: Literal["resilience4j"] = "resilience4j"
    failure_rate_threshold: Percent = 50
    slow_call_rate_threshold: Percent = 100
    slow_call_duration_threshold: NonNegativeDuration = 60.0
    sliding_window_type: Literal["COUNT_BASED", "TIME_BASED"] = "COUNT_BASED"
    sliding_window_size: int = Field(default=100, ge=1)
    minimum_number_of_calls: int = Field(default=100, ge=1)
    wait_duration_in_open_state: NonNegativeDuration = 60.0
    permitted_number_of_calls_in_half_open_state: int = Field(default=10, ge=1)
    max_wait_duration_in_half_open_state: NonNegativeDuration = 0.0
    transition_to_state_after_wait_duration: Literal["OPEN", "CLOSED"] = "OPEN"
    automatic_transition_from_open_to_half_open_enabled: bool = False
    enable_exponential_backoff: bool = False
    exponential_backoff_multiplier: float = Field(default=2.0, ge=1)
    exponential_max_wait_duration_in_open_state: NonNegativeDuration | None = None
    record_exceptions: list[FailureCategory] = Field(default_factory=_all)
    ignore_exceptions: list[FailureCategory] = Field(default_factory=list)


class PollyBreaker(Strict):
    preset: Literal["polly"]
    failure_ratio: Fraction = Field(default=0.1, gt=0)
    minimum_throughput: int = Field(default=100, ge=2)
    sampling_duration: PositiveDuration = 30.0
    break_duration: NonNegativeDuration = 5.0
    should_handle: list[FailureCategory] = Field(default_factory=_all)


class HystrixBreaker(Strict):
    preset: Literal["hystrix"]
    circuit_breaker_error_threshold_percentage: Percent = 50
    circuit_breaker_request_volume_threshold: int = Field(default=20, ge=1)
    circuit_breaker_sleep_window_in_milliseconds: Millis = 5000
    metrics_rolling_statistical_window_in_milliseconds: Millis = 10000
    metrics_health_snapshot_interval_in_milliseconds: Millis = 500
    ignore_exceptions: list[FailureCategory] = Field(default_factory=list)


class PybreakerBreaker(Strict):
    preset: Literal["pybreaker"]
    fail_max: int = Field(default=5, ge=1)
    reset_timeout: NonNegativeDuration = 60.0
    success_threshold: int = Field(default=1, ge=1)
    exclude: list[FailureCategory] = Field(default_factory=list)


class CircuitbreakerBreaker(Strict):
    preset: Literal["circuitbreaker"]
    failure_threshold: int = Field(default=5, ge=1)
    recovery_timeout: NonNegativeDuration = 30.0
    expected_exception: list[FailureCategory] = Field(default_factory=_all)


class EnvoyBreaker(Strict):
    preset: Literal["envoy"]
    consecutive_5xx: int = Field(default=5, ge=1)
    interval: PositiveDuration = 10.0
    base_ejection_time: NonNegativeDuration = 30.0
    max_ejection_time: NonNegativeDuration = 300.0


class AbsoluteBreaker(Strict):
    """The paper's rule: ``failure_count`` failures within ``time_window`` open the breaker
    (an absolute count, not a rate); after ``open_duration``, ``half_open_calls`` trial
    calls must all succeed to close it."""

    preset: Literal["absolute"]
    failure_count: int = Field(default=10, ge=1)
    time_window: PositiveDuration = 60.0
    open_duration: NonNegativeDuration = 30.0
    half_open_calls: int = Field(default=1, ge=1)
    record: list[FailureCategory] = Field(default_factory=_all)


class ExternalBreaker(Strict):
    """Any object with allow/record/state, built from ``package.module:ClassName``.
    This runs code from the user's environment."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    class_path: str = Field(alias="class", pattern=r"^[\w.]+:[\w.]+$")
    args: dict[str, Any] = Field(default_factory=dict)


PRESETS: dict[str, type[Strict]] = {
    "resilience4j": Resilience4jBreaker,
    "polly": PollyBreaker,
    "hystrix": HystrixBreaker,
    "pybreaker": PybreakerBreaker,
    "circuitbreaker": CircuitbreakerBreaker,
    "envoy": EnvoyBreaker,
    "absolute": AbsoluteBreaker,
}


def preset_defaults(library: str) -> dict[str, Any]:
    """The library's defaults in its own names and units (seconds for durations)."""
    model = PRESETS[library]
    return model.model_validate({"preset": library}).model_dump(exclude={"preset"})


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        if "class" in value:
            return "class"
        if "per_category" in value:
            return "per_category"
        return str(value.get("preset", "resilience4j"))
    if isinstance(value, ExternalBreaker):
        return "class"
    if isinstance(value, CategoryBreakers):
        return "per_category"
    return getattr(value, "preset", None)


_SINGLE = (
    Annotated[Resilience4jBreaker, Tag("resilience4j")]
    | Annotated[PollyBreaker, Tag("polly")]
    | Annotated[HystrixBreaker, Tag("hystrix")]
    | Annotated[PybreakerBreaker, Tag("pybreaker")]
    | Annotated[CircuitbreakerBreaker, Tag("circuitbreaker")]
    | Annotated[EnvoyBreaker, Tag("envoy")]
    | Annotated[AbsoluteBreaker, Tag("absolute")]
    | Annotated[ExternalBreaker, Tag("class")]
)
SingleBreaker = Annotated[_SINGLE, Discriminator(_kind)]


class CategoryBreakers(Strict):
    """One breaker per failure category: each counts only its own category as a failure
    and ignores the others (the paper: timeouts apart from connection errors)."""

    per_category: dict[FailureCategory, SingleBreaker] = Field(min_length=1)


BreakerChoice = Annotated[
    _SINGLE | Annotated[CategoryBreakers, Tag("per_category")], Discriminator(_kind)
]
