"""``breakerlab tune`` as a library call, in three stages that keep noise from being
called an improvement:

1. search (``sim.app.study``): Optuna proposes settings, each tried on the same seeds;
2. selection (``sim.app.finalists.select``): the best distinct trials and the base race
   on new seeds, replications going to the contenders, until one is separated, all are
   within δ, or the budget is spent;
3. confirmation (``sim.app.finalists.confirm``): the winner against the base on fresh
   seeds; only that comparison can adopt it (``sim.analysis.confirmation``).

``policy.yaml`` is written only on ``adopt``; on ``keep-base`` the study writes the region
of settings equivalent to the best instead (``region.yaml``). Trials keep no per-order
rows. Optuna's log level is left to the program (the CLI quiets it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from sim.analysis.confirmation import StudyDecision, conclude
from sim.analysis.objectives import Constraint, DecisionSettings, Objective
from sim.app.deciding import decision_settings, formats
from sim.app.finalists import BASE, Selection, candidates_of, confirm, fresh_table, select
from sim.app.inputs import scenario_of
from sim.app.journal import dumps, versions
from sim.app.pictures import Picture
from sim.app.rundir import now, placing
from sim.app.study import best_trials, open_study, search, spread_out, trials_table
from sim.app.workflow import Execution, check_fits, executing, start_directory
from sim.config import LoadedScenario
from sim.config.scenario import Configuration
from sim.errors import ConfigError
from sim.experiment.backends import Backend
from sim.experiment.params import Param, Value, apply, parse_param, validated
from sim.experiment.variants import base_configuration
from sim.format import CSV_FLOATS
from sim.report import plots, sweep_plots
from sim.report.tune_report import policy_files, region_file, render

SELECTION_SEED_OFFSET = 500_009
FRESH_SEED_OFFSET = 1_000_003
TrialProgress = Callable[[int, int], None]  # runs done, runs planned (at most)


@dataclass(frozen=True)
class TuneOutput:
    """The study's run directory, its best trials, the decision (verdict, selection
    stage, fresh-seed comparison), the winner's values, the fresh-seed tables and the
    simulation runs used per stage."""

    directory: Path
    best: pd.DataFrame  # the search's best distinct trials (the finalists)
    winner: dict[str, Value]  # the selection's best; adopted only when decision says so
    fresh: pd.DataFrame  # the winner and the base on fresh seeds, per scenario and metric
    decision: StudyDecision | None = None
    runs: dict[str, int] | None = None

    def figures(self) -> dict[str, Picture]:
        """The study's plots by file name (the selection stage's standings, the Pareto
        front of two objectives)."""
        return {
            path.name: Picture(path.stem, path.read_bytes())
            for path in sorted(self.directory.glob("*.png"))
        }

    @property
    def adopted(self) -> bool:
        return self.decision is not None and self.decision.verdict == "adopt"

    @property
    def policy(self) -> Path | None:
        """policy.yaml, written only when the winner is adopted."""
        return self.directory / "policy.yaml" if self.adopted else None

    def to_json(self) -> dict[str, Any]:
        """What ``breakerlab tune --json`` prints."""
        return {
            "command": "tune",
            "directory": str(self.directory),
            "report": str(self.directory / "report.md"),
            "policy": str(self.policy) if self.policy else None,
            "region_file": None if self.adopted else str(self.directory / "region.yaml"),
            "decision": self.decision.as_dict() if self.decision else None,
            "winner": self.winner,
            "runs": self.runs,
            "best_trials": self.best,
            "fresh_seeds": self.fresh,
        }


def scenario_list(
    scenarios: str | Path | LoadedScenario | Sequence[str | Path | LoadedScenario],
) -> list[LoadedScenario]:
    """The scenarios loaded: files (or shipped names) as given, every *.yaml of a
    directory given, loaded scenarios as they are."""
    if isinstance(scenarios, str | Path | LoadedScenario):
        scenarios = [scenarios]
    items: list[str | Path | LoadedScenario] = []
    for item in scenarios:
        if not isinstance(item, LoadedScenario) and Path(item).is_dir():
            items += sorted(Path(item).glob("*.yaml"))
        else:
            items.append(item)
    if not items:
        raise ConfigError("no scenario files given (a directory holds no *.yaml)")
    return [scenario_of(item) for item in items]


@dataclass(frozen=True)
class TuneSettings:
    """A study's inputs, every one checked (``tune_settings``) before anything runs."""

    loaded: list[LoadedScenario]
    bases: list[tuple[str, Configuration]]  # per scenario: the configuration tuned
    params: list[Param]
    goals: list[Objective]  # one objective, or two for a Pareto front
    limits: list[Constraint]
    choice: DecisionSettings  # what selection and confirmation decide on
    seed: int
    replications: int  # per trial and scenario in the search
    fresh: int  # fresh replications confirming the winner
    budget: int  # runs the selection stage may use
    finalists: int
    name: str  # the Optuna study's
    trials: int = 20
    aggregate: Literal["mean", "worst"] = "mean"  # over scenarios

    @property
    def planned(self) -> int:
        """The most simulation runs the study may make (selection may stop early)."""
        searched = self.trials * self.replications * len(self.loaded)
        return searched + self.budget + 2 * self.fresh * len(self.loaded)


