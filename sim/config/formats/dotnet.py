""".NET: the options ``Microsoft.Extensions.Http.Resilience``'s standard resilience
handler (``AddStandardResilienceHandler``) binds from ``appsettings.json``: ``RateLimiter``,
``TotalRequestTimeout``, ``Retry``, ``CircuitBreaker``, ``AttemptTimeout``, outermost
first, each with the handler's documented defaults when unset. Polly v8 semantics: the
breaker is the ``polly`` preset. Durations are TimeSpans (``"00:00:30"``).

Every object in the file holding one of those five keys is a handler, named by its key
(the file's root: ``default``)."""

from __future__ import annotations

from typing import Any

from sim.config.configuration import Configuration, SemaphoreBulkhead, StagePolicy
from sim.config.formats.common import (
    Block,
    Exported,
    Imported,
    Source,
    duration_text,
    match_keys,
    number,
    timespan,
    timespan_text,
)
from sim.config.formats.stacks import Gaps, breaker_preset, finish, stages_of
from sim.config.formats.values import CATEGORIES, boolean, choice, integer, real

FORMAT = "dotnet"
STRATEGIES = ("RateLimiter", "TotalRequestTimeout", "Retry", "CircuitBreaker", "AttemptTimeout")
RETRY_KEYS = ("MaxRetryAttempts", "Delay", "BackoffType", "UseJitter", "MaxDelay")
RETRY_SKIPPED = (
    "ShouldRetryAfterHeader",
    "Name",
    "ShouldHandle",
    "DelayGenerator",
    "OnRetry",
    "Randomizer",
)
BREAKER_KEYS = ("FailureRatio", "MinimumThroughput", "SamplingDuration", "BreakDuration")
BREAKER_SKIPPED = (
    "Name",
    "ShouldHandle",
    "BreakDurationGenerator",
    "ManualControl",
    "StateProvider",
    "OnOpened",
    "OnClosed",
    "OnHalfOpened",
)
TIMEOUT_SKIPPED = ("Name", "TimeoutGenerator", "OnTimeout")
LIMITER_SKIPPED = ("Name", "RateLimiter", "OnRejected")
CONCURRENCY_KEYS = ("PermitLimit", "QueueLimit")
CONCURRENCY_SKIPPED = ("QueueProcessingOrder",)
Loc = tuple[str | int, ...]
# The handler's nesting in breakerlab's layers: the concurrency limiter outermost, then the
# retry (bounded by the total request timeout), the breaker, the attempt timeout.
STANDARD_ORDER = ("bulkhead", "retry", "hedging", "circuit_breaker", "rate_limiter", "time_limiter")


def import_dotnet(source: Source, instance: str | None) -> Imported:
    result = Imported(FORMAT, source.file)
    handlers = dict(_handlers(source.data, ()))
    if not handlers:
        raise source.error(
            f"no standard resilience handler options: no object holds {', '.join(STRATEGIES)}", ()
        )
    locs = {(str(loc[-1]) if loc else "default"): loc for loc in handlers}
    for name in result.choose(source, list(locs), instance, ()):
        loc = locs[name]
        result.blocks[name] = _handler(source, handlers[loc], loc, result)
    return result


def _handlers(data: Any, loc: Loc) -> list[tuple[Loc, dict[str, Any]]]:
    if not isinstance(data, dict):
        return []
    if any(key in STRATEGIES for key in data):
        return [(loc, data)]
    found: list[tuple[Loc, dict[str, Any]]] = []
    for key, value in data.items():
        found += _handlers(value, (*loc, key))
    return found


