"""Load and check models and scenarios; every problem becomes a ConfigError with a line."""

from __future__ import annotations

import copy
import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sim.config.model import ShopModel
from sim.config.scenario import (
    Configuration,
    CrashFault,
    LatencyFault,
    LoadedScenario,
    Scenario,
    TraceFault,
)
from sim.config.settings import with_settings
from sim.config.trace import load_trace
from sim.config.yamlio import LineMap, load_yaml
from sim.errors import ConfigError, ConfigErrors, quote
from sim.units import format_duration

M = TypeVar("M", bound=BaseModel)


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
    scenario = _validate(Scenario, data, lines)
    model_path = resolve(path.parent / scenario.model)
    if not os.path.lexists(model_path):
        raise lines.error(f"model file not found: {model_path}", ("model",))
    shop, _ = _load_model(model_path, scenario.model_overrides, lines)
    scenario = _attach_traces(scenario, path, lines)
    _check_scenario_refs(scenario, shop, lines)
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
        data = _merge(data, overrides)
    shop = _validate(ShopModel, data, lines)
    errors: list[ConfigError] = []
    gateways = set(shop.stages.payment.gateways)
    for loc, name in shop.stage_dependencies():
        if name not in shop.dependencies:
            errors.append(lines.error(_unknown("dependency", name, shop.dependencies), loc))
    _raise(errors)  # a misspelt gateway would make the checks below report its fee too
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
    _raise(errors)
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


def _merge(base: Any, overrides: dict[str, Any]) -> Any:
    """``base`` with ``overrides`` merged in, mapping by mapping (lists are replaced)."""
    if not isinstance(base, dict):
        return overrides
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        merged[key] = (
            _merge(current, value)
            if isinstance(value, dict) and isinstance(current, dict)
            else value
        )
    return merged


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


def _check_scenario_refs(scenario: Scenario, shop: ShopModel, lines: LineMap) -> None:
    errors: list[ConfigError] = []
    gateways = shop.stages.payment.gateways
    for i, fault in enumerate(scenario.faults):
        if isinstance(fault, CrashFault):
            if fault.target not in ("checkout", "orchestrator"):
                message = "a crash targets 'checkout' (with node) or 'orchestrator'"
                errors.append(lines.error(message, ("faults", i, "target")))
            elif fault.target == "checkout" and fault.node >= shop.checkout.nodes:
                message = f"the shop has checkout nodes 0..{shop.checkout.nodes - 1}"
                errors.append(lines.error(message, ("faults", i, "node")))
            continue
        if fault.target not in shop.dependencies:
            errors.append(
                lines.error(
                    _unknown("dependency", fault.target, shop.dependencies), ("faults", i, "target")
                )
            )
        if fault.start >= scenario.horizon:
            errors.append(lines.error("fault starts after the horizon", ("faults", i, "start")))
        if isinstance(fault, LatencyFault) and fault.add > scenario.horizon:
            message = (
                f"add {format_duration(fault.add)} is longer than the horizon "
                f"({format_duration(scenario.horizon)}): no delayed call would end in the run. "
                f"A bare number is seconds: write '{fault.add:g}ms' for milliseconds"
            )
            errors.append(lines.error(message, ("faults", i, "add")))
    for name, config in scenario.configurations.items():
        payment = config.payment
        base = ("configurations", name, "payment")
        for i, gateway in enumerate(payment.gateways or []):
            if gateway not in gateways:
                errors.append(
                    lines.error(_unknown("gateway", gateway, gateways), (*base, "gateways", i))
                )
        for gateway in payment.weights or {}:
            if gateway not in gateways:
                errors.append(
                    lines.error(_unknown("gateway", gateway, gateways), (*base, "weights", gateway))
                )
        fallback = payment.fallback
        if fallback is None:
            continue
        loc = (*base, "fallback")
        if fallback not in gateways:
            errors.append(lines.error(_unknown("gateway", fallback, gateways), loc))
        elif fallback == gateways[0]:
            errors.append(lines.error(f"{fallback!r} is the primary gateway already", loc))
    if scenario.baseline is not None and scenario.baseline not in scenario.configurations:
        names = scenario.configurations
        errors.append(
            lines.error(_unknown("configuration", scenario.baseline, names), ("baseline",))
        )
    for i, rule in enumerate(scenario.rules):
        if rule.dependency not in shop.dependencies:
            unknown = _unknown("dependency", rule.dependency, shop.dependencies)
            errors.append(lines.error(unknown, ("rules", i, "dependency")))
        if rule.action == "route_to" and rule.target not in gateways:
            unknown = _unknown("gateway", str(rule.target), gateways)
            errors.append(lines.error(unknown, ("rules", i, "target")))
        for j, name in enumerate(rule.configurations or []):
            if name not in scenario.configurations:
                unknown = _unknown("configuration", name, scenario.configurations)
                errors.append(lines.error(unknown, ("rules", i, "configurations", j)))
    for i, change in enumerate(scenario.config_changes):
        targets = change.configurations or list(scenario.configurations)
        for j, name in enumerate(targets):
            if name not in scenario.configurations:
                at_name = ("config_changes", i, "configurations", j)
                unknown = _unknown("configuration", name, scenario.configurations)
                errors.append(lines.error(unknown, at_name))
                continue
            written = scenario.configurations[name]
            try:
                changed = with_settings(written, change.set)
                if changed.breaker_state != written.breaker_state:
                    raise ValueError(
                        "breaker_state: where breaker state lives is fixed for the run"
                    )
                for stage in ("inventory", "payment", "order_record", "fulfillment"):
                    before, after = getattr(written, stage), getattr(changed, stage)
                    for layer in ("breaker", "bulkhead", "rate_limiter", "hedging"):
                        if (getattr(before, layer) is None) != (getattr(after, layer) is None):
                            raise ValueError(
                                f"{stage}.{layer}: a change may tune a layer the configuration "
                                "has, not add or remove one"
                            )
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                field = ".".join(str(p) for p in first["loc"])
                message = _message(first, tuple(first["loc"]), Configuration)
                at_set = ("config_changes", i, "set")
                errors.append(lines.error(f"{field}: {message} (in {name!r})", at_set))
            except ValueError as exc:
                errors.append(lines.error(f"{exc} (in {name!r})", ("config_changes", i, "set")))
    for i, hypothesis in enumerate(scenario.hypotheses):
        for j, name in enumerate(hypothesis.configurations or []):
            if name not in scenario.configurations:
                at_hypothesis = ("hypotheses", i, "configurations", j)
                unknown = _unknown("configuration", name, scenario.configurations)
                errors.append(lines.error(unknown, at_hypothesis))
    for i, point in enumerate(scenario.traffic.profile):
        if point.at >= scenario.horizon:
            errors.append(
                lines.error("profile change after the horizon", ("traffic", "profile", i, "at"))
            )
    _raise(errors)


