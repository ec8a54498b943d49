"""Variants of a scenario: the configuration a sweep or study changes, and the scenario
comparing other configurations than its own."""

from __future__ import annotations

from sim.config.scenario import Configuration, LoadedScenario
from sim.errors import ConfigError, did_you_mean


def base_configuration(loaded: LoadedScenario, name: str | None) -> tuple[str, Configuration]:
    """The configuration a sweep or study changes: ``name``, else the scenario's baseline."""
    configurations = loaded.scenario.configurations
    chosen = name or loaded.scenario.baseline_configuration
    if chosen not in configurations:
        suffix = did_you_mean(chosen, configurations)
        raise ConfigError(
            f"unknown configuration {chosen!r}{suffix} (known: {', '.join(configurations)})",
            file=loaded.source,
            path="--configuration",
        )
    return chosen, configurations[chosen]


def with_configurations(
    loaded: LoadedScenario, configurations: dict[str, Configuration], baseline: str
) -> LoadedScenario:
    """The scenario comparing ``configurations`` instead of its own (hypotheses dropped:
    they name the scenario's configurations)."""
    scenario = loaded.scenario.model_copy(
        update={"configurations": configurations, "baseline": baseline, "hypotheses": []}
    )
    return loaded.model_copy(update={"scenario": scenario})
