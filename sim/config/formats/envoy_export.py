"""A configuration as Envoy clusters (``outlier_detection``, ``circuit_breakers``) and a
route configuration (``timeout``, ``retry_policy``), one cluster per stage."""

from __future__ import annotations

from typing import Any

from sim.config.configuration import Configuration, SemaphoreBulkhead, StagePolicy
from sim.config.formats.common import Exported, proto_duration
from sim.config.formats.envoy import FORMAT, retry_on_text
from sim.config.formats.stacks import Gaps, breaker_preset, finish, stages_of


def export_envoy(config: Configuration) -> Exported:
    stacks, others = stages_of(config)
    gaps = Gaps(FORMAT)
    clusters: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    for name, stage in stacks.items():
        cluster, route = _export_stage(name, stage, gaps)
        if len(cluster) > 1:
            clusters.append(cluster)
        if route is not None:
            routes.append({"match": {"prefix": f"/{name}"}, "route": route})
    document: dict[str, Any] = {"static_resources": {"clusters": clusters}}
    if routes:
        document["route_config"] = {
            "name": "breakerlab",
            "virtual_hosts": [{"name": "shop", "domains": ["*"], "routes": routes}],
        }
    notes = [
        "route_config goes in the HTTP connection manager of the listener that serves the "
        "shop; clusters need their endpoints (load_assignment)"
    ]
    return finish(FORMAT, document, gaps, others, notes)


def _export_stage(
    name: str, stage: StagePolicy, gaps: Gaps
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    cluster: dict[str, Any] = {"name": name}
    preset = breaker_preset(stage)
    if preset == "envoy":
        spec: Any = stage.breaker
        cluster["outlier_detection"] = {
            "consecutive_5xx": spec.consecutive_5xx,
            "interval": proto_duration(spec.interval),
            "base_ejection_time": proto_duration(spec.base_ejection_time),
            "max_ejection_time": proto_duration(spec.max_ejection_time),
        }
    elif preset is not None:
        gaps.add(f"{name}.breaker", f"a {preset} breaker is not Envoy's outlier detection")
    threshold: dict[str, Any] = {"priority": "DEFAULT"}
    bulkhead = stage.bulkhead
    if isinstance(bulkhead, SemaphoreBulkhead) and bulkhead.max_wait_duration == 0:
        threshold["max_requests"] = bulkhead.max_concurrent_calls
    elif bulkhead is not None:
        gaps.add(
            f"{name}.bulkhead", "Envoy's max_requests rejects at once: no wait, no thread pool"
        )
    retry = stage.retry if stage.retry is not None and stage.retry.attempts > 1 else None
    if retry is not None and retry.budget == "envoy":
        threshold["retry_budget"] = {"budget_percent": {"value": 20.0}, "min_retry_concurrency": 3}
    elif retry is not None and retry.budget is not None:
        gaps.add(f"{name}.retry.budget", f"Envoy's retry budget is not {retry.budget!r}")
    if len(threshold) > 1:
        cluster["circuit_breakers"] = {"thresholds": [threshold]}
    for layer in ("rate_limiter", "hedging"):
        if getattr(stage, layer) is not None:
            gaps.add(f"{name}.{layer}", "not part of an Envoy cluster or route")
    if stage.order is not None:
        gaps.add(f"{name}.order", "Envoy's order is fixed")
    return cluster, _export_route(name, stage, retry, gaps)


def _export_route(name: str, stage: StagePolicy, retry: Any, gaps: Gaps) -> dict[str, Any] | None:
    if retry is None:
        return (
            None
            if stage.timeout is None
            else {"cluster": name, "timeout": proto_duration(stage.timeout)}
        )
    route: dict[str, Any] = {"cluster": name, "timeout": proto_duration(retry.deadline or 0.0)}
    policy: dict[str, Any] = {}
    conditions = retry_on_text(retry.retry_on)
    if conditions is None:
        gaps.add(
            f"{name}.retry.retry_on", "no Envoy retry_on condition retries exactly these categories"
        )
        conditions = "5xx"
    policy["retry_on"] = conditions
    policy["num_retries"] = retry.attempts - 1
    if stage.timeout is not None:
        policy["per_try_timeout"] = proto_duration(stage.timeout)
    if (retry.backoff, retry.multiplier) != ("full_jitter", 2):
        gaps.add(
            f"{name}.retry.backoff",
            f"{retry.backoff} is not Envoy's jittered doubling (written with its base)",
            also=(f"{name}.retry.multiplier", f"{name}.retry.jitter"),
        )
    back_off: dict[str, Any] = {"base_interval": proto_duration(retry.wait)}
    if retry.max_wait is not None:
        back_off["max_interval"] = proto_duration(retry.max_wait)
    else:
        gaps.add(
            f"{name}.retry.max_wait",
            "Envoy caps the back-off at 10 x base_interval unless max_interval says otherwise",
        )
    policy["retry_back_off"] = back_off
    if retry.jitter:
        gaps.add(f"{name}.retry.jitter", "Envoy's back-off has its own randomness")
    route["retry_policy"] = policy
    return route
