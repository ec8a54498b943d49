"""Node.js: opossum's ``CircuitBreaker`` options and cockatiel's policies, as JSON.

opossum: the options object (``timeout``, ``errorThresholdPercentage``, ``resetTimeout``,
``rollingCountTimeout``, ``rollingCountBuckets``, ``volumeThreshold``, ``allowWarmUp``,
``capacity``, ``enabled``), alone or as ``{name: options}``. Milliseconds.

cockatiel's options are code; the JSON mirrors its calls, one object per instance::

    {"payment": {"retry": {"maxAttempts": 3, "backoff": {"exponential": {"initialDelay": 128,
       "maxDelay": 30000, "generator": "decorrelatedJitter"}}},
     "circuitBreaker": {"halfOpenAfter": 10000, "breaker": {"consecutive": 5}},
     "timeout": {"duration": 2000, "strategy": "cooperative"}, "bulkhead": {"limit": 10}}}

(``backoff``: ``{"constant": ms}`` or ``exponential``; ``breaker``: ``{"consecutive": n}``
or ``{"sampling": {"threshold", "duration", "minimumRps"}}``; ``halfOpenAfter``: ms or
``{"exponential": {"initialDelay", "maxDelay"}}``; ``handle``: the failure categories a
policy handles, default all)."""

from __future__ import annotations

from typing import Any

from sim.config.formats.common import (
    Block,
    Imported,
    Source,
    duration_text,
    match_keys,
    number,
)
from sim.config.formats.values import CATEGORIES, boolean, integer, real

Loc = tuple[str | int, ...]
OPOSSUM_KEYS = (
    "timeout",
    "errorThresholdPercentage",
    "resetTimeout",
    "rollingCountTimeout",
    "rollingCountBuckets",
    "volumeThreshold",
    "allowWarmUp",
    "capacity",
    "enabled",
    "name",
)
OPOSSUM_SKIPPED = (
    "group",
    "rollingPercentilesEnabled",
    "enableSnapshots",
    "rotateBucketController",
    "cache",
    "cacheTTL",
    "cacheSize",
    "cacheGetKey",
    "cacheTransport",
    "coalesce",
    "coalesceTTL",
    "coalesceSize",
    "coalesceResetOn",
    "abortController",
    "autoRenewAbortController",
    "errorFilter",
    "maxFailures",
    "status",
    "state",
)
COCKATIEL_KEYS = ("retry", "circuitBreaker", "timeout", "bulkhead")
GENERATORS = {
    "noJitter": "exponential",
    "fullJitter": "full_jitter",
    "halfJitter": "equal_jitter",
    "decorrelatedJitter": "polly_decorrelated_v2",
}


def _instances(source: Source, known: tuple[str, ...]) -> dict[str, tuple[dict[str, Any], Loc]]:
    data = source.data
    if not isinstance(data, dict):
        raise source.error("expected a JSON object of options", ())
    if any(key in known for key in data):
        return {str(data.get("name", "default")): (data, ())}
    return {str(name): (options, (name,)) for name, options in data.items()}


def _pick(
    source: Source, found: dict[str, Any], instance: str | None, result: Imported
) -> dict[str, Any]:
    """``found`` or its ``instance`` alone (``result`` records every instance found)."""
    return {name: found[name] for name in result.choose(source, list(found), instance, ())}


