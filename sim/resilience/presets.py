"""Each library's breaker in its own words: parameter names in snake_case, its units, its
defaults. ``preset_fields("resilience4j", {"failure_rate_threshold": 30})`` are the
``BreakerPolicy`` fields whose every rule is resilience4j's (``BreakerPolicy.preset`` builds
the policy from them, so this module needs nothing of the breaker); the facts are in
docs/breaker-semantics.md.

Names, units and defaults live in ``sim.config.breakers`` (one pydantic model per
library); they are written out for people in models/policies/<library>.yaml, and a test
keeps the two identical.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from sim.config.breakers import PRESETS
from sim.config.fields import Strict
from sim.resilience.outcomes import FAILURE_CATEGORIES
from sim.units import parse_duration, parse_fraction

ALL = list(FAILURE_CATEGORIES)
Fields = dict[str, Any]  # keyword arguments of BreakerPolicy


def _seconds(value: Any) -> float:
    return parse_duration(value)


def _percent(value: Any) -> float:
    """A percentage as the library writes it (``50``); ``"50%"`` is accepted too."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
    return float(value) / 100


def _ratio(value: Any) -> float:
    """A fraction as Polly writes it (``0.1``); ``"10%"`` is accepted too."""
    return parse_fraction(value)


def _millis(value: Any) -> float:
    if isinstance(value, str):
        return parse_duration(value)
    return float(value) / 1000.0


def _categories(value: Any) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def _resilience4j(p: dict[str, Any]) -> Fields:
    time_based = str(p["sliding_window_type"]).upper() == "TIME_BASED"
    cap = p["exponential_max_wait_duration_in_open_state"]
    return dict(
        library="resilience4j",
        window="time" if time_based else "count",
        sliding_window_size=int(p["sliding_window_size"]),
        failure_rate_threshold=_percent(p["failure_rate_threshold"]),
        slow_call_rate_threshold=_percent(p["slow_call_rate_threshold"]),
        slow_call_duration_threshold=_seconds(p["slow_call_duration_threshold"]),
        minimum_number_of_calls=int(p["minimum_number_of_calls"]),
        check="every_call",
        wait_duration_in_open_state=_seconds(p["wait_duration_in_open_state"]),
        open_backoff="exponential" if p["enable_exponential_backoff"] else "fixed",
        open_backoff_multiplier=float(p["exponential_backoff_multiplier"]),
        # The cap belongs to the exponential interval function only.
        max_wait_duration_in_open_state=(
            _seconds(cap) if cap is not None and p["enable_exponential_backoff"] else math.inf
        ),
        strict_open_expiry=True,
        automatic_transition=bool(p["automatic_transition_from_open_to_half_open_enabled"]),
        half_open="rate",
        permitted_number_of_calls_in_half_open_state=int(
            p["permitted_number_of_calls_in_half_open_state"]
        ),
        max_wait_duration_in_half_open_state=_seconds(p["max_wait_duration_in_half_open_state"]),
        half_open_timeout_state=(
            "closed"
            if str(p["transition_to_state_after_wait_duration"]).upper() == "CLOSED"
            else "open"
        ),
        record=_categories(p["record_exceptions"]),
        ignore=_categories(p["ignore_exceptions"]),
    )


def _polly(p: dict[str, Any]) -> Fields:
    return dict(
        library="polly",
        window="sampling",
        window_duration=_seconds(p["sampling_duration"]),
        failure_rate_threshold=_ratio(p["failure_ratio"]),
        minimum_number_of_calls=int(p["minimum_throughput"]),
        check="on_failure",
        wait_duration_in_open_state=_seconds(p["break_duration"]),
        strict_open_expiry=False,
        half_open="probe",
        permitted_number_of_calls_in_half_open_state=1,
        record=_categories(p["should_handle"]),
    )


def _hystrix(p: dict[str, Any]) -> Fields:
    return dict(
        library="hystrix",
        window="rolling",
        window_duration=_millis(p["metrics_rolling_statistical_window_in_milliseconds"]),
        bucket_duration=_millis(p["metrics_health_snapshot_interval_in_milliseconds"]),
        failure_rate_threshold=_percent(p["circuit_breaker_error_threshold_percentage"]),
        minimum_number_of_calls=int(p["circuit_breaker_request_volume_threshold"]),
        truncate_rate=True,
        check="snapshot",
        wait_duration_in_open_state=_millis(p["circuit_breaker_sleep_window_in_milliseconds"]),
        strict_open_expiry=True,
        half_open="probe",
        permitted_number_of_calls_in_half_open_state=1,
        ignore=_categories(p["ignore_exceptions"]),
    )


def _consecutive(library: str, threshold: int, timeout: float, successes: int) -> Fields:
    return dict(
        library=library,
        window="consecutive",
        failure_rate_threshold=None,
        failure_count_threshold=threshold,
        minimum_number_of_calls=1,
        check="on_failure",
        wait_duration_in_open_state=timeout,
        strict_open_expiry=False,
        half_open="successes",
        permitted_number_of_calls_in_half_open_state=None,
        success_threshold=successes,
    )


def _pybreaker(p: dict[str, Any]) -> Fields:
    fields = _consecutive(
        "pybreaker", int(p["fail_max"]), _seconds(p["reset_timeout"]), int(p["success_threshold"])
    )
    # An excluded exception counts as a success, as every Python library does; the open
    # wait ends by pybreaker's datetime clock, on whole microseconds.
    record = frozenset(ALL) - _categories(p["exclude"])
    return fields | {"record": record, "microsecond_clock": True}