def _handler(source: Source, options: dict[str, Any], loc: Loc, result: Imported) -> Block:
    parts, ignored = match_keys(source, options, loc, STRATEGIES)
    result.ignored += ignored

    def part(
        name: str, known: tuple[str, ...], skipped: tuple[str, ...]
    ) -> tuple[dict[str, Any], dict[str, Loc]]:
        values, skip = match_keys(source, parts.get(name) or {}, (*loc, name), known, skipped)
        result.ignored += skip
        return values, {key: (*loc, name, key) for key in values}

    limiter, at_l = part("RateLimiter", ("DefaultRateLimiterOptions",), LIMITER_SKIPPED)
    permits: dict[str, Any] = {}
    at_p: dict[str, Loc] = {}
    if "DefaultRateLimiterOptions" in limiter:
        permits, skip = match_keys(
            source,
            limiter["DefaultRateLimiterOptions"],
            at_l["DefaultRateLimiterOptions"],
            CONCURRENCY_KEYS,
            CONCURRENCY_SKIPPED,
        )
        result.ignored += skip
        at_p = {key: (*at_l["DefaultRateLimiterOptions"], key) for key in permits}
    queue = (
        integer(source, permits["QueueLimit"], at_p["QueueLimit"]) if "QueueLimit" in permits else 0
    )
    if queue:
        result.notes.append(
            f"{source.where(at_p['QueueLimit'])}: a queue of {queue} callers is not "
            "simulated: callers over the permit limit are rejected at once"
        )
    total, at_t = part("TotalRequestTimeout", ("Timeout",), TIMEOUT_SKIPPED)
    attempt, at_a = part("AttemptTimeout", ("Timeout",), TIMEOUT_SKIPPED)
    retry, at_r = part("Retry", RETRY_KEYS, RETRY_SKIPPED)
    breaker, at_b = part("CircuitBreaker", BREAKER_KEYS, BREAKER_SKIPPED)
    return {
        "timeout": duration_text(
            timespan(source, attempt["Timeout"], at_a["Timeout"]) if "Timeout" in attempt else 10.0
        ),
        "retry": _retry(
            source,
            retry,
            at_r,
            timespan(source, total["Timeout"], at_t["Timeout"]) if "Timeout" in total else 30.0,
        ),
        "breaker": _breaker(source, breaker, at_b),
        "bulkhead": {
            "max_concurrent_calls": integer(source, permits["PermitLimit"], at_p["PermitLimit"])
            if "PermitLimit" in permits
            else 1000,
            "max_wait_duration": "0s",
        },
        "order": list(STANDARD_ORDER),
    }


def _retry(source: Source, values: dict[str, Any], at: dict[str, Loc], deadline: float) -> Block:
    kind = (
        choice(
            source, values["BackoffType"], at["BackoffType"], ("Constant", "Linear", "Exponential")
        )
        if "BackoffType" in values
        else "Exponential"
    )
    jitter = (
        boolean(source, values["UseJitter"], at["UseJitter"]) if "UseJitter" in values else True
    )
    retries = (
        integer(source, values["MaxRetryAttempts"], at["MaxRetryAttempts"])
        if "MaxRetryAttempts" in values
        else 3
    )
    if retries < 1:
        raise source.error(
            "MaxRetryAttempts must be at least 1 (Polly validates it)", at["MaxRetryAttempts"]
        )
    out: Block = {
        "max_retry_attempts": retries,
        "wait": duration_text(
            timespan(source, values["Delay"], at["Delay"]) if "Delay" in values else 2.0
        ),
    }
    if kind == "Exponential":
        out["backoff"] = "polly_decorrelated_v2" if jitter else "exponential"
        if not jitter:
            out["multiplier"] = 2
    else:
        out["backoff"] = "fixed" if kind == "Constant" else "linear"
        if jitter:
            out["jitter"] = 0.25
    if "MaxDelay" in values:
        out["max_wait"] = duration_text(timespan(source, values["MaxDelay"], at["MaxDelay"]))
    out["deadline"] = duration_text(deadline)
    return out


def _breaker(source: Source, values: dict[str, Any], at: dict[str, Loc]) -> Block:
    return {
        "preset": "polly",
        "failure_ratio": number(real(source, values["FailureRatio"], at["FailureRatio"]))
        if "FailureRatio" in values
        else 0.1,
        "minimum_throughput": integer(source, values["MinimumThroughput"], at["MinimumThroughput"])
        if "MinimumThroughput" in values
        else 100,
        "sampling_duration": duration_text(
            timespan(source, values["SamplingDuration"], at["SamplingDuration"])
            if "SamplingDuration" in values
            else 30.0
        ),
        "break_duration": duration_text(
            timespan(source, values["BreakDuration"], at["BreakDuration"])
            if "BreakDuration" in values
            else 5.0
        ),
    }


# -- export -----------------------------------------------------------------------------


def export_dotnet(config: Configuration) -> Exported:
    stacks, others = stages_of(config)
    gaps = Gaps(FORMAT)
    handlers = {name: _export_stage(name, stage, gaps) for name, stage in stacks.items()}
    notes = [
        "bind each handler with "
        'services.AddHttpClient(...).AddStandardResilienceHandler(configuration.GetSection("<name>"))'
    ]
    return finish(FORMAT, handlers, gaps, others, notes, style="json")


