"""``breakerlab export``: a scenario's faults as a Chaos Toolkit experiment or as Toxiproxy
proxies and toxics, to rehearse in staging the outage the simulator studied."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sim.config import load_scenario
from sim.config.yamlio import load_yaml
from sim.errors import ConfigError
from sim.experiment.store import write_atomically
from sim.export.chaostoolkit import NO_HYPOTHESIS, chaostoolkit_experiment
from sim.export.mapping import plan_faults
from sim.export.toxiproxy import toxiproxy_document

ExportFormat = Literal["chaostoolkit", "toxiproxy"]
FORMATS: tuple[ExportFormat, ...] = ("chaostoolkit", "toxiproxy")


@dataclass(frozen=True)
class ExportResult:
    """What the CLI prints: the file written, how many toxics it holds, the faults left
    out (no Toxiproxy equivalent) and the approximations made."""

    path: Path
    format: ExportFormat
    toxics: int
    unmapped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_upstreams(items: list[str] | None) -> dict[str, str]:
    """``--upstream NAME=HOST:PORT`` options as a mapping (the addresses are checked
    against the scenario by ``export_scenario``)."""
    upstreams: dict[str, str] = {}
    for item in items or []:
        name, sep, address = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"expected NAME=HOST:PORT, got {item!r}", path="--upstream")
        upstreams[name] = address
    return upstreams


def default_output(scenario_name: str, configuration: str, fmt: ExportFormat) -> Path:
    return Path("reports") / f"{scenario_name}-export" / f"{configuration}.{fmt}.json"


def export_scenario(
    scenario: str | Path,
    configuration: str,
    fmt: ExportFormat = "chaostoolkit",
    out: str | Path | None = None,
    upstreams: Mapping[str, str] | None = None,
) -> ExportResult:
    """Write the export of ``configuration`` of ``scenario`` in format ``fmt`` to ``out``
    (default ``reports/<scenario>-export/<configuration>.<format>.json``); ``upstreams``
    maps a dependency to the ``host:port`` its Toxiproxy proxy forwards to. Bad input is a
    ConfigError and nothing is written."""
    path = Path(scenario)
    loaded = load_scenario(path)
    if configuration not in loaded.scenario.configurations:
        _, lines = load_yaml(path)
        known = list(loaded.scenario.configurations)
        hint = difflib.get_close_matches(configuration, known, n=1)
        message = f"unknown configuration {configuration!r}" + (
            f"; did you mean {hint[0]!r}?" if hint else ""
        )
        raise lines.error(f"{message} (known: {', '.join(known)})", ("configurations",))
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r} (use {' or '.join(FORMATS)})")
    upstreams = dict(upstreams or {})
    for name, address in upstreams.items():
        if name not in loaded.shop.dependencies:
            raise ConfigError(f"--upstream {name}={address}: {name!r} is not a dependency")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--upstream {name}={address}: expected host:port")
    plan = plan_faults(loaded)
    notes = list(plan.notes)
    if fmt == "chaostoolkit":
        document = chaostoolkit_experiment(loaded, configuration, plan)
        if "steady-state-hypothesis" not in document:
            notes.append(NO_HYPOTHESIS)
    else:
        document = toxiproxy_document(plan, upstreams, loaded.source, configuration)
    target = Path(out) if out is not None else default_output(loaded.name, configuration, fmt)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", file=target) from None
    unmapped = [u.describe() for u in plan.unmapped]
    return ExportResult(target, fmt, len(plan.toxics), unmapped, notes)
