"""Production resilience configurations in and out: resilience4j (Spring Boot), .NET
(Microsoft.Extensions.Http.Resilience), Envoy, Istio, Hystrix, opossum, cockatiel and
pybreaker. ``import_file`` reads one into breakerlab stage blocks; ``export_configuration``
writes a configuration in one. Part of the config layer: it builds on the configuration
models and the YAML reader, and ``sim.config.loader`` calls it for a scenario's ``from:``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.config.configuration import Configuration, StagePolicy
from sim.config.formats.common import Exported, Imported, Source
from sim.config.formats.dotnet import export_dotnet, import_dotnet
from sim.config.formats.envoy import import_envoy
from sim.config.formats.envoy_export import export_envoy
from sim.config.formats.hystrix import export_hystrix, import_hystrix
from sim.config.formats.istio import export_istio, import_istio
from sim.config.formats.node import import_cockatiel, import_opossum
from sim.config.formats.node_export import export_cockatiel, export_opossum
from sim.config.formats.pybreaker import export_pybreaker, import_pybreaker
from sim.config.formats.resilience4j import import_resilience4j
from sim.config.formats.resilience4j_export import export_resilience4j
from sim.config.formats.sources import read_documents, read_source, read_text
from sim.errors import ConfigError

Importer = Callable[[Source, str | None], Imported]
Exporter = Callable[[Configuration], Exported]
IMPORTERS: dict[str, Importer] = {
    "resilience4j": import_resilience4j,
    "dotnet": import_dotnet,
    "envoy": import_envoy,
    "istio": import_istio,
    "hystrix": import_hystrix,
    "opossum": import_opossum,
    "cockatiel": import_cockatiel,
    "pybreaker": import_pybreaker,
}
EXPORTERS: dict[str, Exporter] = {
    "resilience4j": export_resilience4j,
    "dotnet": export_dotnet,
    "envoy": export_envoy,
    "istio": export_istio,
    "hystrix": export_hystrix,
    "opossum": export_opossum,
    "cockatiel": export_cockatiel,
    "pybreaker": export_pybreaker,
}
FORMATS = tuple(IMPORTERS)
MULTI_DOCUMENT = ("istio",)  # Kubernetes manifests: several documents in one file

__all__ = [
    "EXPORTERS",
    "FORMATS",
    "IMPORTERS",
    "Exported",
    "Imported",
    "export_configuration",
    "import_file",
]


def import_file(path: str | Path, fmt: str, instance: str | None = None) -> Imported:
    """The stage blocks ``path`` (in format ``fmt``) means, each checked as a stage policy;
    a problem is a ConfigError naming the file, line and key in the format's own names."""
    if fmt not in IMPORTERS:
        raise ConfigError(f"unknown format {fmt!r} (use one of {', '.join(IMPORTERS)})")
    if fmt in MULTI_DOCUMENT:
        source = read_documents(Path(path), fmt)
    elif fmt == "pybreaker":
        source = read_text(Path(path), fmt)
    else:
        source = read_source(Path(path), fmt)
    imported = IMPORTERS[fmt](source, instance)
    if instance is not None:  # the other instances' keys are not this one's business
        imported.ignored = [line for line in imported.ignored if _about(line, instance, imported)]
    for name, block in imported.blocks.items():
        try:
            StagePolicy.model_validate(block)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}", file=source.file) from None
    return imported


def _about(line: str, instance: str, imported: Imported) -> bool:
    """Whether a listed key belongs to ``instance`` (its path names no other instance)."""
    segments = set(line.split(" (line")[0].replace("[", ".").split("."))
    others = segments & (imported.instances - {instance})
    return not others


def export_configuration(config: Configuration, fmt: str) -> Exported:
    """``config``'s resilience stacks in format ``fmt``, with what it cannot say listed."""
    if fmt not in EXPORTERS:
        raise ConfigError(f"unknown format {fmt!r} (use one of {', '.join(EXPORTERS)})")
    return EXPORTERS[fmt](config)
