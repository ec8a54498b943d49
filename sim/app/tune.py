"""``breakerlab tune`` as a library call: Optuna searches parameter values of one
configuration (TPE; NSGA-II for two objectives) against one or several scenarios, the
objective being the mean or the worst case across them; the winner is re-evaluated on fresh
seeds and written as a policy YAML, beside a table of the best trials with intervals.

Trials keep no per-order rows: each run is reduced to its summary row in the worker. The
study's objectives carry their metric names (optuna-dashboard shows them); Optuna's log
level is left to the program (the CLI quiets it, a notebook keeps its own).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import optuna
import pandas as pd
import yaml

from sim.analysis import by_configuration
from sim.analysis.metrics import unknown_metric
from sim.analysis.objectives import Constraint, Objective
from sim.analysis.stats import paired_differences
from sim.analysis.summary import summary_frame, summary_row
from sim.app.journal import dumps, versions
from sim.app.rundir import new_directory, now, placing
from sim.app.settings import scenario_of
from sim.config import LoadedScenario
from sim.config.scenario import Configuration
from sim.errors import ConfigError
from sim.experiment import Executor, replicate
from sim.experiment.backends import Backend
from sim.experiment.params import Param, Value, apply, parse_param
from sim.experiment.variants import base_configuration, with_configurations
from sim.report import plots, sweep_plots

FRESH_SEED_OFFSET = 1_000_003
TrialProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class TuneOutput:
    """The study's run directory, its best feasible trials with intervals, the winning
    parameter values, and the winner against the base configuration on fresh seeds."""

    directory: Path
    best: pd.DataFrame  # the best trials with intervals
    winner: dict[str, Value]
    fresh: pd.DataFrame  # the winner and the base on fresh seeds, per scenario and metric

    def to_json(self) -> dict[str, Any]:
        """What ``breakerlab tune --json`` prints."""
        return {
            "command": "tune",
            "directory": str(self.directory),
            "policy": str(self.directory / "policy.yaml"),
            "winner": self.winner,
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
    fresh_replications: int | None = None,
    seed: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    out: str | Path = "reports",
    workers: int | None = None,
    scheduler: Any = None,
    dask_local: int | None = None,
    top: int = 5,
    progress: TrialProgress | None = None,
    notify: Callable[[str], None] | None = None,
) -> TuneOutput:
    """Run the study (or add ``trials`` to a stored one), re-evaluate its winner on fresh
    seeds, write the results. ``scheduler``: a Dask address or a connected Client."""
    loaded = scenario_list(scenarios)
    parsed = [parse_param(p) for p in params]
    if not parsed:
        raise ConfigError("give at least one --param PATH=LOW:HIGH or PATH=a,b", path="--param")
    goals = [Objective.parse(o) for o in objectives]
    if not 1 <= len(goals) <= 2:
        raise ConfigError("give one objective, or two for a Pareto front", path="--objective")
    limits = [Constraint.parse(c) for c in constraints]
    bases = [base_configuration(s, configuration) for s in loaded]
    for s, (_, base) in zip(loaded, bases, strict=True):
        for metric in [g.metric for g in goals] + [c.metric for c in limits]:
            if problem := unknown_metric(metric, s):
                raise ConfigError(problem, file=s.source, path="--objective/--constraint")
        apply(base, _corner(parsed), s.source)  # a bad path fails here, before anything runs
    seed = loaded[0].scenario.seed if seed is None else seed
    count = replications or max(2, min(s.scenario.replications for s in loaded))
    fresh_count = fresh_replications or max(2 * count, 5)
    name = study_name or "tune-" + "+".join(s.scenario.name for s in loaded)
    root = Path(out) / name
    with Executor(workers, scheduler=scheduler, dask_local=dask_local) as backend:
        if backend.dashboard and notify:
            notify(f"Dask dashboard: {backend.dashboard}")
        directory = new_directory(root, seed)
        storage = storage or f"sqlite:///{(root / 'study.db').resolve()}"
        study = _study(name, storage, goals, seed)
        started = now()

        def objective(trial: optuna.Trial) -> float | tuple[float, ...]:
            values = {p.path: _suggest(trial, p) for p in parsed}
            stats = _evaluate(loaded, bases, values, count, seed, backend)
            agg = _aggregate(stats, aggregate, goals, limits)
            for key, value in agg.items():
                trial.set_user_attr(key, value)
            trial.set_user_attr("params", values)
            violations = [c.violation(agg[c.metric]) for c in limits]
            trial.set_user_attr("constraints", violations)
            for limit, violation in zip(limits, violations, strict=True):
                trial.set_constraint(str(limit), violation)  # read by TPE and NSGA-II
            scores = tuple(agg[g.metric] for g in goals)
            return scores[0] if len(scores) == 1 else scores

        done = [0]

        def tick(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            done[0] += 1
            if progress:
                progress(done[0], trials)

        study.optimize(objective, n_trials=trials, callbacks=[tick])
        table = trials_table(study, goals, limits)
        best = best_trials(table, goals, top)
        if best.empty:
            raise ConfigError(
                "no trial met the constraints: relax them or widen the parameter ranges",
                path="--constraint",
            )
        winner: dict[str, Value] = dict(
            study.trials[int(best.iloc[0]["trial"])].user_attrs["params"]
        )
        fresh = _fresh(loaded, bases, winner, fresh_count, seed + FRESH_SEED_OFFSET, backend)
    _write(directory, loaded, bases, study, table, best, winner, fresh, goals, limits)
    record = {
        "scenarios": [s.scenario.model_dump(mode="json") for s in loaded],
        "sources": [s.source for s in loaded],
        "params": list(params),
        "objectives": list(objectives),
        "constraints": list(constraints),
        "aggregate": aggregate,
        "study": {"name": name, "storage": _redact(storage), "trials": len(study.trials)},
        "seeds": {"search": seed, "search_replications": count,
                  "fresh": seed + FRESH_SEED_OFFSET, "fresh_replications": fresh_count},
        "winner": winner,
        "started": started,
        "finished": now(),
        "versions": versions(),
    }  # fmt: skip
    with placing(directory) as placer:
        placer.text("journal.json", dumps(record))
    return TuneOutput(directory, best, winner, fresh)


def _corner(params: list[Param]) -> dict[str, Value]:
    return {p.path: p.value(p.low) if p.low is not None else p.values[0] for p in params}


def _suggest(trial: optuna.Trial, p: Param) -> Value:
    if not p.is_range:
        choice = trial.suggest_categorical(p.path, [str(v) for v in p.values])
        return next(v for v in p.values if str(v) == choice)
    assert p.low is not None and p.high is not None
    if p.integer:
        return trial.suggest_int(p.path, int(p.low), int(p.high), log=p.log)
    return p.value(trial.suggest_float(p.path, p.low, p.high, log=p.log))


def _study(name: str, storage: str, goals: list[Objective], seed: int) -> optuna.Study:
    sampler: optuna.samplers.BaseSampler
    if len(goals) == 1:
        sampler = optuna.samplers.TPESampler(seed=seed)
    else:
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
    try:
        study = optuna.create_study(
            storage=storage,
            sampler=sampler,
            study_name=name,
            directions=[g.direction for g in goals],
            load_if_exists=True,
        )
    except ValueError as exc:  # e.g. a stored study with other directions
        raise ConfigError(str(exc), path="--storage") from None
    with warnings.catch_warnings():
        # Experimental since Optuna 3.2, unchanged since; named objectives show in
        # optuna-dashboard and in trials_dataframe.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([g.metric for g in goals])
    return study


def _evaluate(
    loaded: list[LoadedScenario],
    bases: list[tuple[str, Configuration]],
    values: dict[str, Value],
    count: int,
    seed: int,
    backend: Backend,
) -> list[pd.DataFrame]:
    """Per scenario: the interval table of the configuration with ``values`` applied."""
    out = []
    for s, (_, base) in zip(loaded, bases, strict=True):
        candidate = with_configurations(
            s, {"candidate": apply(base, values, s.source)}, "candidate"
        )
        rows = replicate(candidate, seed, backend, replications=count, reducer=summary_row)
        out.append(by_configuration(summary_frame(rows)))
    return out


def _aggregate(
    stats: list[pd.DataFrame], how: str, goals: list[Objective], limits: list[Constraint]
) -> dict[str, float]:
    """Objective and constraint metrics over scenarios (mean or worst), with intervals."""
    out: dict[str, float] = {}
    wanted: dict[str, Callable[[list[float]], float]] = {}
    for goal in goals:
        wanted[goal.metric] = goal.worst
    for limit in limits:
        wanted.setdefault(limit.metric, limit.worst)
    for metric, worst in wanted.items():
        rows = [ci[ci["metric"] == metric].iloc[0] for ci in stats]
        for column in ("mean", "ci_low", "ci_high"):
            values = [float(r[column]) for r in rows]
            value = sum(values) / len(values) if how == "mean" else worst(values)
            out[metric if column == "mean" else f"{metric}_{column}"] = value
    return out


def trials_table(
    study: optuna.Study, goals: list[Objective], limits: list[Constraint]
) -> pd.DataFrame:
    """One row per finished trial: parameters, metrics with intervals, feasibility."""
    rows = []
    for trial in study.trials:
        if trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        row: dict[str, Any] = {"trial": trial.number, **trial.user_attrs.get("params", {})}
        row.update(
            {k: v for k, v in trial.user_attrs.items() if k not in ("params", "constraints")}
        )
        row["feasible"] = all(v <= 0 for v in trial.user_attrs.get("constraints", []))
        rows.append(row)
    return pd.DataFrame(rows)


def best_trials(table: pd.DataFrame, goals: list[Objective], top: int) -> pd.DataFrame:
    """The ``top`` feasible trials, best first on the first objective."""
    if table.empty:
        return table
    feasible = table[table["feasible"]]
    first = goals[0]
    return feasible.sort_values(first.metric, ascending=first.direction == "minimize").head(top)


def _fresh(
    loaded: list[LoadedScenario],
    bases: list[tuple[str, Configuration]],
    winner: dict[str, Value],
    count: int,
    seed: int,
    backend: Backend,
) -> pd.DataFrame:
    """The winner and the base configuration on seeds the search never saw, per scenario:
    intervals and the paired difference winner − base (no winner's curse)."""
    frames = []
    for s, (_, base) in zip(loaded, bases, strict=True):
        both = {"base": base, "tuned": apply(base, winner, s.source)}
        rows = replicate(
            with_configurations(s, both, "base"), seed, backend, replications=count,
            reducer=summary_row,
        )  # fmt: skip
        summary = summary_frame(rows)
        ci = by_configuration(summary).assign(kind="interval")
        diff = paired_differences(summary, "base").assign(kind="tuned − base")
        frames.append(pd.concat([ci, diff], ignore_index=True).assign(scenario=s.scenario.name))
    return pd.concat(frames, ignore_index=True)


def _write(
    directory: Path,
    loaded: list[LoadedScenario],
    bases: list[tuple[str, Configuration]],
    study: optuna.Study,
    table: pd.DataFrame,
    best: pd.DataFrame,
    winner: dict[str, Value],
    fresh: pd.DataFrame,
    goals: list[Objective],
    limits: list[Constraint],
) -> None:
    """trials.csv, best_trials.csv, winner_fresh_seeds.csv, policy.yaml (and the tuned
    breaker in the policies' layout, the Pareto plot), each placed atomically."""
    with placing(directory) as placer:
        for name, frame in [
            ("trials.csv", table),
            ("best_trials.csv", best),
            ("winner_fresh_seeds.csv", fresh),
        ]:
            placer.csv(name, frame, "%.6g")
        for name, text in _policies(bases, loaded, winner, goals, limits).items():
            placer.text(name, text)
        if len(goals) == 2 and not table.empty:
            fig = sweep_plots.pareto(table, goals[0].metric, goals[1].metric, best_first=best)
            placer.place("pareto.png", lambda p: plots.save(fig, p))


def _policies(
    bases: list[tuple[str, Configuration]],
    loaded: list[LoadedScenario],
    winner: dict[str, Value],
    goals: list[Objective],
    limits: list[Constraint],
) -> dict[str, str]:
    """policy.yaml, ready to paste under ``configurations:``, and breaker_policy.yaml when
    the payment breaker has a preset: file name to text."""
    files = {}
    base_name, base = bases[0]
    tuned = apply(base, winner, loaded[0].source)
    policy = tuned.model_dump(mode="json", exclude_defaults=True, exclude={"description"})
    header = [
        f"# Tuned by breakerlab tune from {base_name!r} of "
        + ", ".join(s.scenario.name for s in loaded),
        "# objectives: " + ", ".join(f"{g.metric} ({g.direction})" for g in goals),
        "# constraints: " + (", ".join(map(str, limits)) or "none"),
        "# re-evaluated on fresh seeds: see winner_fresh_seeds.csv",
        "# paste under `configurations:` in a scenario:",
    ]
    body = yaml.safe_dump({"tuned": policy}, sort_keys=False)
    files["policy.yaml"] = "\n".join(header) + "\n" + body
    breaker = tuned.payment.breaker
    preset = getattr(breaker, "preset", None)
    if breaker is not None and preset is not None:
        # The tuned payment breaker in the layout of models/policies/<library>.yaml.
        defaults = breaker.model_dump(mode="json", exclude={"preset"})
        text = (
            f"# The {preset} breaker of {base_name!r}, tuned by breakerlab tune; the layout of "
            "models/policies/*.yaml\n"
            + yaml.safe_dump({"library": preset, "defaults": defaults}, sort_keys=False)
        )
        files["breaker_policy.yaml"] = text
    return files


def _redact(storage: str) -> str:
    """A storage URL without its password."""
    return storage.split("@")[-1] if "@" in storage else storage
