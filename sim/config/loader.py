"""Load and check models and scenarios; every problem becomes a ConfigError with a line."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.config.crossrefs import check_references
from sim.config.mappings import laid_over
from sim.config.messages import raise_all, unknown, validate
from sim.config.model import ShopModel
from sim.config.scenario import (
    LoadedScenario,
    Scenario,
    TraceFault,
)
from sim.config.trace import load_trace
from sim.config.yamlio import LineMap, load_yaml
from sim.errors import ConfigError


def load_model(path: str | Path) -> ShopModel:
    """A shop model from YAML, with every dependency reference checked."""
    shop, _ = _load_model(Path(path))
    return shop


def load_scenario(path: str | Path) -> LoadedScenario:
    """A scenario from YAML with its model resolved and every cross-reference checked."""
    path = Path(path)
    data, lines = load_yaml(path)
    _refuse_foreign(Scenario, data, lines, "scenario")
    written = copy.deepcopy(data.get("configurations") or {}) if isinstance(data, dict) else {}
    # production files named by from: (imported when a scenario is read, not with config)
    from sim.config.formats.references import expand_references

    data = expand_references(data, path, lines)
    scenario = validate(Scenario, data, lines)
    model_path = resolve(path.parent / scenario.model)
    if not os.path.lexists(model_path):
        raise lines.error(f"model file not found: {model_path}", ("model",))
    shop, _ = _load_model(model_path, scenario.model_overrides, lines)
    scenario = _attach_traces(scenario, path, lines)
    check_references(scenario, shop, lines)
    return LoadedScenario(
        scenario=scenario, shop=shop, source=str(path), configurations_as_written=written
    )


def resolve(path: Path) -> Path:
    """``path`` made absolute, symlinks resolved where they resolve (a symlink loop is
    left for reading to report, with the system's reason)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def load_any(path: str | Path) -> ShopModel | LoadedScenario:
    """A model or a scenario, told apart by their keys (a model has ``stages``)."""
    path = Path(path)
    data, _ = load_yaml(path)
    if isinstance(data, dict) and "stages" in data:
        return load_model(path)
    return load_scenario(path)


def _load_model(
    path: Path, overrides: dict[str, Any] | None = None, scenario: LineMap | None = None
) -> tuple[ShopModel, LineMap]:
    """The model at ``path`` with ``overrides`` merged in; a problem in an overridden
    value is blamed on the scenario's ``model_overrides`` (``scenario``), where it was
    written."""
    data, lines = load_yaml(path, "model file")
    _refuse_foreign(ShopModel, data, lines, "shop model")
    if overrides and scenario is not None:
        lines = _Overridden(lines.file, lines.lines, scenario, overrides, data)
    if overrides:
        data = laid_over(data, overrides)
    shop = validate(ShopModel, data, lines)
    errors: list[ConfigError] = []
    gateways = set(shop.stages.payment.gateways)
    for loc, name in shop.stage_dependencies():
        if name not in shop.dependencies:
            errors.append(lines.error(unknown("dependency", name, shop.dependencies), loc))
    raise_all(errors)  # a misspelt gateway would make the checks below report its fee too
    for name, dep in shop.dependencies.items():
        if name in gateways:
            continue
        if dep.fee is not None:
            errors.append(
                lines.error("fee applies to payment gateways only", ("dependencies", name, "fee"))
            )
        if dep.decline_rate:
            errors.append(
                lines.error(
                    "decline_rate applies to payment gateways only",
                    ("dependencies", name, "decline_rate"),
                )
            )
    raise_all(errors)
    return shop, lines


@dataclass(frozen=True)
class _Overridden(LineMap):
    """The model's line map, blaming a value the scenario's ``model_overrides`` set on the
    scenario's line for it; a problem in the model's own values stays the model's."""

    scenario: LineMap
    overrides: dict[str, Any]
    model: Any  # the model file's own data

    def error(self, message: str, loc: tuple[Any, ...]) -> ConfigError:
        matched, node = _deepest(self.overrides, loc)
        in_model, _ = _deepest(self.model, matched)
        if matched and (not isinstance(node, dict) or len(in_model) < len(matched)):
            return self.scenario.error(message, ("model_overrides", *loc))
        found = super().error(message, loc)
        return ConfigError(
            f"{message} (in the model with this scenario's model_overrides applied)",
            file=found.file,
            line=found.line,
            path=found.path,
        )


def _deepest(data: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
    """The longest path along ``loc`` that ``data`` holds (elements it lacks, such as
    pydantic's union tags, skipped), and the value there."""
    matched: tuple[Any, ...] = ()
    node = data
    for element in loc:
        held = element in node if isinstance(node, dict) else _index_of(node, element)
        if held:
            node = node[element]
            matched = (*matched, element)
        elif not isinstance(node, dict):
            break
    return matched, node


def _index_of(node: Any, element: Any) -> bool:
    return isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node)


def _refuse_foreign(cls: type[BaseModel], data: Any, lines: LineMap, what: str) -> None:
    """Refuse, as a whole and quoting nothing of it, a file none of whose top-level keys
    is a field of ``cls``: not a broken model or scenario, but some other file (a
    scenario's ``model:`` pointing at /etc/passwd must not print its lines as errors)."""
    if not isinstance(data, dict) or not data:
        return
    known = cls.model_fields
    if any(isinstance(key, str) and key in known for key in data):
        return
    raise ConfigError(
        f"not a {what}: none of its {len(data)} top-level keys is a {what} field "
        f"({', '.join(list(known)[:6])}, ...)",
        file=lines.file,
    )


def _attach_traces(scenario: Scenario, path: Path, lines: LineMap) -> Scenario:
    """Load every trace fault's CSV, relative to the scenario file."""
    faults = list(scenario.faults)
    changed = False
    for i, fault in enumerate(faults):
        if not isinstance(fault, TraceFault):
            continue
        file = resolve(path.parent / fault.file)
        if not os.path.lexists(file):
            raise lines.error(f"trace file not found: {file}", ("faults", i, "file"))
        trace = load_trace(file)
        duration = fault.duration if fault.duration > 1e-9 else trace.length
        faults[i] = fault.model_copy(update={"trace": trace, "duration": duration})
        changed = True
    return scenario.model_copy(update={"faults": faults}) if changed else scenario