def run_tune(
    scenarios: str | Path | LoadedScenario | Sequence[str | Path | LoadedScenario],
    params: Sequence[str],
    *,
    objectives: Sequence[str] = ("revenue_lost",),
    constraints: Sequence[str] = (),
    trials: int = 20,
    aggregate: Literal["mean", "worst"] = "mean",
    configuration: str | None = None,
    replications: int | None = None,
    indifference: str | None = None,
    selection_budget: int | None = None,
    finalists: int = 4,
    fresh_replications: int | None = None,
    seed: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    out: str | Path = "reports",
    workers: int | None = None,
    scheduler: Any = None,
    dask_local: int | None = None,
    top: int | None = None,
    allow_large: bool = False,
    progress: TrialProgress | None = None,
    notify: Callable[[str], None] | None = None,
    on_start: Callable[[Path], None] | None = None,
) -> TuneOutput:
    """Search (``trials`` trials of ``replications`` each, default 1), select among the
    ``finalists`` best and the base within ``selection_budget`` runs (default 50 per
    scenario), confirm the winner on ``fresh_replications`` fresh seeds (default 10), and
    write the results. ``indifference``: δ, default 2 % of the base's mean. ``top`` is an
    older name for ``finalists``. ``scheduler``: a Dask address or a connected Client. A
    study too large for this machine is refused before anything is written, unless
    ``allow_large``."""
    s = tune_settings(
        scenarios, params, objectives, constraints, configuration, replications, indifference,
        selection_budget, top or finalists, fresh_replications, seed, study_name, trials,
        aggregate,
    )  # fmt: skip
    execution = Execution(workers, scheduler, dask_local, on_start, notify)
    check_fits(s.loaded, s.planned, keep_orders=False, allow_large=allow_large)
    counter = _Counter(progress, s.planned)
    root = Path(out) / s.name
    with executing(execution) as backend:
        directory = start_directory(execution, root, s.seed)
        storage = storage or f"sqlite:///{(root / 'study.db').resolve()}"
        study = open_study(s.name, storage, s.goals, s.seed)
        started = now()
        table, best = _search(study, s, backend, counter)
        selection = _select(s, best, backend, counter)
        fresh_rows, fresh_table = _confirm(s, selection, backend, counter)
        decision = conclude(selection.landscape, fresh_rows, s.choice, s.fresh)
    runs = {
        "search": counter.search,
        "selection": selection.runs,
        "fresh": 2 * s.fresh * len(s.loaded) if fresh_rows is not None else 0,
    }
    runs["total"] = sum(runs.values())
    _write(directory, s, study, storage, table, best, selection, decision, fresh_table, runs,
           started)  # fmt: skip
    winner = selection.landscape.values(selection.landscape.decision.best)
    return TuneOutput(directory, best, winner, fresh_table, decision, runs)


