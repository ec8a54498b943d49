"""``breakerlab sweep`` as a library call: a grid or Latin hypercube of parameter values
applied to one configuration, every point run with common random numbers, one tidy table
and plots of the metrics over the parameters with their intervals."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis import by_configuration, summarize
from sim.analysis.stats import paired_differences
from sim.config import LoadedScenario, load_scenario
from sim.config.scenario import Configuration
from sim.errors import ConfigError
from sim.experiment import Executor, RunStore, replicate
from sim.experiment.params import Param, apply, grid, latin_hypercube, parse_param, point_name
from sim.experiment.params import read as read_param
from sim.experiment.runner import Progress
from sim.report import plots, sweep_plots
from sim.report.journal import dumps, versions
from sim.report.runs import new_directory, now

PLOTTED = ("revenue_lost", "revenue_lost_pct", "checkout_p99_s", "breaker_trips")


@dataclass(frozen=True)
class SweepOutput:
    directory: Path
    table: pd.DataFrame  # tidy: configuration, parameters..., metric, mean, ci_low, ...
    points: int


def base_configuration(loaded: LoadedScenario, name: str | None) -> tuple[str, Configuration]:
    """The configuration a sweep or study changes: ``name``, else the scenario's baseline."""
    configurations = loaded.scenario.configurations
    chosen = name or loaded.scenario.baseline_configuration
    if chosen not in configurations:
        hint = difflib.get_close_matches(chosen, list(configurations), n=1)
        suffix = f"; did you mean {hint[0]!r}?" if hint else ""
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


def run_sweep(
    path: str | Path,
    params: Sequence[str],
    *,
    lhs: int | None = None,
    configuration: str | None = None,
    replications: int | None = None,
    seed: int | None = None,
    out: str | Path = "reports",
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    progress: Progress | None = None,
) -> SweepOutput:
    """Run every point of the sweep and write ``sweep.csv``, plots and ``journal.json``."""
    loaded = load_scenario(path)
    if not params:
        raise ConfigError("give at least one --param PATH=VALUES", path="--param")
    parsed: list[Param] = [parse_param(p) for p in params]
    seed = loaded.scenario.seed if seed is None else seed
    points = latin_hypercube(parsed, lhs, seed) if lhs else grid(parsed)
    base_name, base = base_configuration(loaded, configuration)
    configurations = {base_name: base}
    by_name: dict[str, dict[str, float]] = {}
    for point in points:
        name = point_name(point)
        if name in configurations:
            continue  # an LHS of integers may draw a point twice, or the base itself
        configurations[name] = apply(base, point, loaded.source)
        by_name[name] = {p: read_param(configurations[name], p) for p in point}
    by_name[base_name] = {p.path: read_param(base, p.path) for p in parsed}
    sweep = with_configurations(loaded, configurations, base_name)
    count = replications or loaded.scenario.replications
    with Executor(
        workers, scheduler=scheduler, dask_local=dask_local, jobs_hint=count * len(configurations)
    ) as backend:
        directory = new_directory(Path(out) / f"{loaded.scenario.name}-sweep", seed)
        store = RunStore(directory)
        started = now()
        store.create(
            {"loaded": sweep.model_dump(mode="json"), "settings": {"seed": seed}, "sweep": params}
        )
        results = replicate(
            sweep, seed, backend, replications=count, store=store, progress=progress
        )
        backend_name = backend.name
    summary = summarize(results)
    table = tidy(summary, by_name, base_name)
    summary.to_csv(directory / "summary.csv", index=False, float_format="%.6f")
    table.to_csv(directory / "sweep.csv", index=False, float_format="%.6g")
    images = draw(table, [p.path for p in parsed], bool(lhs), directory)
    record = {
        "scenario": loaded.scenario.model_dump(mode="json"),
        "source": loaded.source,
        "base_configuration": base_name,
        "params": list(params),
        "lhs": lhs,
        "points": {name: values for name, values in by_name.items()},
        "seeds": {"seed": seed, "replications": list(range(count))},
        "started": started,
        "finished": now(),
        "backend": backend_name,
        "versions": versions(),
    }
    (directory / "journal.json").write_text(dumps(record), encoding="utf-8")
    lines = [f"# Sweep of {base_name} in {loaded.scenario.name}", ""]
    lines += [f"{len(configurations) - 1} points x {count} replications; parameters:", ""]
    lines += [f"- `{p}`" for p in params] + ["", "`sweep.csv`: one row per point and metric.", ""]
    lines += [f"![{name}]({name})" for name in images]
    (directory / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return SweepOutput(directory, table, len(configurations) - 1)


def tidy(summary: pd.DataFrame, points: dict[str, dict[str, float]], base: str) -> pd.DataFrame:
    """One row per point and metric: the parameters' values (as validated: seconds,
    percent...), mean and interval, and the paired difference with the base configuration."""
    ci = by_configuration(summary)
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


def draw(table: pd.DataFrame, params: list[str], sampled: bool, directory: Path) -> list[str]:
    """Plots of the main metrics over the parameters; file names written."""
    points = table[~table["is_base"]]
    names = []
    for metric in PLOTTED:
        if metric not in set(points["metric"]):
            continue
        if sampled or len(params) > 2:
            fig = sweep_plots.scatter(points, params, metric)
        elif len(params) == 2:
            fig = sweep_plots.heatmap(points, params[0], params[1], metric)
        else:
            fig = sweep_plots.lines(points, params[0], metric)
        name = f"sweep_{metric}.png"
        plots.save(fig, directory / name)
        names.append(name)
        if len(params) == 2 and not sampled:
            name = f"sweep_{metric}_lines.png"
            plots.save(
                sweep_plots.lines(points, params[0], metric, group=params[1]), directory / name
            )
            names.append(name)
    return names
