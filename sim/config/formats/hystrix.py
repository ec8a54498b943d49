"""Hystrix: ``hystrix.command.<key>.*`` and ``hystrix.threadpool.<key>.*`` properties (a
``.properties`` file, or the same tree in YAML as Spring Cloud Netflix writes it), with
``hystrix.command.default.*`` under every command and Hystrix 1.5's defaults under that.
The breaker is the ``hystrix`` preset; the execution timeout the stage timeout (on by
default: 1000 ms); the isolation a thread pool or a semaphore bulkhead."""

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
)
from sim.config.formats.stacks import Gaps, breaker_preset, finish, stages_of
from sim.config.formats.values import boolean, choice, integer

FORMAT = "hystrix"
Loc = tuple[str | int, ...]
TIMEOUT = "execution.isolation.thread.timeoutInMilliseconds"
COMMAND: dict[str, Any] = {
    TIMEOUT: 1000,
    "execution.timeout.enabled": True,
    "execution.isolation.strategy": "THREAD",
    "execution.isolation.semaphore.maxConcurrentRequests": 10,
    "circuitBreaker.enabled": True,
    "circuitBreaker.requestVolumeThreshold": 20,
    "circuitBreaker.sleepWindowInMilliseconds": 5000,
    "circuitBreaker.errorThresholdPercentage": 50,
    "metrics.rollingStats.timeInMilliseconds": 10000,
    "metrics.healthSnapshot.intervalInMilliseconds": 500,
}
COMMAND_SKIPPED = (
    "execution.isolation.thread.interruptOnTimeout",
    "execution.isolation.thread.interruptOnCancel",
    "execution.isolation.thread.interruptOnFutureCancel",
    "fallback.enabled",
    "fallback.isolation.semaphore.maxConcurrentRequests",
    "circuitBreaker.forceOpen",
    "circuitBreaker.forceClosed",
    "metrics.rollingStats.numBuckets",
    "metrics.rollingPercentile.enabled",
    "metrics.rollingPercentile.timeInMilliseconds",
    "metrics.rollingPercentile.numBuckets",
    "metrics.rollingPercentile.bucketSize",
    "requestCache.enabled",
    "requestLog.enabled",
    "threadPoolKeyOverride",
)
POOL: dict[str, Any] = {
    "coreSize": 10,
    "maximumSize": 10,
    "maxQueueSize": -1,
    "queueSizeRejectionThreshold": 5,
    "allowMaximumSizeToDivergeFromCoreSize": False,
}
POOL_SKIPPED = (
    "keepAliveTimeMinutes",
    "metrics.rollingStats.timeInMilliseconds",
    "metrics.rollingStats.numBuckets",
)


