"""Istio: ``DestinationRule`` (``trafficPolicy.outlierDetection``: Envoy's outlier detection,
the ``envoy`` preset; ``connectionPool.http.http2MaxRequests`` as a bulkhead) and
``VirtualService`` (``http[].timeout``, ``http[].retries``) in one YAML stream (``---``).
An instance is a host's first label (``payment`` for ``payment.shop.svc.cluster.local``).
Istio has no maxEjectionTime: Envoy's 300 s applies. Its retries back off as Envoy's
(25 ms base, see envoy.py)."""

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
    proto_duration,
    seconds,
)
from sim.config.formats.envoy import per_try_timeout, retry_on, retry_on_text
from sim.config.formats.stacks import Gaps, breaker_preset, finish, stages_of
from sim.config.formats.values import integer

FORMAT = "istio"
Loc = tuple[str | int, ...]
OUTLIER_KEYS = ("consecutive5xxErrors", "interval", "baseEjectionTime")
OUTLIER_SKIPPED = (
    "consecutiveGatewayErrors",
    "consecutiveLocalOriginFailures",
    "splitExternalLocalOriginErrors",
    "maxEjectionPercent",
    "minHealthPercent",
    "consecutiveErrors",
)
POLICY_KEYS = ("outlierDetection", "connectionPool")
POLICY_SKIPPED = ("loadBalancer", "tls", "portLevelSettings", "tunnel", "proxyProtocol")
HTTP_POOL_SKIPPED = (
    "http1MaxPendingRequests",
    "maxRequestsPerConnection",
    "maxRetries",
    "idleTimeout",
    "h2UpgradePolicy",
    "useClientProtocol",
    "maxConcurrentStreams",
)
RETRIES_KEYS = ("attempts", "perTryTimeout", "retryOn")
RETRIES_SKIPPED = ("retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff")


def _host(value: Any) -> str:
    return str(value).split(".")[0]


def import_istio(source: Source, instance: str | None) -> Imported:
    result = Imported(FORMAT, source.file)
    documents = source.data if isinstance(source.data, list) else [source.data]
    rules: dict[str, tuple[dict[str, Any], Loc]] = {}
    routes: dict[str, tuple[dict[str, Any], Loc]] = {}
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            continue
        loc: Loc = (index,) if isinstance(source.data, list) else ()
        kind = document.get("kind")
        spec = document.get("spec") or {}
        if kind == "DestinationRule" and "host" in spec:
            rules.setdefault(
                _host(spec["host"]),
                (spec.get("trafficPolicy") or {}, (*loc, "spec", "trafficPolicy")),
            )
        elif kind == "VirtualService":
            for number, http in enumerate(spec.get("http") or []):
                for destination in http.get("route") or []:
                    host = (destination.get("destination") or {}).get("host")
                    if host is not None:
                        routes.setdefault(_host(host), (http, (*loc, "spec", "http", number)))
        elif kind is not None:
            result.ignored.append(f"{source.where(loc)}: a {kind}")
    names = result.choose(source, list(dict.fromkeys([*rules, *routes])), instance, ())
    if not names:
        raise source.error("no DestinationRule or VirtualService", ())
    for name in names:
        block: Block = {}
        if name in rules:
            _rule(source, *rules[name], block, result)
        if name in routes:
            _http(source, *routes[name], block, result)
        result.blocks[name] = block
    return result


def _rule(source: Source, policy: dict[str, Any], loc: Loc, block: Block, result: Imported) -> None:
    parts, ignored = match_keys(source, policy, loc, POLICY_KEYS, POLICY_SKIPPED)
    result.ignored += ignored
    if "outlierDetection" in parts:
        at = (*loc, "outlierDetection")
        values, skip = match_keys(
            source, parts["outlierDetection"] or {}, at, OUTLIER_KEYS, OUTLIER_SKIPPED
        )
        result.ignored += skip
        block["breaker"] = {
            "preset": "envoy",
            "consecutive_5xx": integer(
                source, values["consecutive5xxErrors"], (*at, "consecutive5xxErrors")
            )
            if "consecutive5xxErrors" in values
            else 5,
            "interval": duration_text(
                seconds(source, values["interval"], (*at, "interval"))
                if "interval" in values
                else 10.0
            ),
            "base_ejection_time": duration_text(
                seconds(source, values["baseEjectionTime"], (*at, "baseEjectionTime"))
                if "baseEjectionTime" in values
                else 30.0
            ),
            "max_ejection_time": "300s",
        }
    pool = parts.get("connectionPool") or {}
    pool_values, skip = match_keys(source, pool, (*loc, "connectionPool"), ("http",), ("tcp",))
    result.ignored += skip
    http = pool_values.get("http") or {}
    at = (*loc, "connectionPool", "http")
    values, skip = match_keys(source, http, at, ("http2MaxRequests",), HTTP_POOL_SKIPPED)
    result.ignored += skip
    if "http2MaxRequests" in values:
        block["bulkhead"] = {
            "max_concurrent_calls": integer(
                source, values["http2MaxRequests"], (*at, "http2MaxRequests")
            ),
            "max_wait_duration": "0s",
        }


