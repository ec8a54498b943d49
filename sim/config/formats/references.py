"""``from:`` in a scenario: a configuration, or one stage of it, read straight from a
production file, so the simulation runs what production runs with no copy to drift::

    configurations:
      as-deployed:
        payment: {from: {file: ../prod/application.yml, format: resilience4j, instance: payment},
                  fallback: secondary}
      everything: {from: {file: ../prod/application.yml, format: resilience4j}}

At a stage, the instance defaults to the stage's name and the stage's other keys are laid
over the imported stack, mapping by mapping (``breaker: {sliding_window_size: 100}`` changes
that one setting of the imported breaker); at a configuration, every instance named like a
stage becomes that stage. Paths are relative to the scenario."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sim.config.formats.common import STAGES
from sim.config.mappings import laid_over
from sim.config.yamlio import LineMap
from sim.errors import ConfigError

KEYS = ("file", "format", "instance")


def expand_references(data: Any, scenario: Path, lines: LineMap) -> Any:
    """``data`` (a scenario as read) with every ``from:`` replaced by what it names."""
    configurations = data.get("configurations") if isinstance(data, dict) else None
    if not isinstance(configurations, dict) or not _mentions(configurations):
        return data
    data = copy.deepcopy(data)
    for name, config in data["configurations"].items():
        if not isinstance(config, dict):
            continue
        loc: tuple[str | int, ...] = ("configurations", name)
        if "from" in config:
            imported = _read(config.pop("from"), scenario, lines, (*loc, "from"), None)
            stages = {k: v for k, v in imported.blocks.items() if k in STAGES}
            if not stages:
                message = (
                    f"no instance of {imported.file} is named like a stage ({', '.join(STAGES)})"
                )
                raise lines.error(message, (*loc, "from"))
            for stage, block in stages.items():
                config[stage] = laid_over(block, config.get(stage) or {})
        for stage in STAGES:
            block = config.get(stage)
            if isinstance(block, dict) and "from" in block:
                reference = block.pop("from")
                imported = _read(reference, scenario, lines, (*loc, stage, "from"), stage)
                config[stage] = laid_over(next(iter(imported.blocks.values())), block)
    return data


def _mentions(configurations: dict[str, Any]) -> bool:
    for config in configurations.values():
        if isinstance(config, dict) and (
            "from" in config
            or any(isinstance(config.get(s), dict) and "from" in config[s] for s in STAGES)
        ):
            return True
    return False


def _read(
    reference: Any, scenario: Path, lines: LineMap, loc: tuple[str | int, ...], stage: str | None
) -> Any:
    from sim.config.formats import IMPORTERS, import_file

    if not isinstance(reference, dict) or "file" not in reference or "format" not in reference:
        raise lines.error("from: needs {file: PATH, format: FORMAT} (and instance: NAME)", loc)
    for key in reference:
        if key not in KEYS:
            raise lines.error(
                f"unknown field {key!r} in from: (known: {', '.join(KEYS)})", (*loc, key)
            )
    fmt = str(reference["format"])
    if fmt not in IMPORTERS:
        raise lines.error(
            f"unknown format {fmt!r} (use one of {', '.join(IMPORTERS)})", (*loc, "format")
        )
    file = scenario.parent / str(reference["file"])
    if not file.is_file():
        raise lines.error(f"production file not found: {file}", (*loc, "file"))
    instance = reference.get("instance", stage)
    try:
        return import_file(file, fmt, None if instance is None else str(instance))
    except ConfigError as exc:
        line, path = lines.locate(loc)
        raise ConfigError(
            f"{exc.message} (read for {lines.file}:{line}: {path})",
            file=exc.file,
            line=exc.line,
            path=exc.path,
        ) from None
