"""A configuration as opossum options or cockatiel policies (JSON, as node.py reads it)."""

from __future__ import annotations

from typing import Any

from sim.config.configuration import DEFAULT_ORDER, Configuration, SemaphoreBulkhead, StagePolicy
from sim.config.formats.common import Exported, millis, number
from sim.config.formats.stacks import Gaps, breaker_preset, finish, stages_of
from sim.config.formats.values import CATEGORIES

GENERATOR_OF = {
    "exponential": "noJitter",
    "full_jitter": "fullJitter",
    "equal_jitter": "halfJitter",
    "polly_decorrelated_v2": "decorrelatedJitter",
}


def export_opossum(config: Configuration) -> Exported:
    stacks, others = stages_of(config)
    gaps = Gaps("opossum")
    document = {name: _opossum(name, stage, gaps) for name, stage in stacks.items()}
    notes = ["each object is the options of new CircuitBreaker(action, options)"]
    return finish("opossum", document, gaps, others, notes, style="json")


def _opossum(name: str, stage: StagePolicy, gaps: Gaps) -> dict[str, Any]:
    out: dict[str, Any] = {"timeout": millis(stage.timeout) if stage.timeout is not None else False}
    preset = breaker_preset(stage)
    if preset == "opossum":
        spec: Any = stage.breaker
        out |= {
            "errorThresholdPercentage": number(spec.error_threshold_percentage),
            "resetTimeout": number(spec.reset_timeout),
            "rollingCountTimeout": number(spec.rolling_count_timeout),
            "rollingCountBuckets": spec.rolling_count_buckets,
            "volumeThreshold": spec.volume_threshold,
            "allowWarmUp": spec.allow_warm_up,
        }
        if spec.error_filter:
            gaps.add(f"{name}.breaker.error_filter", "errorFilter is a function, not an option")
    else:
        out["enabled"] = False
        if preset is not None:
            gaps.add(f"{name}.breaker", f"a {preset} breaker is not opossum's")
    bulkhead = stage.bulkhead
    if isinstance(bulkhead, SemaphoreBulkhead) and bulkhead.max_wait_duration == 0:
        out["capacity"] = bulkhead.max_concurrent_calls
    elif bulkhead is not None:
        gaps.add(f"{name}.bulkhead", "opossum's capacity rejects at once: no wait, no thread pool")
    for layer in ("retry", "rate_limiter", "hedging"):
        if getattr(stage, layer) is not None:
            gaps.add(f"{name}.{layer}", f"opossum has no {layer.replace('_', ' ')}")
    if stage.order is not None and tuple(stage.order) != DEFAULT_ORDER:
        gaps.add(f"{name}.order", "opossum's order is fixed")
    return out


def export_cockatiel(config: Configuration) -> Exported:
    stacks, others = stages_of(config)
    gaps = Gaps("cockatiel")
    document = {name: _cockatiel(name, stage, gaps) for name, stage in stacks.items()}
    notes = ["build each with wrap(retry, circuitBreaker, timeout, bulkhead), outermost first"]
    return finish("cockatiel", document, gaps, others, notes, style="json")


def _cockatiel(name: str, stage: StagePolicy, gaps: Gaps) -> dict[str, Any]:
    out: dict[str, Any] = {}
    retry = stage.retry
    if retry is not None and retry.attempts > 1:
        out["retry"] = _retry(name, retry, gaps)
    preset = breaker_preset(stage)
    if preset == "cockatiel":
        spec: Any = stage.breaker
        breaker: dict[str, Any]
        if spec.breaker == "consecutive":
            breaker = {"consecutive": int(spec.threshold)}
        else:
            breaker = {"sampling": {"threshold": spec.threshold, "duration": number(spec.duration)}}
            if spec.minimum_rps is not None:
                breaker["sampling"]["minimumRps"] = number(spec.minimum_rps)
        half: Any = number(spec.half_open_after)
        if spec.half_open_backoff == "exponential":
            half = {
                "exponential": {
                    "initialDelay": half,
                    "maxDelay": number(spec.half_open_max_delay),
                    "generator": "noJitter",
                }
            }
        out["circuitBreaker"] = {"halfOpenAfter": half, "breaker": breaker}
        if set(spec.handle) != set(CATEGORIES):
            out["circuitBreaker"]["handle"] = list(spec.handle)
    elif preset is not None:
        gaps.add(f"{name}.breaker", f"a {preset} breaker is not cockatiel's")
    if stage.timeout is not None:
        out["timeout"] = {"duration": millis(stage.timeout), "strategy": "aggressive"}
    bulkhead = stage.bulkhead
    if isinstance(bulkhead, SemaphoreBulkhead) and bulkhead.max_wait_duration == 0:
        out["bulkhead"] = {"limit": bulkhead.max_concurrent_calls, "queue": 0}
    elif bulkhead is not None:
        gaps.add(
            f"{name}.bulkhead", "cockatiel's bulkhead queues by count, not by wait; no thread pool"
        )
    for layer in ("rate_limiter", "hedging"):
        if getattr(stage, layer) is not None:
            gaps.add(f"{name}.{layer}", f"cockatiel has no {layer.replace('_', ' ')}")
    if stage.order is not None and tuple(stage.order) != DEFAULT_ORDER:
        gaps.add(f"{name}.order", "written in breakerlab's default order")
    return out


def _retry(name: str, retry: Any, gaps: Gaps) -> dict[str, Any]:
    out: dict[str, Any] = {"maxAttempts": retry.attempts - 1}
    family = retry.backoff
    if (
        family in ("fixed", "exponential", "randomized")
        and retry.multiplier == 1
        and not retry.jitter
    ):
        out["backoff"] = {"constant": millis(retry.wait)}
    elif (
        family in GENERATOR_OF
        and retry.multiplier in (1, 2)
        and not retry.jitter
        and (family == "polly_decorrelated_v2" or retry.multiplier == 2)
    ):
        exponential = {"initialDelay": millis(retry.wait), "generator": GENERATOR_OF[family]}
        exponential["maxDelay"] = millis(retry.max_wait) if retry.max_wait is not None else 30000
        if retry.max_wait is None:
            gaps.add(
                f"{name}.retry.max_wait",
                "cockatiel caps exponential backoff (written as its default, 30 s)",
            )
        out["backoff"] = {"exponential": exponential}
    else:
        gaps.add(
            f"{name}.retry.backoff",
            f"{family} has no cockatiel backoff (written as a constant wait)",
            also=(f"{name}.retry.multiplier", f"{name}.retry.jitter", f"{name}.retry.max_wait"),
        )
        out["backoff"] = {"constant": millis(retry.wait)}
    if set(retry.retry_on) != set(CATEGORIES):
        out["handle"] = list(retry.retry_on)
    for field in ("deadline", "budget"):
        if getattr(retry, field) is not None:
            gaps.add(f"{name}.retry.{field}", f"cockatiel's retry has no {field}")
    return out