def _flatten(data: Any, loc: Loc) -> dict[str, tuple[Any, Loc]]:
    """``{"a": {"b": 1}}`` as ``{"a.b": (1, loc)}``."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, tuple[Any, Loc]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, found in _flatten(value, (*loc, key)).items():
                out[f"{key}.{sub}"] = found
        else:
            out[str(key)] = (value, (*loc, key))
    return out


def _settings(
    source: Source,
    group: dict[str, Any],
    name: str,
    loc: Loc,
    known: dict[str, Any],
    skipped: tuple[str, ...],
    result: Imported,
) -> tuple[dict[str, Any], dict[str, Loc]]:
    """A command's (or pool's) settings over ``default``'s over Hystrix's defaults."""
    values: dict[str, Any] = dict(known)
    at: dict[str, Loc] = {}
    for key in ("default", name):
        flat = _flatten(group.get(key), (*loc, key))
        plain = {k: v for k, (v, _) in flat.items()}
        found, ignored = match_keys(source, plain, (*loc, key), known, skipped)
        result.ignored += [i for i in ignored if i not in result.ignored]
        for k, value in found.items():
            values[k] = value
            at[k] = flat[k][1]
    return values, at


def import_hystrix(source: Source, instance: str | None) -> Imported:
    result = Imported(FORMAT, source.file)
    root = source.data.get("hystrix") if isinstance(source.data, dict) else None
    if not isinstance(root, dict):
        raise source.error("no Hystrix settings: expected hystrix.command.<key>.* properties", ())
    commands = root.get("command") or {}
    pools = root.get("threadpool") or {}
    known = [str(n) for n in commands if n != "default"]
    names = result.choose(source, known, instance, ("hystrix", "command"))
    if not names:
        raise source.error(
            "no Hystrix command: nothing under hystrix.command.<key> but default", ("hystrix",)
        )
    for name in names:
        values, at = _settings(
            source, commands, name, ("hystrix", "command"), COMMAND, COMMAND_SKIPPED, result
        )
        pool, pool_at = _settings(
            source, pools, name, ("hystrix", "threadpool"), POOL, POOL_SKIPPED, result
        )
        result.blocks[name] = _command(source, values, at, pool, pool_at)
    return result


def _command(
    source: Source,
    values: dict[str, Any],
    at: dict[str, Loc],
    pool: dict[str, Any],
    pool_at: dict[str, Loc],
) -> Block:
    def num(key: str, table: dict[str, Any] = values, where: dict[str, Loc] = at) -> int:
        return integer(source, table[key], where.get(key, ()))

    def flag(key: str, table: dict[str, Any] = values, where: dict[str, Loc] = at) -> bool:
        return boolean(source, table[key], where.get(key, ()))

    block: Block = {}
    if flag("execution.timeout.enabled"):
        block["timeout"] = duration_text(num(TIMEOUT) / 1000)
    if flag("circuitBreaker.enabled"):
        block["breaker"] = {
            "preset": "hystrix",
            "circuit_breaker_error_threshold_percentage": num(
                "circuitBreaker.errorThresholdPercentage"
            ),
            "circuit_breaker_request_volume_threshold": num(
                "circuitBreaker.requestVolumeThreshold"
            ),
            "circuit_breaker_sleep_window_in_milliseconds": num(
                "circuitBreaker.sleepWindowInMilliseconds"
            ),
            "metrics_rolling_statistical_window_in_milliseconds": num(
                "metrics.rollingStats.timeInMilliseconds"
            ),
            "metrics_health_snapshot_interval_in_milliseconds": num(
                "metrics.healthSnapshot.intervalInMilliseconds"
            ),
        }
    strategy = choice(
        source,
        values["execution.isolation.strategy"],
        at.get("execution.isolation.strategy", ()),
        ("THREAD", "SEMAPHORE"),
    )
    if strategy == "SEMAPHORE":
        block["bulkhead"] = {
            "max_concurrent_calls": num("execution.isolation.semaphore.maxConcurrentRequests"),
            "max_wait_duration": "0s",
        }
    else:
        core = num("coreSize", pool, pool_at)
        most = (
            num("maximumSize", pool, pool_at)
            if flag("allowMaximumSizeToDivergeFromCoreSize", pool, pool_at)
            else core
        )
        queue = num("maxQueueSize", pool, pool_at)
        threshold = num("queueSizeRejectionThreshold", pool, pool_at)
        block["bulkhead"] = {
            "type": "thread_pool",
            "core_thread_pool_size": core,
            "max_thread_pool_size": max(core, most),
            "queue_capacity": 0 if queue < 0 else min(queue, threshold),
        }
    return block


def export_hystrix(config: Configuration) -> Exported:
    stacks, others = stages_of(config)
    gaps = Gaps(FORMAT)
    lines: list[str] = []
    for name, stage in stacks.items():
        lines += [f"hystrix.{key}={value}" for key, value in _export_stage(name, stage, gaps)]
        lines.append("")
    exported = finish(FORMAT, "\n".join(lines), gaps, others, [], style="python")
    return exported


def _export_stage(name: str, stage: StagePolicy, gaps: Gaps) -> list[tuple[str, Any]]:
    """One stage as HystrixCommand properties: its timeout, breaker and isolation; what
    Hystrix has no setting for (a retry, a rate limiter, hedging, an order) is a gap."""
    command = f"command.{name}"
    out = _export_timeout(name, command, stage, gaps)
    out += _export_breaker(name, command, stage, gaps)
    out += _export_isolation(name, command, stage, gaps)
    for layer in ("retry", "rate_limiter", "hedging"):
        if getattr(stage, layer) is not None:
            gaps.add(f"{name}.{layer}", f"Hystrix has no {layer.replace('_', ' ')}")
    if stage.order is not None:
        gaps.add(f"{name}.order", "Hystrix's order is fixed")
    return out


def _export_timeout(
    name: str, command: str, stage: StagePolicy, gaps: Gaps
) -> list[tuple[str, Any]]:
    """The execution timeout, in whole milliseconds (a fraction is a gap), or none."""
    if stage.timeout is None:
        return [(f"{command}.execution.timeout.enabled", "false")]
    if stage.timeout * 1000 != round(stage.timeout * 1000):
        gaps.add(f"{name}.timeout", "Hystrix's timeout is whole milliseconds")
    return [
        (f"{command}.execution.timeout.enabled", "true"),
        (f"{command}.{TIMEOUT}", number(round(stage.timeout * 1000, 6))),
    ]


def _export_breaker(
    name: str, command: str, stage: StagePolicy, gaps: Gaps
) -> list[tuple[str, Any]]:
    """A hystrix breaker's properties; any other breaker is a gap, and disabled."""
    preset = breaker_preset(stage)
    if preset != "hystrix":
        if preset is not None:
            gaps.add(f"{name}.breaker", f"a {preset} breaker is not Hystrix's")
        return [(f"{command}.circuitBreaker.enabled", "false")]
    spec: Any = stage.breaker
    if spec.ignore_exceptions:
        gaps.add(
            f"{name}.breaker.ignore_exceptions",
            "Hystrix ignores HystrixBadRequestException, chosen in code",
        )
    breaker, metrics = f"{command}.circuitBreaker", f"{command}.metrics"
    return [
        (f"{breaker}.enabled", "true"),
        (
            f"{breaker}.errorThresholdPercentage",
            number(spec.circuit_breaker_error_threshold_percentage),
        ),
        (f"{breaker}.requestVolumeThreshold", spec.circuit_breaker_request_volume_threshold),
        (
            f"{breaker}.sleepWindowInMilliseconds",
            number(spec.circuit_breaker_sleep_window_in_milliseconds),
        ),
        (
            f"{metrics}.rollingStats.timeInMilliseconds",
            number(spec.metrics_rolling_statistical_window_in_milliseconds),
        ),
        (
            f"{metrics}.healthSnapshot.intervalInMilliseconds",
            number(spec.metrics_health_snapshot_interval_in_milliseconds),
        ),
    ]