def _search(
    study: Any, s: TuneSettings, backend: Backend, counter: _Counter
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage 1: the trials, and the best distinct ones (those meeting the constraints,
    spread out over the parameters), at most one more than the finalists."""
    search(
        study, s.loaded, s.bases, s.params, trials=s.trials, replications=s.replications,
        seed=s.seed, aggregate=s.aggregate, goals=s.goals, limits=s.limits, backend=backend,
        done=counter.add,
    )  # fmt: skip
    counter.finish_search()
    table = trials_table(study)
    best = best_trials(table, s.goals, len(table))
    best = spread_out(best, s.params, s.finalists + 1)
    if best.empty:
        raise ConfigError(
            "no trial met the constraints: relax them or widen the parameter ranges",
            path="--constraint",
        )
    return table, best


def _select(s: TuneSettings, best: pd.DataFrame, backend: Backend, counter: _Counter) -> Selection:
    """Stage 2: the best trials other than the base itself, raced against the base on new
    seeds within the selection budget."""
    base = s.bases[0][1]
    base_values = validated(base, {}, s.params)
    chosen = [
        shown
        for _, row in best.iterrows()
        if (shown := validated(base, {p.path: row[p.path] for p in s.params}, s.params))
        != base_values
    ][: s.finalists]
    return select(
        s.loaded, s.bases, candidates_of(chosen), base_values, s.choice, budget=s.budget,
        seed=s.seed + SELECTION_SEED_OFFSET, aggregate=s.aggregate, backend=backend,
        formats=formats(s.params), done=counter.add,
    )  # fmt: skip


def _confirm(
    s: TuneSettings, selection: Selection, backend: Backend, counter: _Counter
) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Stage 3: the selection's winner against the base on fresh seeds (its runs, and the
    table per scenario); nothing to confirm when the base won or nothing did."""
    winner_name = selection.landscape.decision.best
    if winner_name in (None, BASE):
        return None, pd.DataFrame()
    fresh_rows, per_scenario = confirm(
        s.loaded, s.bases, selection.landscape.values(winner_name), s.choice,
        replications=s.fresh, seed=s.seed + FRESH_SEED_OFFSET, aggregate=s.aggregate,
        backend=backend, done=counter.add,
    )  # fmt: skip
    return fresh_rows, fresh_table(per_scenario)


def tune_settings(
    scenarios: str | Path | LoadedScenario | Sequence[str | Path | LoadedScenario],
    params: Sequence[str],
    objectives: Sequence[str],
    constraints: Sequence[str],
    configuration: str | None,
    replications: int | None,
    indifference: str | None,
    selection_budget: int | None,
    finalists: int,
    fresh_replications: int | None,
    seed: int | None,
    study_name: str | None,
    trials: int = 20,
    aggregate: Literal["mean", "worst"] = "mean",
) -> TuneSettings:
    """Every input checked before anything is written or run."""
    loaded = scenario_list(scenarios)
    parsed = [parse_param(p) for p in params]
    if not parsed:
        raise ConfigError("give at least one --param PATH=LOW:HIGH or PATH=a,b", path="--param")
    goals = [Objective.parse(o) for o in objectives]
    if not 1 <= len(goals) <= 2:
        raise ConfigError("give one objective, or two for a Pareto front", path="--objective")
    goal = goals[0]
    way = f"{goal.metric}:max" if goal.direction == "maximize" else goal.metric
    choice = decision_settings(loaded, way, indifference, constraints)
    for extra in goals[1:]:
        decision_settings(loaded, extra.metric, indifference)  # checks the metric's name
    bases = [base_configuration(s, configuration) for s in loaded]
    for s, (_, base) in zip(loaded, bases, strict=True):
        apply(base, _corner(parsed), s.source)  # a bad path fails here, before anything runs
    if finalists < 1:
        raise ConfigError("at least one finalist", path="--finalists")
    budget = selection_budget or 50 * len(loaded)
    if budget < 2 * (finalists + 1) * len(loaded):
        raise ConfigError(
            f"a selection budget of {budget} runs cannot give {finalists} finalists and the base "
            f"2 replications each on {len(loaded)} scenario(s): raise it to at least "
            f"{2 * (finalists + 1) * len(loaded)} or lower --finalists",
            path="--selection-budget",
        )
    name = study_name or "tune-" + "+".join(s.scenario.name for s in loaded)
    first_seed = loaded[0].scenario.seed if seed is None else seed
    return TuneSettings(
        loaded, bases, parsed, goals, list(choice.constraints), choice, first_seed,
        replications or 1, fresh_replications or 10, budget, finalists, name, trials, aggregate,
    )  # fmt: skip


class _Counter:
    """Simulation runs done, for the progress bar (its total is the most the study may
    use; the selection stage may stop early)."""

    def __init__(self, progress: TrialProgress | None, planned: int) -> None:
        self.progress, self.planned, self.done, self.search = progress, planned, 0, 0

    def add(self, runs: int) -> None:
        self.done += runs
        if self.progress:
            self.progress(self.done, self.planned)

    def finish_search(self) -> None:
        self.search = self.done


def _corner(params: list[Param]) -> dict[str, Value]:
    return {p.path: p.value(p.low) if p.low is not None else p.values[0] for p in params}


def _redact(storage: str) -> str:
    """A storage URL without its password."""
    return storage.split("@")[-1] if "@" in storage else storage


def _write(
    directory: Path,
    s: TuneSettings,
    study: Any,
    storage: str,
    table: pd.DataFrame,
    best: pd.DataFrame,
    selection: Selection,
    decision: StudyDecision,
    fresh: pd.DataFrame,
    runs: dict[str, int],
    started: str,
) -> None:
    """Every file of the study, each placed atomically; journal.json last."""
    land = selection.landscape
    with placing(directory) as placer:
        placer.csv("trials.csv", table, CSV_FLOATS)
        placer.csv("best_trials.csv", best, CSV_FLOATS)
        placer.csv("selection.csv", land.points, CSV_FLOATS)
        placer.csv("selection_runs.csv", selection.summary, CSV_FLOATS)
        if not fresh.empty:
            placer.csv("winner_fresh_seeds.csv", fresh, CSV_FLOATS)
        placer.text("decision.json", dumps({**decision.as_dict(), "runs": runs}))
        if decision.verdict == "adopt":
            tuned = apply(s.bases[0][1], land.values(decision.winner))
            for name, text in policy_files(s.bases[0][0], s.loaded, tuned, decision).items():
                placer.text(name, text)
        else:
            placer.text("region.yaml", region_file(s.bases[0][0], s.loaded, decision))
        images = []
        fig = sweep_plots.difference_scatter(land, [p.path for p in s.params])
        placer.place("selection.png", lambda p: plots.save(fig, p))
        images.append("selection.png")
        if len(s.goals) == 2 and not table.empty:
            fig2 = sweep_plots.pareto(table, s.goals[0].metric, s.goals[1].metric)
            placer.place("pareto.png", lambda p: plots.save(fig2, p))
            images.append("pareto.png")
        placer.text("report.md", render(s.bases[0][0], s.loaded, s.goals, decision, runs, images))
        record = {
            "scenarios": [x.scenario.model_dump(mode="json") for x in s.loaded],
            "sources": [x.source for x in s.loaded],
            "params": [p.path for p in s.params],
            "objectives": [g.metric for g in s.goals],
            "constraints": [str(c) for c in s.limits],
            "aggregate": s.aggregate,
            "study": {"name": s.name, "storage": _redact(storage), "trials": len(study.trials)},
            "seeds": {"search": s.seed, "search_replications": s.replications,
                      "selection": s.seed + SELECTION_SEED_OFFSET,
                      "fresh": s.seed + FRESH_SEED_OFFSET, "fresh_replications": s.fresh},
            "decision": decision.as_dict(),
            "runs": runs,
            "started": started,
            "finished": now(),
            "versions": versions(),
        }  # fmt: skip
        placer.text("journal.json", dumps(record))
