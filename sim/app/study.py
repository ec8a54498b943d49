"""The search stage of ``breakerlab tune``: an Optuna study (TPE; NSGA-II for two
objectives) over parameter values of one configuration, each trial run against every
scenario on the same seeds (common random numbers, so trials compare fairly even with one
replication each), its objective the mean or the worst case across scenarios.

The search only proposes: its winner is the best of noisy estimates, so the selection
stage (``sim.app.finalists``) decides between its best trials on seeds it never saw.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd

from sim.analysis import by_configuration
from sim.analysis.objectives import Constraint, Objective
from sim.analysis.summary import summary_frame, summary_row
from sim.config import LoadedScenario
from sim.config.scenario import Configuration
from sim.errors import ConfigError
from sim.experiment import replicate
from sim.experiment.backends import Backend
from sim.experiment.params import Param, Value, apply
from sim.experiment.variants import with_configurations

RunsDone = Callable[[int], None]  # told how many simulation runs just finished


def open_study(name: str, storage: str, goals: list[Objective], seed: int) -> optuna.Study:
    """The study named ``name`` in ``storage``, created or loaded (a second run adds
    trials); its objectives carry their metric names (optuna-dashboard shows them)."""
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
        # Experimental since Optuna 3.2, unchanged since.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([g.metric for g in goals])
    return study


def search(
    study: optuna.Study,
    loaded: list[LoadedScenario],
    bases: list[tuple[str, Configuration]],
    params: list[Param],
    *,
    trials: int,
    replications: int,
    seed: int,
    aggregate: str,
    goals: list[Objective],
    limits: list[Constraint],
    backend: Backend,
    done: RunsDone | None = None,
) -> None:
    """Add ``trials`` trials to ``study``; each runs ``replications`` replications of the
    configuration with the trial's values against every scenario."""

    def objective(trial: optuna.Trial) -> float | tuple[float, ...]:
        values = {p.path: suggest(trial, p) for p in params}
        stats = evaluate(loaded, bases, values, replications, seed, backend)
        if done:
            done(replications * len(loaded))
        agg = aggregate_intervals(stats, aggregate, goals, limits)
        for key, value in agg.items():
            trial.set_user_attr(key, value)
        trial.set_user_attr("params", values)
        violations = [c.violation(agg[c.metric]) for c in limits]
        trial.set_user_attr("constraints", violations)
        for limit, violation in zip(limits, violations, strict=True):
            trial.set_constraint(str(limit), violation)  # read by TPE and NSGA-II
        scores = tuple(agg[g.metric] for g in goals)
        return scores[0] if len(scores) == 1 else scores

    study.optimize(objective, n_trials=trials)


def suggest(trial: optuna.Trial, p: Param) -> Value:
    """The trial's value of one parameter: categorical for a list, else a range."""
    if not p.is_range:
        choice = trial.suggest_categorical(p.path, [str(v) for v in p.values])
        return next(v for v in p.values if str(v) == choice)
    assert p.low is not None and p.high is not None
    if p.integer:
        return trial.suggest_int(p.path, int(p.low), int(p.high), log=p.log)
    return p.value(trial.suggest_float(p.path, p.low, p.high, log=p.log))


def evaluate(
    loaded: list[LoadedScenario],
    bases: list[tuple[str, Configuration]],
    values: dict[str, Value],
    count: int,
    seed: int,
    backend: Backend,
) -> list[pd.DataFrame]:
    """Per scenario: the interval table of the configuration with ``values`` applied (no
    interval, NaN ends, from a single replication)."""
    out = []
    for s, (_, base) in zip(loaded, bases, strict=True):
        candidate = with_configurations(
            s, {"candidate": apply(base, values, s.source)}, "candidate"
        )
        rows = replicate(candidate, seed, backend, replications=count, reducer=summary_row)
        ci = by_configuration(summary_frame(rows))
        if count < 2:
            ci = ci.assign(ci_low=math.nan, ci_high=math.nan)
        out.append(ci)
    return out


def aggregate_intervals(
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


def trials_table(study: optuna.Study) -> pd.DataFrame:
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


def spread_out(ranked: pd.DataFrame, params: Sequence[Param], count: int) -> pd.DataFrame:
    """``count`` trials of ``ranked`` (best first): the best one, then, among the better
    half, each time the trial farthest from those already taken (parameters scaled to
    their ranges, log ranges in logs). In a flat landscape the better half is spread
    everywhere, so the finalists span it and the equivalent region shows its extent; where
    one area is better, the better half lies in it."""
    if len(ranked) <= count:
        return ranked
    pool = ranked.head(max(count, math.ceil(len(ranked) / 2)))
    scaled = np.column_stack([_scaled(pool[p.path], p) for p in params])
    taken = [0]
    while len(taken) < count:
        gaps = np.min(np.abs(scaled[:, None, :] - scaled[None, taken, :]).sum(axis=2), axis=1)
        gaps[taken] = -1.0
        taken.append(int(np.argmax(gaps)))
    return pool.iloc[taken]


def _scaled(values: pd.Series, p: Param) -> np.ndarray:
    """A parameter's values in [0, 1] over its range; a list's values as categories."""
    if not p.is_range or p.low is None or p.high is None:
        codes = np.asarray(pd.Categorical(values.astype(str)).codes, dtype=float)
        categories: np.ndarray = codes / max(float(codes.max()), 1.0)
        return categories
    numbers = np.asarray([p_number(v) for v in values], dtype=float)
    low, high = p.low, p.high
    if p.log:
        numbers, low, high = np.log(numbers), math.log(low), math.log(high)
    scaled: np.ndarray = (numbers - low) / (high - low) if high > low else numbers * 0.0
    return scaled


def p_number(value: Any) -> float:
    """A suggested value as a number in its parameter's unit (``12.8s`` -> 12.8)."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    number = text.rstrip("abcdefghijklmnopqrstuvwxyzµ%/")
    return float(number)


def best_trials(table: pd.DataFrame, goals: Sequence[Objective], top: int) -> pd.DataFrame:
    """The ``top`` feasible trials with distinct parameter values, best first on the first
    objective (a trial repeating an earlier one's values adds nothing to choose from)."""
    if table.empty:
        return table
    feasible = table[table["feasible"]]
    first = goals[0]
    ranked = feasible.sort_values(first.metric, ascending=first.direction == "minimize")
    params = [c for c in ranked.columns if "." in str(c)]
    if params:
        ranked = ranked.drop_duplicates(subset=params)
    return ranked.head(top)
