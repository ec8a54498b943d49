"""``breakerlab sweep`` as a library call: a grid or Latin hypercube of parameter values
applied to one configuration, every point run with common random numbers, one tidy table,
a decision (the best point, the points equivalent to it within δ, those to avoid, the
region of equivalent settings) and plots of the metrics over the parameters.

Each run is reduced to its summary row in the worker (no per-order rows travel or are
kept) and stored as it finishes, so ``resume`` finishes an interrupted sweep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.bounds import intervals
from sim.analysis.decision import Decision, decide
from sim.analysis.landscape import Landscape, landscape
from sim.analysis.objectives import DecisionSettings
from sim.analysis.pareto import feasible, pareto_front, pick_setting, sweep_points
from sim.analysis.recommend import never_opened
from sim.analysis.stats import paired_differences
from sim.analysis.summary import summary_frame, summary_row
from sim.app.deciding import decision_settings, formats
from sim.app.inputs import scenario_of
from sim.app.journal import dumps, versions
from sim.app.pictures import Picture, pareto
from sim.app.rundir import now, placing
from sim.app.workflow import Execution, replicate_stored
from sim.config import LoadedScenario
from sim.config.scenario import Configuration
from sim.errors import ConfigError
from sim.experiment import RunStore
from sim.experiment.manifest import scenario_from_record
from sim.experiment.params import Param, apply, grid, latin_hypercube, parse_param, point_name
from sim.experiment.params import read as read_param
from sim.experiment.runner import Progress
from sim.experiment.variants import base_configuration, with_configurations
from sim.format import CSV_FLOATS, unit_of
from sim.report import sweep_plots
from sim.report.sweep_report import render as render_report


@dataclass(frozen=True)
class SweepOutput:
    """The sweep's directory, its tidy table (configuration, parameters..., is_base,
    metric, mean, ci_low, ci_high, replications, diff_mean, diff_ci_low, diff_ci_high),
    the number of points, the plots written, and the decision over the points."""

    directory: Path
    table: pd.DataFrame
    points: int
    images: list[Path]
    params: list[str]  # the parameters' paths
    landscape: Landscape | None = None

    @property
    def decision(self) -> Decision | None:
        """The decision over the points (``sim.analysis.decision.Decision``)."""
        return self.landscape.decision if self.landscape else None

    def figures(self) -> dict[str, Picture]:
        """The sweep's plots by file name (heat maps, lines or scatter plots)."""
        return {path.name: Picture(path.stem, path.read_bytes()) for path in self.images}

    def point_table(
        self, metrics: Sequence[str] = ("revenue_lost", "checkout_p99_s")
    ) -> pd.DataFrame:
        """One row per point (the base left out): the parameters, then per metric its mean,
        interval and paired difference with the base (``sim.analysis.pareto.sweep_points``)."""
        return sweep_points(self.table, self.params, list(metrics))

    def pick(
        self, objective: str, budget_metric: str, budget: float
    ) -> tuple[pd.DataFrame, pd.Series | None, Picture]:
        """The points with ``pareto`` and ``feasible`` columns (the budget met on the whole
        interval), the pick (the lowest mean ``objective`` among feasible points; None if
        there is none) and the Pareto front of the two metrics."""
        table = self.point_table([objective, budget_metric])
        points = feasible(pareto_front(table, objective, budget_metric), budget_metric, budget)
        chosen: pd.Series | None = None
        try:
            label = pick_setting(points, objective, budget_metric, budget)
            chosen = points.loc[[label]].iloc[0]
        except ValueError:
            pass  # no point keeps the whole interval within the budget
        return points, chosen, pareto(points, objective, budget_metric)

    def to_json(self) -> dict[str, Any]:
        """What ``breakerlab sweep --json`` prints: the decision and the rows of sweep.csv."""
        return {
            "command": "sweep",
            "directory": str(self.directory),
            "report": str(self.directory / "report.md"),
            "points": self.points,
            "decision": self.landscape.as_dict() if self.landscape else None,
            "table": self.table,
        }


@dataclass(frozen=True)
class SweepSettings:
    """A sweep's settings, every one checked. experiment.json keeps them (``as_dict``) so
    that ``--resume`` finishes the same sweep (``from_dict``)."""

    seed: int
    replications: int
    base_configuration: str  # the configuration every point varies
    params: tuple[str, ...]  # the --param options as given (PATH=VALUES)
    lhs: int | None  # points of a Latin hypercube, or None for the grid
    decision: DecisionSettings
    started: str  # when the sweep began (ISO 8601)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "replications": self.replications,
            "base_configuration": self.base_configuration,
            "params": list(self.params),
            "lhs": self.lhs,
            "decision": self.decision.as_dict(),
            "started": self.started,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepSettings:
        """From a manifest ``sim.experiment.stored.check_manifest`` has checked."""
        return cls(
            seed=int(data["seed"]),
            replications=int(data["replications"]),
            base_configuration=str(data["base_configuration"]),
            params=tuple(str(p) for p in data["params"]),
            lhs=None if data["lhs"] is None else int(data["lhs"]),
            decision=DecisionSettings.from_dict(data.get("decision")),
            started=str(data["started"]),
        )


