"""``breakerlab export``: a scenario's faults as a Chaos Toolkit experiment or as Toxiproxy
proxies and toxics, to rehearse in staging the outage the simulator studied; or a
configuration (or a tuned winner) in a production format (resilience4j, .NET, Envoy,
Istio, Hystrix, opossum, cockatiel, pybreaker), to paste into a pull request."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from sim.config import load_scenario
from sim.config.configuration import Configuration
from sim.config.yamlio import load_yaml
from sim.errors import ConfigError
from sim.experiment.atomic import write_atomically
from sim.export.chaostoolkit import NO_HYPOTHESIS, chaostoolkit_experiment
from sim.export.mapping import plan_faults
from sim.export.toxiproxy import toxiproxy_document

ExportFormat = Literal["chaostoolkit", "toxiproxy"]
FORMATS: tuple[ExportFormat, ...] = ("chaostoolkit", "toxiproxy")


@dataclass(frozen=True)
class ExportResult:
    """What the CLI prints: the file written (None: the text is for standard output), how
    many toxics it holds, the faults left out (no Toxiproxy equivalent) and the
    approximations made."""

    path: Path | None
    format: ExportFormat
    toxics: int
    unmapped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    text: str = ""


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


# A Toxiproxy export holds the scenario's faults only: no configuration names its file.
FAULTS_ONLY = "faults"


def under_root(root: str | Path, name: str, label: str, fmt: str, ext: str, force: bool) -> Path:
    """Where an export goes under a reports root, as ``run --out`` means it:
    ``ROOT/<scenario>-export/<label>.<format>.<ext>``. A root that is a file, and an
    export already there (unless ``force``), are refused before anything is written."""
    base = Path(root)
    if base.exists() and not base.is_dir():
        raise ConfigError(
            "is a file: --out names the reports root the export goes under, as for run "
            "(ROOT/<scenario>-export/...); '-' prints it",
            file=base,
        )
    target = base / f"{name}-export" / f"{label}.{fmt}.{ext}"
    if target.exists() and not force:
        raise ConfigError("exists: an export of this already; --force replaces it", file=target)
    return target


def export_scenario(
    scenario: str | Path,
    configuration: str,
    fmt: str = "chaostoolkit",
    out: str | Path | None = None,
    upstreams: Mapping[str, str] | None = None,
    *,
    root: str | Path | None = None,
    force: bool = False,
) -> ExportResult:
    """Write the export of ``configuration`` of ``scenario`` in format ``fmt`` to the file
    ``out`` ("-": return the text, write nothing), or under the reports ``root``
    (``under_root``; default ``reports/<scenario>-export/<configuration>.<format>.json``);
    ``upstreams`` maps a dependency to the ``host:port`` its Toxiproxy proxy forwards to.
    Toxiproxy needs no configuration (its file is then ``faults.toxiproxy.json``). Bad
    input is a ConfigError and nothing is written."""
    path = Path(scenario)
    loaded = load_scenario(path)
    if fmt == "toxiproxy" and not configuration:
        configuration = ""
    elif not configuration:
        names = ", ".join(loaded.scenario.configurations)
        raise ConfigError(
            f"name the configuration to rehearse (its hypotheses become the probes): {names}",
            path="--configuration",
        )
    elif configuration not in loaded.scenario.configurations:
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
    unmapped = [u.describe() for u in plan.unmapped]
    text = json.dumps(document, indent=2) + "\n"
    if out is not None and str(out) == "-":
        return ExportResult(None, fmt, len(plan.toxics), unmapped, notes, text)
    label = configuration or FAULTS_ONLY
    if out is not None:
        target = Path(out)
    elif root is not None:
        target = under_root(root, loaded.name, label, fmt, "json", force)
    else:
        target = default_output(loaded.name, label, fmt)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", file=target) from None
    return ExportResult(target, fmt, len(plan.toxics), unmapped, notes, text)


@dataclass(frozen=True)
class ProductionExport:
    """A configuration in a production format: the text, where it was written (None:
    for stdout), and what the format could not express (each by path, with why)."""

    text: str
    path: Path | None
    format: str
    unexpressed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


EXTENSIONS = {
    "resilience4j": "yml",
    "dotnet": "json",
    "envoy": "yaml",
    "istio": "yaml",
    "hystrix": "properties",
    "opossum": "json",
    "cockatiel": "json",
    "pybreaker": "py",
}


def export_production(
    source: str | Path,
    configuration: str | None,
    fmt: str,
    out: str | Path | None = None,
    *,
    root: str | Path | None = None,
    force: bool = False,
) -> ProductionExport:
    """Write ``configuration`` of a scenario, or the tuned winner of a ``tune`` run
    directory (its ``policy.yaml``), in production format ``fmt`` to the file ``out`` ("-"
    writes nothing: the caller prints the text) or under the reports ``root``
    (``under_root``). Default file: ``reports/<name>-export/<configuration>.<format>.<ext>``."""
    from sim.config.formats import export_configuration

    if fmt not in EXTENSIONS:
        raise ConfigError(f"unknown format {fmt!r} (use one of {', '.join(EXTENSIONS)})")
    name, label, config = _configuration(Path(source), configuration)
    exported = export_configuration(config, fmt)
    if out is not None and str(out) == "-":
        return ProductionExport(exported.text, None, fmt, exported.unexpressed, exported.notes)
    if out is not None:
        target = Path(out)
    elif root is not None:
        target = under_root(root, name, label, fmt, EXTENSIONS[fmt], force)
    else:
        target = Path("reports") / f"{name}-export" / f"{label}.{fmt}.{EXTENSIONS[fmt]}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, exported.text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror or exc}", file=target) from None
    return ProductionExport(exported.text, target, fmt, exported.unexpressed, exported.notes)


def _configuration(source: Path, configuration: str | None) -> tuple[str, str, Configuration]:
    """(name for the default path, configuration label, the configuration) of a scenario
    file, a tune run directory or its policy.yaml."""
    policy = source / "policy.yaml" if source.is_dir() else source
    if source.is_dir() and not policy.is_file():
        raise ConfigError(
            "no policy.yaml in this directory: tune writes one only when it adopts a winner "
            "(on keep-base it writes region.yaml)",
            file=source,
        )
    data, lines = load_yaml(policy)
    if isinstance(data, dict) and "tuned" in data and "model" not in data:
        try:
            tuned = Configuration.model_validate(data["tuned"])
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            raise lines.error(str(first["msg"]), ("tuned", *first["loc"])) from None
        return policy.parent.name or "tuned", configuration or "tuned", tuned
    if configuration is None:
        raise ConfigError("name the configuration to export with --configuration", file=source)
    loaded = load_scenario(policy)
    if configuration not in loaded.scenario.configurations:
        known = list(loaded.scenario.configurations)
        hint = difflib.get_close_matches(configuration, known, n=1)
        message = f"unknown configuration {configuration!r}" + (
            f"; did you mean {hint[0]!r}?" if hint else ""
        )
        raise lines.error(f"{message} (known: {', '.join(known)})", ("configurations",))
    return loaded.name, configuration, loaded.scenario.configurations[configuration]
