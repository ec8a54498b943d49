"""The selection and confirmation stages of ``breakerlab tune``: the search's best trials
and the base race on seeds the search never saw (``sim.analysis.selection``), then the
winner meets the base once more on fresh seeds, and only that independent comparison can
adopt it. Sample splitting is what accounts for the multiplicity of the search: the
winner was chosen on other data, so one paired interval tests it honestly.

Several scenarios are combined per replication (their mean, or the worst), so candidates
stay paired on common random numbers across the whole library of outages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from sim.analysis.landscape import Formatter, Landscape, landscape
from sim.analysis.objectives import DecisionSettings
from sim.analysis.selection import Look, look, plan_looks
from sim.analysis.stats import by_configuration, paired_differences
from sim.analysis.summary import summary_frame, summary_row
from sim.config import LoadedScenario
from sim.config.scenario import Configuration
from sim.experiment.backends import Backend
from sim.experiment.params import Value, apply
from sim.experiment.runner import RunSpec, run_specs
from sim.experiment.variants import with_configurations
from sim.format import unit_of

BASE = "base"
RunsDone = Callable[[int], None]


@dataclass(frozen=True)
class Selection:
    """The race's outcome: the decision over the finalists and the base, its landscape,
    every run's combined row, the looks taken and the runs used."""

    landscape: Landscape
    summary: pd.DataFrame
    looks: list[Look]
    runs: int


def candidates_of(finalists: Sequence[Mapping[str, Value]]) -> dict[str, dict[str, Value]]:
    """The finalists by name (``trial 1``...), in the order given."""
    return {f"finalist {i + 1}": dict(values) for i, values in enumerate(finalists)}


def select(
    loaded: list[LoadedScenario],
    bases: list[tuple[str, Configuration]],
    finalists: Mapping[str, Mapping[str, Value]],
    base_values: Mapping[str, Value],
    choice: DecisionSettings,
    *,
    budget: int,
    seed: int,
    aggregate: str,
    backend: Backend,
    formats: Mapping[str, Formatter] | None = None,
    done: RunsDone | None = None,
) -> Selection:
    """Race the finalists and the base within ``budget`` runs (over all scenarios)."""
    names = [BASE, *finalists]
    plan = plan_looks(budget // len(loaded), len(names))
    scenarios = _scenarios(loaded, bases, finalists)
    alive, rows, runs, delta = list(names), pd.DataFrame(), 0, None
    looks: list[Look] = []
    have = 0
    for index, count in enumerate(plan.counts):
        specs = [RunSpec(n, r) for n in alive for r in range(have, count)]
        fresh_rows = _combined(scenarios, specs, seed, backend, aggregate, choice)
        runs += len(specs) * len(loaded)
        if done:
            done(len(specs) * len(loaded))
        rows = pd.concat([rows, fresh_rows], ignore_index=True)
        summary = _ordered(rows, names)
        step = look(
            summary, alive, choice.metric, base=BASE, plan=plan, index=index,
            direction=choice.direction, indifference=choice.indifference,
            constraints=choice.constraints, alpha=choice.alpha / 2, delta=delta,
            unit=unit_of(choice.metric, loaded[0].shop.currency_code),
        )  # fmt: skip
        looks.append(step)
        delta = step.decision.delta
        alive, have = list(step.alive), count
        if step.stop is not None:
            break
    values = {BASE: dict(base_values), **{n: dict(v) for n, v in finalists.items()}}
    paths = list(base_values)
    land = landscape(looks[-1].decision, values, paths, formats)
    return Selection(land, _ordered(rows, names), looks, runs)


def confirm(
    loaded: list[LoadedScenario],
    bases: list[tuple[str, Configuration]],
    winner: Mapping[str, Value],
    choice: DecisionSettings,
    *,
    replications: int,
    seed: int,
    aggregate: str,
    backend: Backend,
    done: RunsDone | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The winner (``tuned``) and the base on ``replications`` fresh replications of every
    scenario: the combined rows (configuration, replication, metrics) and each scenario's
    own summary rows (with a ``scenario`` column)."""
    scenarios = _scenarios(loaded, bases, {"tuned": winner})
    specs = [RunSpec(n, r) for n in (BASE, "tuned") for r in range(replications)]
    per_scenario = _run(scenarios, specs, seed, backend)
    if done:
        done(len(specs) * len(loaded))
    combined = combine(per_scenario, aggregate, choice)
    frames = [f.assign(scenario=s.scenario.name) for s, f in zip(loaded, per_scenario, strict=True)]
    return combined, pd.concat(frames, ignore_index=True)


def _scenarios(
    loaded: list[LoadedScenario],
    bases: list[tuple[str, Configuration]],
    candidates: Mapping[str, Mapping[str, Value]],
) -> list[LoadedScenario]:
    """Per scenario: the base and every candidate's configuration, side by side."""
    out = []
    for s, (_, base) in zip(loaded, bases, strict=True):
        configurations = {BASE: base}
        configurations.update({n: apply(base, dict(v), s.source) for n, v in candidates.items()})
        out.append(with_configurations(s, configurations, BASE))
    return out


def _run(
    scenarios: list[LoadedScenario], specs: list[RunSpec], seed: int, backend: Backend
) -> list[pd.DataFrame]:
    """Each scenario's summary rows of ``specs``."""
    frames = []
    for s in scenarios:
        done = run_specs(s, specs, seed, backend, reducer=summary_row)
        frames.append(summary_frame(done[spec] for spec in specs))
    return frames


def _combined(
    scenarios: list[LoadedScenario],
    specs: list[RunSpec],
    seed: int,
    backend: Backend,
    aggregate: str,
    choice: DecisionSettings,
) -> pd.DataFrame:
    if not specs:
        return pd.DataFrame()
    return combine(_run(scenarios, specs, seed, backend), aggregate, choice)


def combine(frames: list[pd.DataFrame], how: str, choice: DecisionSettings) -> pd.DataFrame:
    """One row per configuration and replication: the decision's metric and constraint
    metrics over the scenarios, their mean or (``worst``) the worst of them."""
    keys = ["configuration", "replication"]
    wanted = {choice.metric: choice.direction == "minimize"}
    for limit in choice.constraints:
        wanted.setdefault(limit.metric, limit.op in ("<", "<="))
    stacked = pd.concat([f[[*keys, *wanted]] for f in frames], ignore_index=True)
    grouped = stacked.groupby(keys, sort=False)
    if how == "mean" or len(frames) == 1:
        return grouped.mean().reset_index()
    parts = {
        m: grouped[m].max() if high_is_bad else grouped[m].min()
        for m, high_is_bad in wanted.items()
    }
    return pd.DataFrame(parts).reset_index()


def _ordered(rows: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Rows sorted by candidate (in ``names`` order) then replication."""
    if rows.empty:
        return rows
    order = {n: i for i, n in enumerate(names)}
    ranked = rows.assign(_order=rows["configuration"].map(order))
    return (
        ranked.sort_values(["_order", "replication"]).drop(columns="_order").reset_index(drop=True)
    )


def fresh_table(per_scenario: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and metric: both configurations' intervals and tuned − base."""
    frames = []
    for name, part in per_scenario.groupby("scenario", sort=False):
        summary = part.drop(columns="scenario").replace({"configuration": {BASE: "base"}})
        ci = by_configuration(summary).assign(kind="interval")
        diff = paired_differences(summary, "base").assign(kind="tuned − base")
        frames.append(pd.concat([ci, diff], ignore_index=True).assign(scenario=name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
