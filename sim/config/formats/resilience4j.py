"""resilience4j through Spring Boot: ``resilience4j.<module>.instances.<name>.*`` in
``application.yml`` or ``application.properties``, read with relaxed binding (camelCase,
kebab-case), ``configs.default`` and ``baseConfig`` inheritance, and resilience4j's
documented defaults for whatever is unset. Durations: a bare number is milliseconds
(Spring's default unit for ``java.time.Duration``), ``500ms``/``2s`` or ISO ``PT2S``.

Modules: ``circuitbreaker`` (the resilience4j preset), ``retry``, ``timelimiter`` (the
stage timeout), ``bulkhead``, ``thread-pool-bulkhead`` and ``ratelimiter``.
"""

from __future__ import annotations

import difflib
from typing import Any

from sim.config.formats.common import (
    Block,
    Imported,
    Source,
    duration_text,
    match_keys,
    number,
    seconds,
    squash,
)
from sim.config.formats.resilience4j_keys import (
    KEYS,
    MODULES,
    ROOT,
    SECTION_KEYS,
    SECTION_NOT_SIMULATED,
)
from sim.config.formats.values import JAVA_EXCEPTIONS, boolean, categories, choice, integer, real

Loc = tuple[str | int, ...]


def import_resilience4j(source: Source, instance: str | None) -> Imported:
    """Every instance of every module (or ``instance`` alone) as breakerlab stage blocks."""
    result = Imported(source.format, source.file)
    root, root_loc = _root(source)
    modules, ignored = match_keys(source, root, root_loc, MODULES, (), relaxed=True)
    result.ignored += ignored
    names: list[str] = []
    for module, section in modules.items():
        loc = (*root_loc, _written(root, module))
        for name, settings in _instances(source, section, loc, module, result).items():
            if name not in names:
                names.append(name)
            block = result.blocks.setdefault(name, {})
            _apply(source, module, settings, block, result)
    result.blocks = {n: result.blocks[n] for n in result.choose(source, names, instance, root_loc)}
    if not result.blocks:
        raise source.error("no instances: nothing under resilience4j.<module>.instances", root_loc)
    return result


def _root(source: Source) -> tuple[dict[str, Any], Loc]:
    data = source.data
    if isinstance(data, dict):
        for key, value in data.items():
            if squash(str(key)) == ROOT and isinstance(value, dict):
                return value, (key,)
    raise source.error("no resilience4j settings: expected a top-level 'resilience4j' key", ())


def _written(mapping: dict[str, Any], canonical: str) -> str:
    """The key as the file spells it."""
    for key in mapping:
        if squash(str(key)) == squash(canonical):
            return str(key)
    return canonical


def _instances(
    source: Source, section: Any, loc: Loc, module: str, result: Imported
) -> dict[str, tuple[dict[str, Any], Loc]]:
    """Each instance's settings with its ``baseConfig`` (or ``configs.default``) under it."""
    parts, ignored = match_keys(
        source, section, loc, SECTION_KEYS, SECTION_NOT_SIMULATED, relaxed=True
    )
    result.ignored += ignored
    configs = parts.get("configs") or {}
    instances = parts.get("instances") or {}
    out: dict[str, tuple[dict[str, Any], Loc]] = {}
    for name, settings in instances.items():
        where = (*loc, _written(section, "instances"), name)
        merged = _inherit(
            source,
            dict(settings or {}),
            configs,
            (*loc, _written(section, "configs")),
            where,
            set(),
        )
        out[str(name)] = (merged, where)
    return out


def _inherit(
    source: Source,
    settings: dict[str, Any],
    configs: dict[str, Any],
    configs_loc: Loc,
    loc: Loc,
    seen: set[str],
) -> dict[str, Any]:
    base_key = next((k for k in settings if squash(str(k)) == "baseconfig"), None)
    # An instance without baseConfig stands on configs.default; a named config does not.
    implicit = "default" if "default" in configs and not seen else None
    base = settings.pop(base_key) if base_key is not None else implicit
    if base is None:
        return settings
    base = str(base)
    if base not in configs:
        message = f"baseConfig {base!r} is not under configs{_hint(base, list(configs))}"
        raise source.error(message, (*loc, str(base_key)))
    if base in seen:
        raise source.error(f"baseConfig {base!r} inherits from itself", loc)
    parent = _inherit(
        source, dict(configs[base] or {}), configs, configs_loc, (*configs_loc, base), seen | {base}
    )
    by_norm = {squash(str(k)): k for k in settings}
    merged = {k: v for k, v in parent.items() if squash(str(k)) not in by_norm}
    merged.update(settings)
    return merged