def _validate(cls: type[M], data: Any, lines: LineMap) -> M:
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ConfigError(
            f"expected a mapping of fields at the top level, got {kind}", file=lines.file, line=1
        )
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raw = exc.errors(include_url=False)
    found: list[tuple[tuple[Any, ...], str]] = []
    for err in raw:
        loc = tuple(err["loc"])
        if err["type"] in ("union_tag_invalid", "union_tag_not_found") and (key := _tag_key(err)):
            loc = (*loc, key)
        found.append((loc, _message(err, loc, cls)))
    # A misspelt required key gives "unknown 'horizn'" and "missing 'horizon'": keep the first.
    suggested = {
        (*loc[:-1], message.split("did you mean '")[1].split("'")[0])
        for loc, message in found
        if "did you mean '" in message
    }
    errors = [
        lines.error(message, loc)
        for loc, message in found
        if not (message == "required field is missing" and loc in suggested)
    ]
    _raise(errors)
    raise AssertionError("unreachable")


def _message(err: Any, loc: tuple[Any, ...], cls: type[BaseModel]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden" and loc:
        known = _fields_at(cls, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if hint:
            return f"unknown field {quote(loc[-1])}; did you mean {hint[0]!r}?"
        return f"unknown field {quote(loc[-1])}" + (f"; known: {', '.join(known)}" if known else "")
    if kind == "union_tag_not_found" and not isinstance(err.get("input"), dict):
        return f"expected a mapping, got {_kind_of(err.get('input'))}"
    if kind in ("missing", "union_tag_not_found"):
        return "required field is missing"
    if kind == "union_tag_invalid":
        expected = [t.strip(" '") for t in str(err["ctx"]["expected_tags"]).split(",")]
        return _unknown(str(loc[-1]), str(err["ctx"]["tag"]), expected)
    if kind == "string_pattern_mismatch" and loc and loc[0] == "dependencies":
        return "a dependency's name may hold letters, digits, '_', '.' and '-' only"
    return str(err["msg"]).removeprefix("Value error, ")


def _tag_key(err: Any) -> str | None:
    """The key holding a tagged union's tag: the discriminator's field name, or for a
    callable discriminator (a breaker's ``preset``) the key whose value is the tag; none
    when the value is not a mapping at all."""
    given = err.get("input")
    if not isinstance(given, dict):
        return None
    discriminator = str(err["ctx"].get("discriminator", "")).strip("'")
    if not discriminator.endswith("()"):
        return discriminator
    tag = err["ctx"].get("tag")
    for key, value in given.items():
        if isinstance(key, str) and value == tag:
            return key
    return "preset"


def _kind_of(value: Any) -> str:
    """What a YAML value is, in YAML's words."""
    names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}
    if value is None:
        return "nothing (null)"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _fields_at(cls: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model reached by ``loc``, for "did you mean" hints.

    Inside a tagged union, pydantic puts the tag (a fault's kind) in the location: it picks
    the member whose ``kind`` is that tag.
    """
    candidates: list[type[BaseModel]] = [cls]
    for element in loc:
        if isinstance(element, int):
            continue
        by_tag = [c for c in candidates if _tag_of(c) == element]
        if by_tag:
            candidates = by_tag
            continue
        following = [
            _models_in(c.model_fields[element].annotation)
            for c in candidates
            if element in c.model_fields
        ]
        if following:
            candidates = [m for group in following for m in group]
    return list(candidates[0].model_fields) if len(candidates) == 1 else []


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("kind") or model.model_fields.get("preset")
    args: tuple[Any, ...] = getattr(field.annotation, "__args__", ()) if field else ()
    return str(args[0]) if len(args) == 1 else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The BaseModels inside ``X | None``, ``list[X]``, ``dict[str, X]`` or a union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found += _models_in(arg)
    return found


def _unknown(kind: str, name: str, known: Any) -> str:
    names = sorted(known)
    hint = difflib.get_close_matches(name, names, n=1)
    suffix = f"; did you mean {quote(hint[0])}?" if hint else ""
    return f"unknown {kind} {quote(name)}{suffix} (known: {', '.join(names)})"


def _raise(errors: list[ConfigError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)
