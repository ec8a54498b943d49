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
    model_validator,
)

from sim.config.fields import Fraction, NonNegativeDuration, PositiveDuration, Strict
from sim.config.model import FailureCategory
from sim.units import parse_duration

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
    if not isinstance(value, str) and number < 1:
        # The trap: a Polly user's 0.5 (a ratio) means 0.5 % here, which trips on anything.
        raise ValueError(
            f"{value} is a percentage here, so it means {value} %, not {number * 100:g} %: "
            f"write {number * 100:g} for {number * 100:g} %, or '{value}%' if you do mean "
            f"{value} %"
        )
    return float(number)


Percent = Annotated[
    float,
    BeforeValidator(_percent),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}], "description": "percent"}),
]
Millis = Annotated[float, Field(gt=0, description="milliseconds, as Hystrix writes them")]


def _millis_or_duration(value: object) -> float:
    """Milliseconds as the Node.js libraries write them (``30000``); a string with a unit
    (``"30s"``) is read as a duration and kept in milliseconds."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            return parse_duration(text) * 1000.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            f"expected milliseconds like 30000 or a duration like '30s', got {value!r}"
        )
    return float(value)


MillisOrDuration = Annotated[
    float,
    BeforeValidator(_millis_or_duration),
    Field(ge=0),
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string"}], "description": "milliseconds"}
    ),
]


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


class OpossumBreaker(Strict):
    """opossum (Node.js) CircuitBreaker options, milliseconds as opossum writes them (a
    string with a unit, ``"30s"``, is accepted too). ``error_filter`` lists the categories
    opossum's ``errorFilter`` would pass: they count as successes."""

    preset: Literal["opossum"]
    error_threshold_percentage: Percent = 50
    volume_threshold: int = Field(default=0, ge=0)
    reset_timeout: MillisOrDuration = 30000
    rolling_count_timeout: MillisOrDuration = 10000
    rolling_count_buckets: int = Field(default=10, ge=1)
    allow_warm_up: bool = False
    error_filter: list[FailureCategory] = Field(default_factory=list)

    @model_validator(mode="after")
    def _buckets_fit(self) -> OpossumBreaker:
        if self.rolling_count_timeout < self.rolling_count_buckets:
            raise ValueError(
                "rolling_count_timeout must be at least rolling_count_buckets milliseconds "
                "(each bucket lasts floor(timeout / buckets) ms)"
            )
        return self


class CockatielBreaker(Strict):
    """cockatiel (Node.js) ``circuitBreaker(policy, {halfOpenAfter, breaker})``.
    ``breaker: consecutive`` opens after ``threshold`` failures in a row; ``sampling``
    when more than ``threshold`` (a fraction) of the calls in ``duration`` failed, given
    ``minimum_rps``. ``half_open_after`` in milliseconds; ``half_open_backoff:
    exponential`` doubles it on every failed probe up to ``half_open_max_delay``
    (cockatiel's ExponentialBackoff with noJitterGenerator). ``handle`` lists the failure
    categories the policy handles (default all, ``handleAll``)."""

    preset: Literal["cockatiel"]
    breaker: Literal["consecutive", "sampling"] = "consecutive"
    threshold: float = Field(default=5, gt=0)
    duration: MillisOrDuration = 10000
    minimum_rps: float | None = Field(default=None, gt=0)
    half_open_after: MillisOrDuration = 10000
    half_open_backoff: Literal["constant", "exponential"] = "constant"
    half_open_max_delay: MillisOrDuration = 30000
    handle: list[FailureCategory] = Field(default_factory=_all)

    @model_validator(mode="after")
    def _threshold_fits(self) -> CockatielBreaker:
        if self.breaker == "consecutive" and (self.threshold != int(self.threshold)):
            raise ValueError("a consecutive breaker's threshold is a whole number of failures")
        if self.breaker == "sampling" and not 0 < self.threshold < 1:
            raise ValueError(
                f"a sampling breaker's threshold is a fraction in (0, 1), got {self.threshold} "
                "(cockatiel throws a RangeError)"
            )
        return self


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
    "opossum": OpossumBreaker,
    "cockatiel": CockatielBreaker,
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
    | Annotated[OpossumBreaker, Tag("opossum")]
    | Annotated[CockatielBreaker, Tag("cockatiel")]
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
