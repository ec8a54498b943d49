"""A scenario's cross-references, checked once both it and its shop are valid on their own:
every name it uses (a dependency, a gateway, a configuration) exists, every instant lies
within the horizon, and a run-time configuration change tunes only what it may. Every
problem found is reported, each at its line."""

from __future__ import annotations

from pydantic import ValidationError

from sim.config.messages import message_of, raise_all, unknown
from sim.config.model import ShopModel
from sim.config.scenario import Configuration, CrashFault, LatencyFault, Scenario
from sim.config.settings import with_settings
from sim.config.yamlio import LineMap
from sim.errors import ConfigError
from sim.units import format_duration

STAGES = ("inventory", "payment", "order_record", "fulfillment")
LAYERS = ("breaker", "bulkhead", "rate_limiter", "hedging")


def check_references(scenario: Scenario, shop: ShopModel, lines: LineMap) -> None:
    """Raise every broken reference of ``scenario`` to ``shop`` and to itself at once."""
    errors = [
        *_faults(scenario, shop, lines),
        *_gateways(scenario, shop, lines),
        *_baseline(scenario, lines),
        *_rules(scenario, shop, lines),
        *_config_changes(scenario, lines),
        *_hypotheses(scenario, lines),
        *_profile(scenario, lines),
    ]
    raise_all(errors)


def _faults(scenario: Scenario, shop: ShopModel, lines: LineMap) -> list[ConfigError]:
    """A crash hits a checkout node the shop has, or the orchestrator; any other fault a
    dependency of the shop, starting within the horizon; a latency fault adds less than it."""
    errors: list[ConfigError] = []
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
            message = unknown("dependency", fault.target, shop.dependencies)
            errors.append(lines.error(message, ("faults", i, "target")))
        if fault.start >= scenario.horizon:
            errors.append(lines.error("fault starts after the horizon", ("faults", i, "start")))
        if isinstance(fault, LatencyFault) and fault.add > scenario.horizon:
            message = (
                f"add {format_duration(fault.add)} is longer than the horizon "
                f"({format_duration(scenario.horizon)}): no delayed call would end in the run. "
                f"A bare number is seconds: write '{fault.add:g}ms' for milliseconds"
            )
            errors.append(lines.error(message, ("faults", i, "add")))
    return errors


def _gateways(scenario: Scenario, shop: ShopModel, lines: LineMap) -> list[ConfigError]:
    """A configuration's gateways, weights and fallback name gateways of the shop, and the
    fallback is not the primary itself."""
    errors: list[ConfigError] = []
    gateways = shop.stages.payment.gateways
    for name, config in scenario.configurations.items():
        payment = config.payment
        base = ("configurations", name, "payment")
        for i, gateway in enumerate(payment.gateways or []):
            if gateway not in gateways:
                message = unknown("gateway", gateway, gateways)
                errors.append(lines.error(message, (*base, "gateways", i)))
        for gateway in payment.weights or {}:
            if gateway not in gateways:
                message = unknown("gateway", gateway, gateways)
                errors.append(lines.error(message, (*base, "weights", gateway)))
        fallback = payment.fallback
        if fallback is None:
            continue
        loc = (*base, "fallback")
        if fallback not in gateways:
            errors.append(lines.error(unknown("gateway", fallback, gateways), loc))
        elif fallback == gateways[0]:
            errors.append(lines.error(f"{fallback!r} is the primary gateway already", loc))
    return errors


def _baseline(scenario: Scenario, lines: LineMap) -> list[ConfigError]:
    """The baseline, when named, is one of the configurations."""
    if scenario.baseline is None or scenario.baseline in scenario.configurations:
        return []
    message = unknown("configuration", scenario.baseline, scenario.configurations)
    return [lines.error(message, ("baseline",))]


def _rules(scenario: Scenario, shop: ShopModel, lines: LineMap) -> list[ConfigError]:
    """A rule watches a dependency of the shop, routes to one of its gateways, and applies
    to configurations the scenario has."""
    errors: list[ConfigError] = []
    gateways = shop.stages.payment.gateways
    for i, rule in enumerate(scenario.rules):
        if rule.dependency not in shop.dependencies:
            message = unknown("dependency", rule.dependency, shop.dependencies)
            errors.append(lines.error(message, ("rules", i, "dependency")))
        if rule.action == "route_to" and rule.target not in gateways:
            message = unknown("gateway", str(rule.target), gateways)
            errors.append(lines.error(message, ("rules", i, "target")))
        errors += _configurations_named(
            scenario, rule.configurations or [], ("rules", i, "configurations"), lines
        )
    return errors


def _config_changes(scenario: Scenario, lines: LineMap) -> list[ConfigError]:
    """A run-time change applies to configurations the scenario has, and what it sets is
    valid there (``_check_change``)."""
    errors: list[ConfigError] = []
    for i, change in enumerate(scenario.config_changes):
        targets = change.configurations or list(scenario.configurations)
        for j, name in enumerate(targets):
            if name not in scenario.configurations:
                message = unknown("configuration", name, scenario.configurations)
                errors.append(lines.error(message, ("config_changes", i, "configurations", j)))
                continue
            problem = _check_change(scenario.configurations[name], change.set)
            if problem:
                errors.append(lines.error(f"{problem} (in {name!r})", ("config_changes", i, "set")))
    return errors


def _check_change(written: Configuration, settings: dict[str, object]) -> str | None:
    """Why ``settings`` cannot be set in ``written`` during a run, or None: it must
    validate, keep where breaker state lives, and tune only layers the configuration has
    (never add or remove one)."""
    try:
        changed = with_settings(written, settings)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"])
        return f"{field}: {message_of(first, tuple(first['loc']), Configuration)}"
    except ValueError as exc:
        return str(exc)
    if changed.breaker_state != written.breaker_state:
        return "breaker_state: where breaker state lives is fixed for the run"
    for stage in STAGES:
        before, after = getattr(written, stage), getattr(changed, stage)
        for layer in LAYERS:
            if (getattr(before, layer) is None) != (getattr(after, layer) is None):
                return (
                    f"{stage}.{layer}: a change may tune a layer the configuration has, "
                    "not add or remove one"
                )
    return None


def _hypotheses(scenario: Scenario, lines: LineMap) -> list[ConfigError]:
    """A hypothesis names configurations the scenario has."""
    errors: list[ConfigError] = []
    for i, hypothesis in enumerate(scenario.hypotheses):
        loc = ("hypotheses", i, "configurations")
        errors += _configurations_named(scenario, hypothesis.configurations or [], loc, lines)
    return errors


def _profile(scenario: Scenario, lines: LineMap) -> list[ConfigError]:
    """Every change of the traffic profile comes before the horizon."""
    return [
        lines.error("profile change after the horizon", ("traffic", "profile", i, "at"))
        for i, point in enumerate(scenario.traffic.profile)
        if point.at >= scenario.horizon
    ]


def _configurations_named(
    scenario: Scenario, names: list[str], loc: tuple[str | int, ...], lines: LineMap
) -> list[ConfigError]:
    """An error for each of ``names`` (the list at ``loc``) that is no configuration."""
    return [
        lines.error(unknown("configuration", name, scenario.configurations), (*loc, j))
        for j, name in enumerate(names)
        if name not in scenario.configurations
    ]
