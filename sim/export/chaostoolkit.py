"""A scenario as a Chaos Toolkit experiment: the scenario's hypotheses as steady-state
probes, its faults as chaostoolkit-toxiproxy actions on the timeline of the scenario, and
rollbacks that remove every toxic."""

from __future__ import annotations

from typing import Any

from sim.config import LoadedScenario
from sim.config.experiment import Hypothesis
from sim.export.mapping import FaultPlan, Toxic, timeline

TOXIC_ACTIONS = "chaostoxi.toxic.actions"  # the chaostoolkit-toxiproxy extension's module
NO_HYPOTHESIS = (
    "No steady-state hypothesis: the scenario states none for this configuration "
    "(add hypotheses: to the scenario to get probes)."
)


def chaostoolkit_experiment(
    loaded: LoadedScenario, configuration: str, plan: FaultPlan
) -> dict[str, Any]:
    """The experiment for one configuration of the scenario (the set-up to deploy in
    staging: it selects the hypotheses that apply and is recorded in the experiment)."""
    scenario = loaded.scenario
    hypotheses = [
        h
        for h in scenario.hypotheses
        if h.configurations is None or configuration in h.configurations
    ]
    settings = scenario.configurations[configuration].model_dump(mode="json", exclude_unset=True)
    experiment: dict[str, Any] = {
        "version": "1.0.0",
        "title": f"{scenario.name}: {configuration}",
        "description": _description(loaded, configuration, plan),
        "tags": ["breakerlab", "toxiproxy", scenario.name],
        "configuration": _configuration(hypotheses),
        "extensions": [
            {
                "name": "breakerlab",
                "scenario": loaded.source,
                "configuration": configuration,
                "settings": settings,
                "fault_origin_s": plan.origin,
                "unmapped": [u.describe() for u in plan.unmapped],
                "notes": list(plan.notes),
            }
        ],
        "method": _method(plan),
        "rollbacks": [_remove(t, "rollback") for t in plan.toxics],
    }
    if hypotheses:
        experiment["steady-state-hypothesis"] = {
            "title": f"the hypotheses of {scenario.name} for {configuration}",
            "probes": [_probe(h) for h in hypotheses],
        }
    return experiment


def _description(loaded: LoadedScenario, configuration: str, plan: FaultPlan) -> str:
    scenario = loaded.scenario
    lines = [
        scenario.description.strip() or scenario.name,
        f"Exported by breakerlab from {loaded.source}, configuration {configuration!r}: "
        "the faults as Toxiproxy toxics, time 0 being the scenario's first fault "
        f"(at {plan.origin:g}s).",
    ]
    if not any(
        h.configurations is None or configuration in h.configurations for h in scenario.hypotheses
    ):
        lines.append(NO_HYPOTHESIS)
    if plan.unmapped:
        lines.append(
            "Not reproduced (no Toxiproxy equivalent): "
            + "; ".join(u.describe() for u in plan.unmapped)
        )
    if plan.notes:
        lines.append("Approximations: " + "; ".join(plan.notes))
    return "\n".join(lines)


def _configuration(hypotheses: list[Hypothesis]) -> dict[str, Any]:
    """Where Toxiproxy and Prometheus are, and the PromQL each hypothesis's metric reads:
    environment variables, with defaults so the experiment validates as written."""
    config: dict[str, Any] = {
        "toxiproxy_url": _env("TOXIPROXY_URL", "http://localhost:8474"),
    }
    if hypotheses:
        config["prometheus_url"] = _env("PROMETHEUS_URL", "http://localhost:9090")
    for h in hypotheses:
        # A recording rule named after the metric, in breakerlab's units, by default.
        config[f"query_{h.metric}"] = _env(
            f"BREAKERLAB_QUERY_{h.metric.upper()}", f"breakerlab:{h.metric}"
        )
    return config


def _env(key: str, default: str) -> dict[str, str]:
    return {"type": "env", "key": key, "default": default}


def _probe(h: Hypothesis) -> dict[str, Any]:
    """A Prometheus instant query that returns 1 when the hypothesis holds (``< bool``)."""
    return {
        "type": "probe",
        "name": h.check,
        "tolerance": {
            "type": "jsonpath",
            "target": "body",
            "path": "$.data.result[0].value[1]",
            "expect": "1",
        },
        "provider": {
            "type": "http",
            "url": "${prometheus_url}/api/v1/query",
            "method": "GET",
            "arguments": {"query": f"(${{query_{h.metric}}}) {h.op} bool {h.value:g}"},
            "timeout": 30,
        },
    }


def _method(plan: FaultPlan) -> list[dict[str, Any]]:
    """Each toxic added at its start and removed at its end; ``pauses.before`` waits out
    the time since the previous step."""
    method = []
    now = 0.0
    for at, action, toxic in timeline(plan):
        step = _add(toxic) if action == "add" else _remove(toxic, "remove")
        if at > now:
            step["pauses"] = {"before": round(at - now, 3)}
            now = at
        method.append(step)
    return method


def _add(toxic: Toxic) -> dict[str, Any]:
    return {
        "type": "action",
        "name": f"add {toxic.name}",
        "provider": {
            "type": "python",
            "module": TOXIC_ACTIONS,
            "func": "create_toxic",
            "arguments": {
                "for_proxy": toxic.proxy,
                "toxic_name": toxic.name,
                "toxic_type": toxic.type,
                "stream": toxic.stream,
                "toxicity": toxic.toxicity,
                "attributes": dict(toxic.attributes),
            },
        },
    }


def _remove(toxic: Toxic, verb: str) -> dict[str, Any]:
    return {
        "type": "action",
        "name": f"{verb} {toxic.name}",
        "provider": {
            "type": "python",
            "module": TOXIC_ACTIONS,
            "func": "delete_toxic",
            "arguments": {"for_proxy": toxic.proxy, "toxic_name": toxic.name},
        },
    }
