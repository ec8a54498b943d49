"""Envoy: a cluster's ``outlier_detection`` (the ``envoy`` preset) and
``circuit_breakers.thresholds`` (``max_requests`` as a bulkhead, ``retry_budget``), and the
routes to it: ``timeout`` and ``retry_policy``. Anywhere in a bootstrap, an xDS dump or a
bare list: clusters are found by their keys, routes by ``route.cluster``. Durations as
protobuf writes them (``10s``, ``0.25s``).

Envoy's retry back-off is uniform in [0, (2^N - 1) x base_interval), capped at
max_interval (default 10 x base): breakerlab runs it as full jitter doubling from
base_interval (U(0, base x 2^(N-1))), which waits a little less from the second retry."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from sim.config.formats.common import (
    Block,
    Imported,
    Source,
    duration_text,
    match_keys,
    seconds,
)
from sim.config.formats.values import integer, items, real

FORMAT = "envoy"
Loc = tuple[str | int, ...]
CLUSTER_HINTS = (
    "outlier_detection",
    "circuit_breakers",
    "connect_timeout",
    "load_assignment",
    "lb_policy",
)
OUTLIER_KEYS = ("consecutive_5xx", "interval", "base_ejection_time", "max_ejection_time")
OUTLIER_SKIPPED = (
    "consecutive_gateway_failure",
    "enforcing_consecutive_5xx",
    "enforcing_consecutive_gateway_failure",
    "enforcing_success_rate",
    "success_rate_minimum_hosts",
    "success_rate_request_volume",
    "success_rate_stdev_factor",
    "consecutive_local_origin_failure",
    "enforcing_consecutive_local_origin_failure",
    "enforcing_local_origin_success_rate",
    "failure_percentage_threshold",
    "enforcing_failure_percentage",
    "enforcing_failure_percentage_local_origin",
    "failure_percentage_minimum_hosts",
    "failure_percentage_request_volume",
    "split_external_local_origin_errors",
    "max_ejection_percent",
    "max_ejection_time_jitter",
    "successful_active_health_check_uneject_host",
    "monitor",
    "always_eject_one_host",
    "detect_degraded_hosts",
)
THRESHOLD_KEYS = ("priority", "max_requests", "retry_budget")
THRESHOLD_SKIPPED = (
    "max_connections",
    "max_pending_requests",
    "max_retries",
    "track_remaining",
    "max_connection_pools",
)
RETRY_KEYS = ("retry_on", "num_retries", "per_try_timeout", "retry_back_off")
RETRY_SKIPPED = (
    "retry_host_predicate",
    "host_selection_retry_max_attempts",
    "retriable_status_codes",
    "retry_priority",
    "rate_limited_retry_back_off",
    "per_try_idle_timeout",
    "retriable_headers",
    "retriable_request_headers",
    "retry_options_predicates",
)
# Envoy's retry_on conditions and breakerlab's failure categories.
RETRY_ON = {
    "5xx": ("server_error", "timeout", "connection"),
    "gateway-error": ("server_error", "timeout"),
    "connect-failure": ("connection",),
    "reset": ("connection",),
    "envoy-ratelimited": ("rejected",),
}
RETRY_ON_SKIPPED = (
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
)


def import_envoy(source: Source, instance: str | None) -> Imported:
    result = Imported(FORMAT, source.file)
    clusters: dict[str, tuple[dict[str, Any], Loc]] = {}
    routes: dict[str, list[tuple[dict[str, Any], Loc]]] = {}
    _find(source.data, (), clusters, routes)
    names = result.choose(source, list(dict.fromkeys([*clusters, *routes])), instance, ())
    if not names:
        raise source.error(
            "no Envoy cluster (with outlier_detection or circuit_breakers) or route to one", ()
        )
    for name in names:
        block: Block = {}
        if name in clusters:
            _cluster(source, *clusters[name], block, result)
        for route, loc in routes.get(name, [])[:1]:
            _route(source, route, loc, block, result)
        budget = block.pop("_budget", None)
        if budget is not None and "retry" in block:
            block["retry"]["budget"] = budget
        elif budget is not None:
            result.notes.append(f"{name}: a retry budget, but no route retries to it")
        if len(routes.get(name, [])) > 1:
            result.notes.append(
                f"{name}: {len(routes[name])} routes lead to it; the first is read "
                f"({source.where(routes[name][0][1])})"
            )
        result.blocks[name] = block
    return result


def _find(data: Any, loc: Loc, clusters: dict[str, Any], routes: dict[str, list[Any]]) -> None:
    if isinstance(data, dict):
        if "name" in data and any(key in data for key in CLUSTER_HINTS):
            clusters.setdefault(str(data["name"]), (data, loc))
            return
        action = data.get("route")
        if isinstance(action, dict) and "cluster" in action:
            routes.setdefault(str(action["cluster"]), []).append((action, (*loc, "route")))
        for key, value in data.items():
            if key != "route":
                _find(value, (*loc, key), clusters, routes)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            _find(item, (*loc, index), clusters, routes)


def _cluster(
    source: Source, cluster: dict[str, Any], loc: Loc, block: Block, result: Imported
) -> None:
    parts, ignored = match_keys(
        source, cluster, loc, ("name", "outlier_detection", "circuit_breakers"), (), lenient=True
    )
    result.ignored += ignored
    if "outlier_detection" in parts:
        at = (*loc, "outlier_detection")
        values, skip = match_keys(
            source, parts["outlier_detection"] or {}, at, OUTLIER_KEYS, OUTLIER_SKIPPED
        )
        result.ignored += skip
        block["breaker"] = _outlier(source, values, at)
    thresholds = (parts.get("circuit_breakers") or {}).get("thresholds") or []
    for index, threshold in enumerate(thresholds):
        at = (*loc, "circuit_breakers", "thresholds", index)
        values, skip = match_keys(source, threshold, at, THRESHOLD_KEYS, THRESHOLD_SKIPPED)
        if str(values.get("priority", "DEFAULT")).upper() != "DEFAULT":
            result.ignored.append(
                f"{source.where(at)} (priority {values['priority']}: breakerlab has one priority)"
            )
            continue
        result.ignored += skip
        if "max_requests" in values:
            block["bulkhead"] = {
                "max_concurrent_calls": integer(
                    source, values["max_requests"], (*at, "max_requests")
                ),
                "max_wait_duration": "0s",
            }
        if "retry_budget" in values:
            block["_budget"] = _budget(
                source, values["retry_budget"] or {}, (*at, "retry_budget"), result
            )


def _outlier(source: Source, values: dict[str, Any], at: Loc) -> Block:
    def wrapped(name: str, default: float, duration: bool) -> Any:
        if name not in values:
            return duration_text(default) if duration else int(default)
        value = values[name]
        if isinstance(value, dict) and "value" in value:  # a UInt32Value written as an object
            value = value["value"]
        if duration:
            return duration_text(seconds(source, value, (*at, name)))
        return integer(source, value, (*at, name))

    return {
        "preset": "envoy",
        "consecutive_5xx": wrapped("consecutive_5xx", 5, False),
        "interval": wrapped("interval", 10.0, True),
        "base_ejection_time": wrapped("base_ejection_time", 30.0, True),
        "max_ejection_time": wrapped("max_ejection_time", 300.0, True),
    }


def _budget(source: Source, budget: dict[str, Any], at: Loc, result: Imported) -> str:
    values, _ = match_keys(source, budget, at, ("budget_percent", "min_retry_concurrency"))
    percent = values.get("budget_percent", {"value": 20.0})
    percent = real(
        source,
        percent.get("value", 20.0) if isinstance(percent, dict) else percent,
        (*at, "budget_percent"),
    )
    least = integer(source, values.get("min_retry_concurrency", 3), (*at, "min_retry_concurrency"))
    if (percent, least) != (20.0, 3):
        result.notes.append(
            f"{source.where(at)}: breakerlab's envoy budget is Envoy's default (20 %, at "
            f"least 3 concurrent retries), not {percent:g} % / {least}"
        )
    return "envoy"


def _route(
    source: Source, action: dict[str, Any], loc: Loc, block: Block, result: Imported
) -> None:
    parts, ignored = match_keys(
        source,
        action,
        loc,
        ("cluster", "timeout", "retry_policy"),
        ("idle_timeout", "hedge_policy", "max_stream_duration"),
        lenient=True,
    )
    result.ignored += ignored
    total = seconds(source, parts["timeout"], (*loc, "timeout")) if "timeout" in parts else 15.0
    if "retry_policy" not in parts:
        if total > 0:
            block["timeout"] = duration_text(total)
        return
    at = (*loc, "retry_policy")
    values, skip = match_keys(source, parts["retry_policy"] or {}, at, RETRY_KEYS, RETRY_SKIPPED)
    result.ignored += skip
    per_try_timeout(source, values, "per_try_timeout", at, total, block)
    block["retry"] = retry_block(source, values, at, total, result)


def per_try_timeout(
    source: Source, values: dict[str, Any], key: str, at: Loc, total: float, block: Block
) -> None:
    """Each attempt's timeout (``key``, else the route's whole ``total``) as the stage's
    timeout; none when it is 0 (Envoy's and Istio's "no timeout")."""
    per_try = seconds(source, values[key], (*at, key)) if key in values else total
    if per_try > 0:
        block["timeout"] = duration_text(per_try)


def retry_block(
    source: Source, values: dict[str, Any], at: Loc, total: float, result: Imported
) -> Block:
    """An Envoy retry policy as breakerlab's retry (shared with Istio's retries)."""
    backoff = values.get("retry_back_off") or {}
    base = (
        seconds(source, backoff["base_interval"], (*at, "retry_back_off", "base_interval"))
        if "base_interval" in backoff
        else 0.025
    )
    cap = (
        seconds(source, backoff["max_interval"], (*at, "retry_back_off", "max_interval"))
        if "max_interval" in backoff
        else 10 * base
    )
    out: Block = {
        "max_retry_attempts": integer(source, values["num_retries"], (*at, "num_retries"))
        if "num_retries" in values
        else 1,
        "wait": duration_text(base),
        "backoff": "full_jitter",
        "multiplier": 2,
        "max_wait": duration_text(cap),
        "retry_on": retry_on(source, values.get("retry_on", ""), (*at, "retry_on"), result),
    }
    if total > 0:
        out["deadline"] = duration_text(total)
    result.notes.append(
        f"{source.where(at)}: Envoy's back-off U(0, (2^N - 1) x base) is run as full jitter "
        "U(0, base x 2^(N-1))"
    )
    return out


def retry_on(source: Source, text: Any, at: Loc, result: Imported) -> list[str]:
    found: list[str] = []
    for condition in items(text):
        name = str(condition).strip()
        if name in RETRY_ON:
            found += [c for c in RETRY_ON[name] if c not in found]
        elif name in RETRY_ON_SKIPPED:
            result.ignored.append(f"{source.where(at)}: {name}")
        else:
            known = [*RETRY_ON, *RETRY_ON_SKIPPED]
            hint = difflib.get_close_matches(name, known, n=1)
            raise source.error(
                f"unknown retry_on condition {name!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else ""),
                at,
            )
    return found


def retry_on_text(categories: Sequence[str]) -> str | None:
    """The retry_on conditions for a set of categories; None when there is no exact one."""
    chosen = set(categories)
    parts: list[str] = []
    if {"server_error", "timeout", "connection"} <= chosen:
        parts.append("5xx")
    elif {"server_error", "timeout"} <= chosen:
        parts.append("gateway-error")
        if "connection" in chosen:
            parts.append("connect-failure")
    elif "connection" in chosen:
        parts.append("connect-failure")
    covered = {c for p in parts for c in RETRY_ON[p]}
    if "rejected" in chosen:
        parts.append("envoy-ratelimited")
        covered.add("rejected")
    return ",".join(parts) if covered == chosen else None