@dataclass(frozen=True)
class _Sweep:
    """What a sweep runs: the scenario of all its points, their parameters, its settings."""

    scenario: LoadedScenario
    params: list[Param]
    settings: SweepSettings
    store: RunStore | None  # the directory being resumed


def run_sweep(
    scenario: str | Path | LoadedScenario | None = None,
    params: Sequence[str] = (),
    *,
    lhs: int | None = None,
    configuration: str | None = None,
    replications: int | None = None,
    seed: int | None = None,
    objective: str | None = None,
    indifference: str | None = None,
    constraints: Sequence[str] = (),
    out: str | Path = "reports",
    workers: int | None = None,
    scheduler: Any = None,
    dask_local: int | None = None,
    progress: Progress | None = None,
    resume: str | Path | None = None,
    trust_code: bool = False,
    allow_large: bool = False,
    on_start: Callable[[Path], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> SweepOutput:
    """Run every point of the sweep (or finish the sweep directory ``resume``; with
    ``trust_code`` even one naming breaker classes) and write ``sweep.csv``,
    ``decision.csv``, ``decision.json``, ``summary.csv``, plots, ``report.md`` and
    ``journal.json``. ``objective``, ``indifference`` and ``constraints`` say what the
    decision is made on (as for ``tune``). A sweep too large for this machine is refused
    before anything is written, unless ``allow_large``."""
    execution = Execution(workers, scheduler, dask_local, on_start, notify)
    if resume is not None and (scenario is not None or params):
        raise ConfigError(
            "give a scenario and --param, or --resume DIR, not both: a resumed sweep "
            "finishes the sweep its directory records",
            path="--resume",
        )
    if resume is not None:
        sweep = _resumed(Path(resume), trust_code)
    else:
        sweep = _new(scenario, params, lhs, configuration, replications, seed,
                     objective, indifference, constraints)  # fmt: skip
    made = replicate_stored(
        execution, "sweep", sweep.scenario, sweep.settings, summary_row,
        root=Path(out) / f"{sweep.scenario.scenario.name}-sweep", resumed=sweep.store,
        keep_orders=False, allow_large=allow_large, progress=progress,
    )  # fmt: skip
    return _write(made.directory, sweep, summary_frame(made.results), made.backend,
                  resume is not None)  # fmt: skip


def _new(
    scenario: str | Path | LoadedScenario | None,
    params: Sequence[str],
    lhs: int | None,
    configuration: str | None,
    replications: int | None,
    seed: int | None,
    objective: str | None,
    indifference: str | None,
    constraints: Sequence[str],
) -> _Sweep:
    """A new sweep, every option checked before anything is written."""
    if scenario is None:
        raise ConfigError("give a scenario file or --resume DIR")
    loaded = scenario_of(scenario)
    if not params:
        raise ConfigError("give at least one --param PATH=VALUES", path="--param")
    parsed = [parse_param(p) for p in params]
    seed = loaded.scenario.seed if seed is None else seed
    base_name, _ = base_configuration(loaded, configuration)
    choice = decision_settings([loaded], objective, indifference, constraints)
    settings = SweepSettings(
        seed=seed,
        replications=replications or loaded.scenario.replications,
        base_configuration=base_name,
        params=tuple(params),
        lhs=lhs,
        decision=choice,
        started=now(),
    )
    return _Sweep(_variants(loaded, parsed, lhs, seed, base_name), parsed, settings, None)


def _resumed(directory: Path, trust_code: bool) -> _Sweep:
    """An interrupted sweep, as its directory describes it."""
    store = RunStore(directory)
    manifest = store.manifest("sweep")
    loaded = scenario_from_record(manifest["loaded"], str(store.directory), trust_code=trust_code)
    settings = SweepSettings.from_dict(manifest["settings"])
    return _Sweep(loaded, [parse_param(p) for p in settings.params], settings, store)


def _write(
    directory: Path, sweep: _Sweep, summary: pd.DataFrame, backend: str, resumed: bool
) -> SweepOutput:
    """The tables, the decision, the plots, report.md and journal.json, each placed
    atomically; journal.json last."""
    settings = sweep.settings
    base_name = settings.base_configuration
    paths = [p.path for p in sweep.params]
    values = {
        name: {p: read_param(config, p) for p in paths}
        for name, config in sweep.scenario.scenario.configurations.items()
    }
    table = tidy(summary, values, base_name)
    choice = settings.decision
    currency = sweep.scenario.shop.currency_code
    land = sweep_landscape(summary, values, paths, base_name, choice, sweep.params, currency)
    land = replace(land, unexercised=never_opened(sweep.scenario, summary))
    with placing(directory) as placer:
        placer.csv("summary.csv", summary, "%.6f")
        placer.csv("sweep.csv", table, CSV_FLOATS)
        placer.csv("decision.csv", land.points, CSV_FLOATS)
        placer.text("decision.json", dumps(land.as_dict()))
        images = [
            placer.move_in(path)
            for path in sweep_plots.draw_all(table, paths, bool(settings.lhs), placer.staging, land)
        ]
        points = len(values) - 1
        count = settings.replications
        placer.text("report.md", render_report(sweep.scenario.scenario.name, base_name,
                                               points, count, list(settings.params), land,
                                               [p.name for p in images]))  # fmt: skip
        record = {
            "scenario": sweep.scenario.scenario.model_dump(mode="json"),
            "source": sweep.scenario.source,
            "base_configuration": base_name,
            "params": list(settings.params),
            "lhs": settings.lhs,
            "points": values,
            "seeds": {"seed": settings.seed, "replications": list(range(count))},
            "decision": land.as_dict(),
            "started": settings.started,
            "finished": now(),
            "backend": backend,
            "resumed": resumed,
            "versions": versions(),
        }
        placer.text("journal.json", dumps(record))
    return SweepOutput(directory, table, points, images, paths, land)


def sweep_landscape(
    summary: pd.DataFrame,
    values: dict[str, dict[str, float]],
    paths: list[str],
    base: str,
    choice: DecisionSettings,
    params: Sequence[Param] = (),
    currency: str = "",
) -> Landscape:
    """The decision over a sweep's points and its base (one look, common random numbers);
    ``currency`` names the unit of a decision on money."""
    decision = decide(
        summary, choice.metric, base=base, direction=choice.direction,
        indifference=choice.indifference, constraints=choice.constraints, alpha=choice.alpha,
        unit=unit_of(choice.metric, currency),
    )  # fmt: skip
    return landscape(decision, values, paths, formats(params))


def _variants(
    loaded: LoadedScenario, parsed: list[Param], lhs: int | None, seed: int, base_name: str
) -> LoadedScenario:
    """The scenario comparing the base configuration with one configuration per point."""
    base = loaded.scenario.configurations[base_name]
    points = latin_hypercube(parsed, lhs, seed) if lhs else grid(parsed)
    configurations: dict[str, Configuration] = {base_name: base}
    for point in points:
        name = point_name(point)
        if name in configurations:
            continue  # an LHS of integers may draw a point twice, or the base itself
        try:
            configurations[name] = apply(base, point, loaded.source)
        except ConfigError as exc:
            raise _meant_elsewhere(exc, loaded, base_name, list(point)) from None
    return with_configurations(loaded, configurations, base_name)


def _meant_elsewhere(
    exc: ConfigError, loaded: LoadedScenario, base_name: str, paths: list[str]
) -> ConfigError:
    """``exc``, and when a parameter is missing from the varied configuration but set in
    others, which configuration was varied and which ``--configuration`` was likely meant
    (``payment.breaker.failure_ratio`` is Polly's, not the baseline's)."""
    configurations = loaded.scenario.configurations
    base = configurations[base_name]
    for path in paths:
        if not math.isnan(read_param(base, path)):
            continue
        others = [
            name
            for name, config in configurations.items()
            if name != base_name and not math.isnan(read_param(config, path))
        ]
        if others:
            why = "the baseline" if base_name == loaded.scenario.baseline_configuration else ""
            varied = f"{base_name!r}" + (f" ({why})" if why else "")
            message = exc.message.split("; did you mean")[0] + (
                f": the sweep varies {varied}, which has no {path}; "
                f"{', '.join(others)} {'has' if len(others) == 1 else 'have'} it: did you "
                f"mean --configuration {others[0]}?"
            )
            return ConfigError(message, file=exc.file, line=exc.line, path=exc.path)
    return exc


def tidy(summary: pd.DataFrame, points: dict[str, dict[str, float]], base: str) -> pd.DataFrame:
    """One row per point and metric: the parameters' values (as validated: seconds,
    percent...), mean and interval (clipped at the metric's bounds where ``clipped``), and
    the paired difference with the base configuration."""
    ci = intervals(summary)
    diff = paired_differences(summary, base)[
        ["configuration", "metric", "mean", "ci_low", "ci_high"]
    ]
    diff = diff.rename(
        columns={"mean": "diff_mean", "ci_low": "diff_ci_low", "ci_high": "diff_ci_high"}
    )
    table = ci.merge(diff, on=["configuration", "metric"], how="left")
    params = pd.DataFrame.from_dict(points, orient="index")
    params.index.name = "configuration"
    table = params.reset_index().merge(table, on="configuration", how="right")
    table.insert(1, "is_base", table["configuration"] == base)
    return table