def _circuitbreaker(p: dict[str, Any]) -> Fields:
    fields = _consecutive(
        "circuitbreaker", int(p["failure_threshold"]), _seconds(p["recovery_timeout"]), 1
    )
    return fields | {"record": _categories(p["expected_exception"])}


def _envoy(p: dict[str, Any]) -> Fields:
    return dict(
        library="envoy",
        window="consecutive",
        failure_rate_threshold=None,
        failure_count_threshold=int(p["consecutive_5xx"]),
        minimum_number_of_calls=1,
        check="every_call",
        wait_duration_in_open_state=_seconds(p["base_ejection_time"]),
        open_backoff="envoy",
        max_wait_duration_in_open_state=_seconds(p["max_ejection_time"]),
        sweep_interval=_seconds(p["interval"]),
        half_open="none",
        permitted_number_of_calls_in_half_open_state=None,
    )


def _absolute(p: dict[str, Any]) -> Fields:
    permits = int(p["half_open_calls"])
    return dict(
        library="absolute",
        window="absolute",
        window_duration=_seconds(p["time_window"]),
        failure_rate_threshold=None,
        failure_count_threshold=int(p["failure_count"]),
        minimum_number_of_calls=1,
        check="on_failure",
        wait_duration_in_open_state=_seconds(p["open_duration"]),
        strict_open_expiry=False,
        half_open="successes",
        permitted_number_of_calls_in_half_open_state=permits,
        success_threshold=permits,
        record=_categories(p["record"]),
    )


def _opossum(p: dict[str, Any]) -> Fields:
    """opossum 9: rolling buckets of calls made and failures, checked on a failure."""
    rolling = float(p["rolling_count_timeout"])
    buckets = int(p["rolling_count_buckets"])
    return dict(
        library="opossum",
        window="opossum",
        window_duration=rolling / 1000,
        bucket_duration=math.floor(rolling / buckets) / 1000,
        bucket_count=buckets,
        failure_rate_threshold=_percent(p["error_threshold_percentage"]),
        minimum_number_of_calls=1,
        volume_threshold=int(p["volume_threshold"]),
        check="on_failure",
        wait_duration_in_open_state=float(p["reset_timeout"]) / 1000,
        strict_open_expiry=False,
        automatic_transition=True,  # a timer moves it to half-open
        half_open="probe",
        permitted_number_of_calls_in_half_open_state=1,
        warm_up=rolling / 1000 if p["allow_warm_up"] else 0.0,
        record=frozenset(ALL) - _categories(p["error_filter"]),
    )


def _cockatiel(p: dict[str, Any]) -> Fields:
    """cockatiel 3: a consecutive or sampling breaker, half-open after a backoff."""
    sampling = p["breaker"] == "sampling"
    exponential = p["half_open_backoff"] == "exponential"
    return dict(
        library="cockatiel",
        window="cockatiel" if sampling else "consecutive",
        window_duration=float(p["duration"]) / 1000,
        failure_rate_threshold=float(p["threshold"]) if sampling else None,
        failure_count_threshold=None if sampling else int(p["threshold"]),
        minimum_number_of_calls=1,
        minimum_rps=p["minimum_rps"],
        check="on_failure",
        wait_duration_in_open_state=float(p["half_open_after"]) / 1000,
        open_backoff="exponential" if exponential else "fixed",
        max_wait_duration_in_open_state=(
            float(p["half_open_max_delay"]) / 1000 if exponential else math.inf
        ),
        strict_open_expiry=False,
        half_open="probe",
        permitted_number_of_calls_in_half_open_state=1,
        record=_categories(p["handle"]),
    )


BUILDERS: dict[str, Callable[[dict[str, Any]], Fields]] = {
    "resilience4j": _resilience4j,
    "polly": _polly,
    "hystrix": _hystrix,
    "pybreaker": _pybreaker,
    "circuitbreaker": _circuitbreaker,
    "envoy": _envoy,
    "absolute": _absolute,
    "opossum": _opossum,
    "cockatiel": _cockatiel,
}


def preset_fields(library: str, overrides: dict[str, Any]) -> Fields:
    """``library``'s policy fields with ``overrides`` in that library's names and units.

    ValueError names an unknown library or parameter (with the nearest known one) or a
    value the library would not take.
    """
    if library not in BUILDERS:
        raise ValueError(_unknown("breaker library", library, list(BUILDERS)))
    model = PRESETS[library]
    known = [name for name in model.model_fields if name != "preset"]
    for name in overrides:
        if name not in known:
            raise ValueError(_unknown(f"{library} parameter", name, known))
    try:
        spec = model.model_validate({"preset": library, **overrides})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{library}.{where}: {first['msg']}") from None
    return fields_from_spec(spec)


def fields_from_spec(spec: Strict) -> Fields:
    """The policy fields of a validated preset spec from a configuration file."""
    params = spec.model_dump()
    return BUILDERS[str(params.pop("preset"))](params)


def _unknown(what: str, name: str, known: list[str]) -> str:
    hint = difflib.get_close_matches(name, known, n=1)
    suffix = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"unknown {what} {name!r}{suffix} (known: {', '.join(known)})"