def _hint(name: str, known: list[str]) -> str:
    hint = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {hint[0]!r}?" if hint else f" (configs: {', '.join(known) or 'none'})"


def _apply(
    source: Source, module: str, found: tuple[dict[str, Any], Loc], block: Block, result: Imported
) -> None:
    settings, loc = found
    known, skipped = KEYS[module]
    values, ignored = match_keys(source, settings, loc, known, skipped, relaxed=True)
    result.ignored += ignored
    at = {name: (*loc, _written(settings, name)) for name in values}
    if module == "circuitbreaker":
        block["breaker"] = _breaker(source, values, at, result)
    elif module == "retry":
        block["retry"] = _retry(source, values, at, result)
    elif module == "timelimiter":
        block["timeout"] = duration_text(_seconds(source, values, at, "timeoutDuration", 1.0))
    elif module == "bulkhead":
        if "bulkhead" in block:
            result.notes.append(
                f"{source.where(loc)}: a semaphore and a thread-pool bulkhead; the semaphore "
                "one is kept"
            )
        block["bulkhead"] = {
            "max_concurrent_calls": _int(source, values, at, "maxConcurrentCalls", 25),
            "max_wait_duration": duration_text(
                _seconds(source, values, at, "maxWaitDuration", 0.0)
            ),
        }
    elif module == "thread-pool-bulkhead":
        block.setdefault(
            "bulkhead",
            {
                "type": "thread_pool",
                "core_thread_pool_size": _int(source, values, at, "coreThreadPoolSize", 9),
                "max_thread_pool_size": _int(source, values, at, "maxThreadPoolSize", 10),
                "queue_capacity": _int(source, values, at, "queueCapacity", 100),
            },
        )
        if "coreThreadPoolSize" not in values or "maxThreadPoolSize" not in values:
            result.notes.append(
                f"{source.where(loc)}: thread pool sizes default to the number of processors "
                "(less one for the core); breakerlab assumes 10 processors (core 9, max 10)"
            )
    else:
        block["rate_limiter"] = {
            "limit_for_period": _int(source, values, at, "limitForPeriod", 50),
            "limit_refresh_period": duration_text(
                _seconds(source, values, at, "limitRefreshPeriod", 500e-9)
            ),
            "timeout_duration": duration_text(_seconds(source, values, at, "timeoutDuration", 5.0)),
        }


def _seconds(
    source: Source, values: dict[str, Any], at: dict[str, Loc], name: str, default: float
) -> float:
    return seconds(source, values[name], at[name], bare="ms") if name in values else default


def _int(
    source: Source, values: dict[str, Any], at: dict[str, Loc], name: str, default: int
) -> int:
    return integer(source, values[name], at[name]) if name in values else default


def _percent(
    source: Source, values: dict[str, Any], at: dict[str, Loc], name: str, result: Imported
) -> Any:
    """A resilience4j percentage; below 1 it is kept as written (``0.5%``) and flagged:
    resilience4j reads 0.5 as half a percent, where a Polly user means 50 %."""
    if name not in values:
        return None
    value = real(source, values[name], at[name])
    if 0 < value < 1:
        result.notes.append(
            f"{source.where(at[name])}: {name} {number(value)} means {number(value)} % in "
            "resilience4j "
            f"(it opens on about 1 failure in {round(100 / value)} calls); if "
            f"{number(value * 100)} % "
            f"was meant, production needs {number(value * 100)} too"
        )
        return f"{number(value)}%"
    return number(value)