def import_opossum(source: Source, instance: str | None) -> Imported:
    result = Imported("opossum", source.file)
    found = _pick(source, _instances(source, OPOSSUM_KEYS), instance, result)
    for name, (options, loc) in found.items():
        values, ignored = match_keys(source, options, loc, OPOSSUM_KEYS, OPOSSUM_SKIPPED)
        result.ignored += ignored
        at = {key: (*loc, key) for key in values}
        block: Block = {}
        timeout = values.get("timeout", 10000)
        if timeout is not False:
            block["timeout"] = duration_text(real(source, timeout, at.get("timeout", loc)) / 1000)
        if "enabled" not in values or boolean(source, values["enabled"], at["enabled"]):
            block["breaker"] = {"preset": "opossum"} | {
                snake: (
                    number(real(source, values[key], at[key]))
                    if key != "allowWarmUp"
                    else boolean(source, values[key], at[key])
                )
                for key, snake in (
                    ("errorThresholdPercentage", "error_threshold_percentage"),
                    ("resetTimeout", "reset_timeout"),
                    ("rollingCountTimeout", "rolling_count_timeout"),
                    ("rollingCountBuckets", "rolling_count_buckets"),
                    ("volumeThreshold", "volume_threshold"),
                    ("allowWarmUp", "allow_warm_up"),
                )
                if key in values
            }
            pct = block["breaker"].get("error_threshold_percentage")
            if isinstance(pct, int | float) and 0 < pct < 1:
                block["breaker"]["error_threshold_percentage"] = f"{pct}%"
                result.notes.append(
                    f"{source.where(at['errorThresholdPercentage'])}: "
                    f"errorThresholdPercentage {pct} means {pct} %; if {number(pct * 100)} % "
                    f"was meant, production needs {number(pct * 100)} too"
                )
        else:
            result.notes.append(f"{source.where(at['enabled'])}: enabled false: no breaker")
        if "capacity" in values:
            block["bulkhead"] = {
                "max_concurrent_calls": integer(source, values["capacity"], at["capacity"]),
                "max_wait_duration": "0s",
            }
            result.notes.append(
                f"{source.where(at['capacity'])}: opossum counts a call its semaphore refuses "
                "as a failure; breakerlab's breaker counts it as 'rejected'"
            )
        result.blocks[name] = block
    return result


def import_cockatiel(source: Source, instance: str | None) -> Imported:
    result = Imported("cockatiel", source.file)
    found = _pick(source, _instances(source, COCKATIEL_KEYS), instance, result)
    for name, (options, loc) in found.items():
        values, ignored = match_keys(source, options, loc, COCKATIEL_KEYS)
        result.ignored += ignored
        block: Block = {}
        if "timeout" in values:
            at = (*loc, "timeout")
            timeout, _ = match_keys(source, values["timeout"], at, ("duration", "strategy"))
            block["timeout"] = duration_text(
                real(source, timeout.get("duration"), (*at, "duration")) / 1000
            )
            if str(timeout.get("strategy", "cooperative")).lower() == "cooperative":
                result.notes.append(
                    f"{source.where(at)}: a cooperative timeout frees the caller at once in "
                    "breakerlab, as an aggressive one does"
                )
        if "retry" in values:
            block["retry"] = _retry(source, values["retry"], (*loc, "retry"), result)
        if "circuitBreaker" in values:
            block["breaker"] = _breaker(
                source, values["circuitBreaker"], (*loc, "circuitBreaker"), result
            )
        if "bulkhead" in values:
            at = (*loc, "bulkhead")
            bulkhead, _ = match_keys(source, values["bulkhead"], at, ("limit", "queue"))
            block["bulkhead"] = {
                "max_concurrent_calls": integer(source, bulkhead.get("limit"), (*at, "limit")),
                "max_wait_duration": "0s",
            }
            if bulkhead.get("queue"):
                result.notes.append(
                    f"{source.where((*at, 'queue'))}: a queue of {bulkhead['queue']} is not "
                    "simulated: calls over the limit are rejected at once"
                )
        result.blocks[name] = block
    return result


def _handle(source: Source, values: dict[str, Any], loc: Loc) -> list[str]:
    handle = values.get("handle", list(CATEGORIES))
    for index, item in enumerate(handle):
        if item not in CATEGORIES:
            raise source.error(
                f"unknown failure category {item!r} (known: {', '.join(CATEGORIES)})",
                (*loc, "handle", index),
            )
    return list(handle)


