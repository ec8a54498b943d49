"""A configuration as resilience4j's Spring Boot ``application.yml``: one instance per
stage, named after it, in every module the stage uses (every value written out, so the
file means the same whatever resilience4j's defaults are)."""

from __future__ import annotations

from typing import Any

from sim.config.configuration import DEFAULT_ORDER, Configuration, SemaphoreBulkhead, StagePolicy
from sim.config.formats.common import Exported, number, spring_duration
from sim.config.formats.stacks import Gaps, breaker_preset, curve, finish, stages_of
from sim.config.formats.values import CATEGORIES, JAVA_EXCEPTIONS, exception_names

FORMAT = "resilience4j"


def export_resilience4j(config: Configuration) -> Exported:
    stacks, others = stages_of(config)
    gaps = Gaps(FORMAT)
    modules: dict[str, dict[str, Any]] = {}
    for name, stage in stacks.items():
        for module, settings in _instance(name, stage, gaps).items():
            modules.setdefault(module, {"instances": {}})["instances"][name] = settings
    return finish(FORMAT, {"resilience4j": modules}, gaps, others, [])


def _instance(name: str, stage: StagePolicy, gaps: Gaps) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if stage.timeout is not None:
        out["timelimiter"] = {"timeoutDuration": spring_duration(stage.timeout)}
    if stage.retry is not None:
        out["retry"] = _retry(name, stage, gaps)
    preset = breaker_preset(stage)
    if preset == "resilience4j":
        out["circuitbreaker"] = _breaker(name, stage.breaker, gaps)
    elif preset is not None:
        gaps.add(
            f"{name}.breaker",
            f"a {preset} breaker has no resilience4j form (export --format {_format_of(preset)})",
        )
    bulkhead = stage.bulkhead
    if isinstance(bulkhead, SemaphoreBulkhead):
        out["bulkhead"] = {
            "maxConcurrentCalls": bulkhead.max_concurrent_calls,
            "maxWaitDuration": spring_duration(bulkhead.max_wait_duration),
        }
    elif bulkhead is not None:
        out["thread-pool-bulkhead"] = {
            "coreThreadPoolSize": bulkhead.core_thread_pool_size,
            "maxThreadPoolSize": bulkhead.max_thread_pool_size,
            "queueCapacity": bulkhead.queue_capacity,
        }
    if stage.rate_limiter is not None:
        limiter = stage.rate_limiter
        out["ratelimiter"] = {
            "limitForPeriod": limiter.limit_for_period,
            "limitRefreshPeriod": spring_duration(limiter.limit_refresh_period),
            "timeoutDuration": spring_duration(limiter.timeout_duration),
        }
    if stage.hedging is not None:
        gaps.add(f"{name}.hedging", "resilience4j has no hedging")
    if stage.order is not None and tuple(stage.order) != DEFAULT_ORDER:
        gaps.add(
            f"{name}.order",
            "the aspect order is set per module in Spring Boot (*AspectOrder), not per instance",
        )
    return out


def _format_of(preset: str) -> str:
    return {"polly": "dotnet", "envoy": "envoy or istio"}.get(preset, preset)


def _retry(name: str, stage: StagePolicy, gaps: Gaps) -> dict[str, Any]:
    retry = stage.retry
    assert retry is not None
    family, multiplier, jitter = curve(retry)
    out: dict[str, Any] = {
        "maxAttempts": retry.attempts,
        "waitDuration": spring_duration(retry.wait),
    }
    if family != "exponential":
        gaps.add(
            f"{name}.retry.backoff",
            f"{retry.backoff} has no resilience4j property (written as a fixed wait)",
            also=(f"{name}.retry.multiplier", f"{name}.retry.jitter"),
        )
        multiplier, jitter = 1.0, 0.0
    exponential = multiplier != 1 or retry.max_wait is not None
    out["enableExponentialBackoff"] = exponential
    if exponential:
        out["exponentialBackoffMultiplier"] = number(multiplier)
        if retry.max_wait is not None:
            out["exponentialMaxWaitDuration"] = spring_duration(retry.max_wait)
    if jitter >= 1:
        gaps.add(f"{name}.retry.jitter", "resilience4j's randomizedWaitFactor must be below 1")
    elif jitter:
        out["enableRandomizedWait"] = True
        out["randomizedWaitFactor"] = number(jitter)
    if set(retry.retry_on) != set(CATEGORIES):
        out["retryExceptions"] = exception_names(retry.retry_on, JAVA_EXCEPTIONS)
        if not retry.retry_on:
            gaps.add(f"{name}.retry.retry_on", "an empty list: resilience4j would retry everything")
    if retry.deadline is not None:
        gaps.add(f"{name}.retry.deadline", "resilience4j's Retry has no overall deadline")
    if retry.budget is not None:
        gaps.add(f"{name}.retry.budget", "resilience4j has no retry budget")
    return out


def _breaker(name: str, spec: Any, gaps: Gaps) -> dict[str, Any]:
    out: dict[str, Any] = {
        "failureRateThreshold": number(spec.failure_rate_threshold),
        "slowCallRateThreshold": number(spec.slow_call_rate_threshold),
        "slowCallDurationThreshold": spring_duration(spec.slow_call_duration_threshold),
        "slidingWindowType": spec.sliding_window_type,
        "slidingWindowSize": spec.sliding_window_size,
        "minimumNumberOfCalls": spec.minimum_number_of_calls,
        "waitDurationInOpenState": spring_duration(spec.wait_duration_in_open_state),
        "permittedNumberOfCallsInHalfOpenState": spec.permitted_number_of_calls_in_half_open_state,
        "maxWaitDurationInHalfOpenState": spring_duration(
            spec.max_wait_duration_in_half_open_state
        ),
        "transitionToStateAfterWaitDuration": spec.transition_to_state_after_wait_duration,
        "automaticTransitionFromOpenToHalfOpenEnabled": (
            spec.automatic_transition_from_open_to_half_open_enabled
        ),
        "enableExponentialBackoff": spec.enable_exponential_backoff,
        "exponentialBackoffMultiplier": number(spec.exponential_backoff_multiplier),
    }
    if spec.exponential_max_wait_duration_in_open_state is not None:
        out["exponentialMaxWaitDurationInOpenState"] = spring_duration(
            spec.exponential_max_wait_duration_in_open_state
        )
    out["recordExceptions"] = exception_names(spec.record_exceptions, JAVA_EXCEPTIONS)
    if not spec.record_exceptions:
        gaps.add(
            f"{name}.breaker.record_exceptions",
            "an empty list: resilience4j would record every exception",
        )
    if spec.ignore_exceptions:
        out["ignoreExceptions"] = exception_names(spec.ignore_exceptions, JAVA_EXCEPTIONS)
    return out