def _export_isolation(
    name: str, command: str, stage: StagePolicy, gaps: Gaps
) -> list[tuple[str, Any]]:
    """The bulkhead as Hystrix isolation: a semaphore without wait, or a thread pool; a
    semaphore that waits, or none at all, is a gap (written as an unlimited semaphore)."""
    bulkhead = stage.bulkhead
    strategy = f"{command}.execution.isolation.strategy"
    semaphore = f"{command}.execution.isolation.semaphore.maxConcurrentRequests"
    if isinstance(bulkhead, SemaphoreBulkhead) and bulkhead.max_wait_duration == 0:
        return [(strategy, "SEMAPHORE"), (semaphore, bulkhead.max_concurrent_calls)]
    if bulkhead is not None and not isinstance(bulkhead, SemaphoreBulkhead):
        pool = f"threadpool.{name}"
        queue = bulkhead.queue_capacity
        return [
            (strategy, "THREAD"),
            (f"{pool}.coreSize", bulkhead.core_thread_pool_size),
            (f"{pool}.maximumSize", bulkhead.max_thread_pool_size),
            (f"{pool}.allowMaximumSizeToDivergeFromCoreSize", "true"),
            (f"{pool}.maxQueueSize", queue if queue else -1),
            (f"{pool}.queueSizeRejectionThreshold", queue if queue else 5),
        ]
    gaps.add(
        f"{name}.bulkhead",
        "Hystrix always isolates a command (written as a semaphore of 2147483647: no "
        "limit in practice)"
        if bulkhead is None
        else "a Hystrix semaphore rejects at once: no wait",
    )
    return [(strategy, "SEMAPHORE"), (semaphore, 2147483647)]