def _http(source: Source, http: dict[str, Any], loc: Loc, block: Block, result: Imported) -> None:
    total = seconds(source, http["timeout"], (*loc, "timeout")) if "timeout" in http else 0.0
    retries = http.get("retries")
    if retries is None:
        retries = {}
        result.notes.append(
            f"{source.where(loc)}: no retries: Istio's default policy applies (2 retries on "
            "connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes)"
        )
    at = (*loc, "retries")
    values, skip = match_keys(source, retries, at, RETRIES_KEYS, RETRIES_SKIPPED)
    result.ignored += skip
    per_try_timeout(source, values, "perTryTimeout", at, total, block)
    conditions = values.get(
        "retryOn", "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
    )
    retry: Block = {
        "max_retry_attempts": integer(source, values["attempts"], (*at, "attempts"))
        if "attempts" in values
        else 2,
        "wait": "25ms",
        "backoff": "full_jitter",
        "multiplier": 2,
        "max_wait": "250ms",
        "retry_on": retry_on(source, conditions, (*at, "retryOn"), result),
    }
    if total > 0:
        retry["deadline"] = duration_text(total)
    result.notes.append(
        f"{source.where(at)}: Envoy's back-off (25 ms base, 250 ms cap) is run as full jitter "
        "doubling"
    )
    block["retry"] = retry


def export_istio(config: Configuration) -> Exported:
    stacks, others = stages_of(config)
    gaps = Gaps(FORMAT)
    documents: list[dict[str, Any]] = []
    for name, stage in stacks.items():
        documents += _export_stage(name, stage, gaps)
    return finish(FORMAT, documents, gaps, others, [], style="yaml-stream")


def _export_stage(name: str, stage: StagePolicy, gaps: Gaps) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    policy: dict[str, Any] = {}
    preset = breaker_preset(stage)
    if preset == "envoy":
        spec: Any = stage.breaker
        policy["outlierDetection"] = {
            "consecutive5xxErrors": spec.consecutive_5xx,
            "interval": proto_duration(spec.interval),
            "baseEjectionTime": proto_duration(spec.base_ejection_time),
        }
        if spec.max_ejection_time != 300:
            gaps.add(
                f"{name}.breaker.max_ejection_time",
                "Istio has no maxEjectionTime (Envoy's 300 s applies)",
            )
    elif preset is not None:
        gaps.add(f"{name}.breaker", f"a {preset} breaker is not Istio's outlier detection")
    bulkhead = stage.bulkhead
    if isinstance(bulkhead, SemaphoreBulkhead) and bulkhead.max_wait_duration == 0:
        policy["connectionPool"] = {"http": {"http2MaxRequests": bulkhead.max_concurrent_calls}}
    elif bulkhead is not None:
        gaps.add(
            f"{name}.bulkhead", "Istio's http2MaxRequests rejects at once: no wait, no thread pool"
        )
    if policy:
        out.append(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "DestinationRule",
                "metadata": {"name": name},
                "spec": {"host": name, "trafficPolicy": policy},
            }
        )
    http = _export_http(name, stage, gaps)
    if http is not None:
        out.append(
            {
                "apiVersion": "networking.istio.io/v1",
                "kind": "VirtualService",
                "metadata": {"name": name},
                "spec": {"hosts": [name], "http": [http]},
            }
        )
    for layer in ("rate_limiter", "hedging"):
        if getattr(stage, layer) is not None:
            gaps.add(f"{name}.{layer}", "not part of a DestinationRule or VirtualService")
    if stage.order is not None:
        gaps.add(f"{name}.order", "Istio's order is fixed")
    return out


def _export_http(name: str, stage: StagePolicy, gaps: Gaps) -> dict[str, Any] | None:
    retry = stage.retry if stage.retry is not None and stage.retry.attempts > 1 else None
    route = [{"destination": {"host": name}}]
    if retry is None:
        if stage.timeout is None:
            return None
        return {
            "route": route,
            "timeout": proto_duration(stage.timeout),
            "retries": {"attempts": 0},
        }
    http: dict[str, Any] = {"route": route}
    if retry.deadline is not None:
        http["timeout"] = proto_duration(retry.deadline)
    retries: dict[str, Any] = {"attempts": retry.attempts - 1}
    if stage.timeout is not None:
        retries["perTryTimeout"] = proto_duration(stage.timeout)
    conditions = retry_on_text(retry.retry_on)
    if conditions is None:
        gaps.add(f"{name}.retry.retry_on", "no retryOn condition retries exactly these categories")
        conditions = "5xx"
    retries["retryOn"] = conditions
    http["retries"] = retries
    if (retry.backoff, retry.multiplier, retry.wait, retry.max_wait, retry.jitter) != (
        "full_jitter",
        2,
        0.025,
        0.25,
        0,
    ):
        gaps.add(
            f"{name}.retry.backoff",
            "Istio retries back off as Envoy's default (25 ms doubling, 250 ms cap)",
            also=(
                f"{name}.retry.multiplier",
                f"{name}.retry.wait",
                f"{name}.retry.max_wait",
                f"{name}.retry.jitter",
            ),
        )
    if retry.budget is not None:
        gaps.add(f"{name}.retry.budget", "Istio has no retry budget setting")
    return http