def _export_stage(name: str, stage: StagePolicy, gaps: Gaps) -> dict[str, Any]:
    out: dict[str, Any] = {}
    bulkhead = stage.bulkhead
    permits = 1000
    if isinstance(bulkhead, SemaphoreBulkhead) and bulkhead.max_wait_duration == 0:
        permits = bulkhead.max_concurrent_calls
    else:
        gaps.add(
            f"{name}.bulkhead",
            "the handler's concurrency limiter is always on (1000 permits) and rejects at once"
            if bulkhead is None
            else (
                "only a semaphore that rejects at once maps onto the handler's concurrency limiter"
            ),
        )
    out["RateLimiter"] = {"DefaultRateLimiterOptions": {"PermitLimit": permits, "QueueLimit": 0}}
    retry = stage.retry
    deadline = retry.deadline if retry is not None else None
    if deadline is None:
        gaps.add(
            f"{name}.retry.deadline",
            "the handler always has a total request timeout (written as its default, 30 s)",
        )
    out["TotalRequestTimeout"] = {"Timeout": timespan_text(deadline or 30.0)}
    out["Retry"] = _export_retry(name, stage, gaps)
    preset = breaker_preset(stage)
    if preset == "polly":
        spec: Any = stage.breaker
        out["CircuitBreaker"] = {
            "FailureRatio": spec.failure_ratio,
            "MinimumThroughput": spec.minimum_throughput,
            "SamplingDuration": timespan_text(spec.sampling_duration),
            "BreakDuration": timespan_text(spec.break_duration),
        }
        if set(spec.should_handle) != set(CATEGORIES):
            gaps.add(f"{name}.breaker.should_handle", "ShouldHandle is code, not configuration")
    else:
        why = (
            "the handler always has a Polly breaker (written with its defaults)"
            if preset is None
            else f"a {preset} breaker is not Polly's"
        )
        gaps.add(f"{name}.breaker", why)
        out["CircuitBreaker"] = {
            "FailureRatio": 0.1,
            "MinimumThroughput": 100,
            "SamplingDuration": "00:00:30",
            "BreakDuration": "00:00:05",
        }
    if stage.timeout is None:
        gaps.add(
            f"{name}.timeout",
            "the model's timeout: the handler always has an attempt timeout (written as its "
            "default, 10 s)",
        )
    out["AttemptTimeout"] = {"Timeout": timespan_text(stage.timeout or 10.0)}
    for layer in ("rate_limiter", "hedging"):
        if getattr(stage, layer) is not None:
            gaps.add(f"{name}.{layer}", "not part of the standard resilience handler")
    if stage.layers != STANDARD_ORDER:
        gaps.add(
            f"{name}.order",
            "the standard handler's order is fixed: rate limiter, total timeout, retry, "
            "breaker, attempt timeout",
        )
    return out


def _export_retry(name: str, stage: StagePolicy, gaps: Gaps) -> dict[str, Any]:
    retry = stage.retry
    if retry is None or retry.attempts == 1:
        why = (
            "the handler always retries (written with its defaults: 3 retries, exponential with "
            "jitter from 2 s); only code (ShouldHandle) turns it off"
        )
        gaps.add(f"{name}.retry", why)
        return {}
    family, multiplier, jitter = retry.backoff, retry.multiplier, retry.jitter
    if family in ("exponential", "randomized") and multiplier == 1:
        family = "fixed"
    out: dict[str, Any] = {
        "MaxRetryAttempts": retry.attempts - 1,
        "Delay": timespan_text(retry.wait),
    }
    if family == "polly_decorrelated_v2":
        out |= {"BackoffType": "Exponential", "UseJitter": True}
    elif family == "exponential" and multiplier == 2 and not jitter:
        out |= {"BackoffType": "Exponential", "UseJitter": False}
    elif family in ("fixed", "linear") and jitter in (0, 0.25):
        out |= {
            "BackoffType": "Constant" if family == "fixed" else "Linear",
            "UseJitter": bool(jitter),
        }
    else:
        gaps.add(
            f"{name}.retry.backoff",
            f"{retry.backoff} (multiplier {number(multiplier)}, jitter {number(jitter)}) has "
            "no Polly BackoffType (written as Constant)",
            also=(f"{name}.retry.multiplier", f"{name}.retry.jitter"),
        )
        out |= {"BackoffType": "Constant", "UseJitter": False}
    if retry.max_wait is not None:
        out["MaxDelay"] = timespan_text(retry.max_wait)
    if set(retry.retry_on) != set(CATEGORIES):
        gaps.add(f"{name}.retry.retry_on", "ShouldHandle is code, not configuration")
    if retry.budget is not None:
        gaps.add(f"{name}.retry.budget", "Polly has no retry budget")
    return out