def _retry(source: Source, retry: Any, at: Loc, result: Imported) -> Block:
    values, _ = match_keys(source, retry, at, ("maxAttempts", "backoff", "handle"))
    if "maxAttempts" not in values:
        raise source.error("cockatiel retries forever without maxAttempts: give one", at)
    out: Block = {
        "max_retry_attempts": integer(source, values["maxAttempts"], (*at, "maxAttempts")),
        "retry_on": _handle(source, values, at),
    }
    backoff = values.get("backoff") or {"constant": 0}
    kinds, _ = match_keys(source, backoff, (*at, "backoff"), ("constant", "exponential"))
    if "constant" in kinds:
        return out | {
            "wait": duration_text(
                real(source, kinds["constant"], (*at, "backoff", "constant")) / 1000
            ),
            "backoff": "fixed",
        }
    where = (*at, "backoff", "exponential")
    options, _ = match_keys(
        source,
        kinds["exponential"] or {},
        where,
        ("initialDelay", "maxDelay", "exponent", "generator"),
    )
    generator = str(options.get("generator", "decorrelatedJitter"))
    if generator not in GENERATORS:
        raise source.error(
            f"unknown generator {generator!r} (known: {', '.join(GENERATORS)})",
            (*where, "generator"),
        )
    if generator != "noJitter":
        result.notes.append(
            f"{source.where(where)}: {generator}'s waits are whole milliseconds in cockatiel, "
            "not in breakerlab"
        )
    if (
        real(source, options.get("exponent", 2), (*where, "exponent")) != 2
        and generator == "decorrelatedJitter"
    ):
        result.notes.append(f"{source.where(where)}: an exponent other than 2 is run as 2")
    out |= {
        "wait": duration_text(
            real(source, options.get("initialDelay", 128), (*where, "initialDelay")) / 1000
        ),
        "backoff": GENERATORS[generator],
        "max_wait": duration_text(
            real(source, options.get("maxDelay", 30000), (*where, "maxDelay")) / 1000
        ),
    }
    if generator in ("noJitter", "fullJitter", "halfJitter"):
        out["multiplier"] = 2  # cockatiel doubles whatever 'exponent' says
    return out


def _breaker(source: Source, options: Any, at: Loc, result: Imported) -> Block:
    values, _ = match_keys(source, options, at, ("halfOpenAfter", "breaker", "handle"))
    out: Block = {"preset": "cockatiel", "handle": _handle(source, values, at)}
    breaker, _ = match_keys(
        source,
        values.get("breaker") or {"consecutive": 5},
        (*at, "breaker"),
        ("consecutive", "sampling"),
    )
    if "consecutive" in breaker:
        out |= {
            "breaker": "consecutive",
            "threshold": integer(source, breaker["consecutive"], (*at, "breaker", "consecutive")),
        }
    else:
        where = (*at, "breaker", "sampling")
        sampling, _ = match_keys(
            source, breaker["sampling"], where, ("threshold", "duration", "minimumRps")
        )
        out |= {
            "breaker": "sampling",
            "threshold": real(source, sampling.get("threshold"), (*where, "threshold")),
            "duration": number(real(source, sampling.get("duration"), (*where, "duration"))),
            "minimum_rps": number(real(source, sampling["minimumRps"], (*where, "minimumRps")))
            if sampling.get("minimumRps")
            else None,
        }
    half = values.get("halfOpenAfter", 10000)
    if isinstance(half, dict):
        where = (*at, "halfOpenAfter")
        kinds, _ = match_keys(source, half, where, ("exponential",))
        exp, _ = match_keys(
            source,
            kinds.get("exponential") or {},
            (*where, "exponential"),
            ("initialDelay", "maxDelay", "generator"),
        )
        if exp.get("generator", "noJitter") != "noJitter":
            result.notes.append(
                f"{source.where(where)}: a jittered half-open backoff is run without jitter"
            )
        out |= {
            "half_open_after": number(
                real(source, exp.get("initialDelay", 128), (*where, "exponential", "initialDelay"))
            ),
            "half_open_backoff": "exponential",
            "half_open_max_delay": number(
                real(source, exp.get("maxDelay", 30000), (*where, "exponential", "maxDelay"))
            ),
        }
    else:
        out["half_open_after"] = number(real(source, half, (*at, "halfOpenAfter")))
    result.notes.append(
        f"{source.where(at)}: calls arriving while cockatiel's probe is out are refused at "
        "once in the simulation (cockatiel holds them until the probe's result)"
    )
    return out