def _breaker(source: Source, values: dict[str, Any], at: dict[str, Loc], result: Imported) -> Block:
    out: Block = {"preset": "resilience4j"}
    for name, key in (
        ("failureRateThreshold", "failure_rate_threshold"),
        ("slowCallRateThreshold", "slow_call_rate_threshold"),
    ):
        value = _percent(source, values, at, name, result)
        out[key] = (
            50
            if value is None and name == "failureRateThreshold"
            else (100 if value is None else value)
        )
    out["slow_call_duration_threshold"] = duration_text(
        _seconds(source, values, at, "slowCallDurationThreshold", 60.0)
    )
    if "slidingWindowType" in values:
        out["sliding_window_type"] = choice(
            source,
            values["slidingWindowType"],
            at["slidingWindowType"],
            ("COUNT_BASED", "TIME_BASED"),
        )
    else:
        out["sliding_window_type"] = "COUNT_BASED"
    out["sliding_window_size"] = _int(source, values, at, "slidingWindowSize", 100)
    out["minimum_number_of_calls"] = _int(source, values, at, "minimumNumberOfCalls", 100)
    out["wait_duration_in_open_state"] = duration_text(
        _seconds(source, values, at, "waitDurationInOpenState", 60.0)
    )
    out["permitted_number_of_calls_in_half_open_state"] = _int(
        source, values, at, "permittedNumberOfCallsInHalfOpenState", 10
    )
    out["max_wait_duration_in_half_open_state"] = duration_text(
        _seconds(source, values, at, "maxWaitDurationInHalfOpenState", 0.0)
    )
    out["transition_to_state_after_wait_duration"] = (
        choice(
            source,
            values["transitionToStateAfterWaitDuration"],
            at["transitionToStateAfterWaitDuration"],
            ("OPEN", "CLOSED"),
        )
        if "transitionToStateAfterWaitDuration" in values
        else "OPEN"
    )
    for name, key in (
        (
            "automaticTransitionFromOpenToHalfOpenEnabled",
            "automatic_transition_from_open_to_half_open_enabled",
        ),
        ("enableExponentialBackoff", "enable_exponential_backoff"),
    ):
        out[key] = boolean(source, values[name], at[name]) if name in values else False
    if "exponentialBackoffMultiplier" in values:
        out["exponential_backoff_multiplier"] = number(
            real(source, values["exponentialBackoffMultiplier"], at["exponentialBackoffMultiplier"])
        )
    else:
        out["exponential_backoff_multiplier"] = 1.5  # IntervalFunction.DEFAULT_MULTIPLIER
    cap = "exponentialMaxWaitDurationInOpenState"
    out["exponential_max_wait_duration_in_open_state"] = (
        duration_text(_seconds(source, values, at, cap, 0.0)) if cap in values else None
    )
    for name, key in (
        ("recordExceptions", "record_exceptions"),
        ("ignoreExceptions", "ignore_exceptions"),
    ):
        if name in values:
            found = categories(source, values[name], at[name], JAVA_EXCEPTIONS, result.ignored)
            out[key] = (
                found
                if found is not None
                else ([] if key == "ignore_exceptions" else list(JAVA_EXCEPTIONS))
            )
    return out


def _retry(source: Source, values: dict[str, Any], at: dict[str, Loc], result: Imported) -> Block:
    exponential = (
        boolean(source, values["enableExponentialBackoff"], at["enableExponentialBackoff"])
        if "enableExponentialBackoff" in values
        else False
    )
    randomized = (
        boolean(source, values["enableRandomizedWait"], at["enableRandomizedWait"])
        if "enableRandomizedWait" in values
        else False
    )
    multiplier = (
        real(source, values["exponentialBackoffMultiplier"], at["exponentialBackoffMultiplier"])
        if "exponentialBackoffMultiplier" in values
        else 1.5
    )
    factor = (
        real(source, values["randomizedWaitFactor"], at["randomizedWaitFactor"])
        if "randomizedWaitFactor" in values
        else 0.5
    )
    out: Block = {
        "max_attempts": _int(source, values, at, "maxAttempts", 3),
        "wait": duration_text(_seconds(source, values, at, "waitDuration", 0.5)),
        "backoff": "randomized" if randomized else ("exponential" if exponential else "fixed"),
    }
    if exponential:
        out["multiplier"] = number(multiplier)
        if "exponentialMaxWaitDuration" in values:
            out["max_wait"] = duration_text(
                _seconds(source, values, at, "exponentialMaxWaitDuration", 0.0)
            )
    if randomized:
        out["jitter"] = number(factor)
    retry_on = None
    if "retryExceptions" in values:
        retry_on = categories(
            source,
            values["retryExceptions"],
            at["retryExceptions"],
            JAVA_EXCEPTIONS,
            result.ignored,
        )
    chosen = list(retry_on or JAVA_EXCEPTIONS)
    if "ignoreExceptions" in values:
        ignored = (
            categories(
                source,
                values["ignoreExceptions"],
                at["ignoreExceptions"],
                JAVA_EXCEPTIONS,
                result.ignored,
            )
            or []
        )
        chosen = [c for c in chosen if c not in ignored]
    out["retry_on"] = chosen
    return out
