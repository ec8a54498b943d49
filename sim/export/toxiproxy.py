"""The proxies and toxics JSON Toxiproxy takes: ``proxies`` is the body of ``POST
/populate`` (and the file ``toxiproxy-server -config`` reads); each entry of ``toxics``
holds the body of ``POST /proxies/{proxy}/toxics`` and when to add and remove it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.export.mapping import FaultPlan, timeline

FIRST_LISTEN_PORT = 26000  # outside Linux's ephemeral range, as Toxiproxy's README advises


def proxy_definitions(plan: FaultPlan, upstreams: Mapping[str, str]) -> list[dict[str, Any]]:
    """One proxy per dependency a toxic uses, named after it; ``upstreams`` maps a
    dependency to ``host:port`` (default: a host named after the dependency, port 443)."""
    return [
        {
            "name": name,
            "listen": f"127.0.0.1:{FIRST_LISTEN_PORT + i}",
            "upstream": upstreams.get(name, f"{name}:443"),
            "enabled": True,
        }
        for i, name in enumerate(plan.proxies)
    ]


def toxiproxy_document(
    plan: FaultPlan, upstreams: Mapping[str, str], source: str, configuration: str
) -> dict[str, Any]:
    """The whole export: proxies, toxics in the order they are added, with their windows
    (seconds since the first fault), the toxiproxy-cli commands, and what did not map."""
    toxics = [
        {"proxy": t.proxy, "start_s": t.start, "end_s": t.end, "toxic": t.body()}
        for t in plan.toxics
    ]
    return {
        "source": source,
        "configuration": configuration,
        "proxies": proxy_definitions(plan, upstreams),
        "toxics": toxics,
        "toxiproxy_cli": cli_commands(plan),
        "unmapped": [u.describe() for u in plan.unmapped],
        "notes": list(plan.notes),
    }


def cli_commands(plan: FaultPlan) -> list[str]:
    """The same timeline as ``toxiproxy-cli`` commands, each after a ``sleep``."""
    commands: list[str] = []
    now = 0.0
    for at, action, toxic in timeline(plan):
        if at > now:
            commands.append(f"sleep {at - now:g}")
            now = at
        if action == "add":
            attributes = " ".join(f"-a {k}={v}" for k, v in sorted(toxic.attributes.items()))
            commands.append(
                f"toxiproxy-cli toxic add -t {toxic.type} -n {toxic.name} "
                f"--tox {toxic.toxicity:g} {attributes} {toxic.proxy}"
            )
        else:
            commands.append(f"toxiproxy-cli toxic remove -n {toxic.name} {toxic.proxy}")
    return commands
