"""``breakerlab sweep`` as a library call: a grid or Latin hypercube of parameter values
applied to one configuration, every point run with common random numbers, one tidy table
and plots of the metrics over the parameters with their intervals.

Each run is reduced to its summary row in the worker (no per-order rows travel or are
kept) and stored as it finishes, so ``resume`` finishes an interrupted sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import by_configuration
from sim.analysis.pareto import feasible, pareto_front, pick_setting, sweep_points
from sim.analysis.stats import paired_differences
from sim.analysis.summary import summary_frame, summary_row
from sim.app.journal import dumps, versions
from sim.app.pictures import Picture, pareto
from sim.app.rundir import new_directory, now, placing
from sim.app.settings import scenario_of
from sim.config import LoadedScenario
from sim.config.scenario import Configuration
from sim.errors import ConfigError
from sim.experiment import Executor, RunStore, replicate
from sim.experiment.manifest import scenario_from_record, scenario_record
from sim.experiment.params import Param, apply, grid, latin_hypercube, parse_param, point_name
from sim.experiment.params import read as read_param
from sim.experiment.runner import Progress
from sim.experiment.variants import base_configuration, with_configurations
from sim.report import plots, sweep_plots

PLOTTED = ("revenue_lost", "revenue_lost_pct", "checkout_p99_s", "breaker_trips")


@dataclass(frozen=True)
class SweepOutput:
    """The sweep's directory, its tidy table (configuration, parameters..., is_base,
    metric, mean, ci_low, ci_high, replications, diff_mean, diff_ci_low, diff_ci_high),
    the number of points and the plots written."""

    directory: Path
    table: pd.DataFrame
    points: int
    images: list[Path]
    params: list[str]  # the parameters' paths

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
        """The points with ``pareto`` and ``feasible`` (the budget met on the whole
        interval) columns, the pick (the lowest mean ``objective`` among feasible points;
        None if there is none) and the Pareto front of the two metrics."""
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
        """What ``breakerlab sweep --json`` prints: the rows of sweep.csv."""
        return {
            "command": "sweep",
            "directory": str(self.directory),
            "points": self.points,
            "table": self.table,
        }


def run_sweep(
    scenario: str | Path | LoadedScenario | None = None,
    params: Sequence[str] = (),
    *,
    lhs: int | None = None,
    configuration: str | None = None,
    replications: int | None = None,
    seed: int | None = None,
    out: str | Path = "reports",
    workers: int | None = None,
    scheduler: Any = None,
    dask_local: int | None = None,
    progress: Progress | None = None,
    resume: str | Path | None = None,
    trust_code: bool = False,
    on_start: Callable[[Path], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> SweepOutput:
    """Run every point of the sweep (or finish the sweep directory ``resume``; with
    ``trust_code`` even one naming breaker classes) and write ``sweep.csv``,
    ``summary.csv``, plots, ``report.md`` and ``journal.json``."""
    if resume is not None:
        store = RunStore(Path(resume))
        manifest = store.manifest("sweep")
        sweep = scenario_from_record(
            manifest["loaded"], str(store.directory), trust_code=trust_code
        )
        settings: dict[str, Any] = manifest["settings"]
        parsed = [parse_param(p) for p in settings["params"]]
    else:
        if scenario is None:
            raise ConfigError("give a scenario file or --resume DIR")
        loaded = scenario_of(scenario)
        if not params:
            raise ConfigError("give at least one --param PATH=VALUES", path="--param")
        parsed = [parse_param(p) for p in params]
        seed = loaded.scenario.seed if seed is None else seed
        base_name, _ = base_configuration(loaded, configuration)
        sweep = _variants(loaded, parsed, lhs, seed, base_name)
        settings = {
            "seed": seed,
            "replications": replications or loaded.scenario.replications,
            "base_configuration": base_name,
            "params": list(params),
            "lhs": lhs,
            "started": now(),
        }
    seed, count = int(settings["seed"]), int(settings["replications"])
    base_name = str(settings["base_configuration"])
    configurations = sweep.scenario.configurations
    by_name = {
        name: {p.path: read_param(config, p.path) for p in parsed}
        for name, config in configurations.items()
    }
    jobs = count * len(configurations)
    with Executor(workers, scheduler=scheduler, dask_local=dask_local, jobs_hint=jobs) as backend:
        if backend.dashboard and notify:
            notify(f"Dask dashboard: {backend.dashboard}")
        if resume is None:
            store = RunStore(new_directory(Path(out) / f"{sweep.scenario.name}-sweep", seed))
            store.create({"kind": "sweep", "loaded": scenario_record(sweep),
                          "settings": settings})  # fmt: skip
        if on_start:
            on_start(store.directory)
        rows = replicate(
            sweep, seed, backend, replications=count, store=store, progress=progress,
            reducer=summary_row,
        )  # fmt: skip
        backend_name = backend.name
    directory = store.directory
    summary = summary_frame(rows)
    table = tidy(summary, by_name, base_name)
    with placing(directory) as placer:
        placer.csv("summary.csv", summary, "%.6f")
        placer.csv("sweep.csv", table, "%.6g")
        images = [
            placer.move_in(path)
            for path in draw(table, [p.path for p in parsed], bool(settings["lhs"]), placer.staging)
        ]
        points = len(configurations) - 1
        lines = [f"# Sweep of {base_name} in {sweep.scenario.name}", ""]
        lines += [f"{points} points x {count} replications; parameters:", ""]
        lines += [f"- `{p}`" for p in settings["params"]]
        lines += ["", "`sweep.csv`: one row per point and metric.", ""]
        lines += [f"![{path.name}]({path.name})" for path in images]
        text = "\n".join(lines) + "\n"
        placer.text("report.md", text)
        record = {
            "scenario": sweep.scenario.model_dump(mode="json"),
            "source": sweep.source,
            "base_configuration": base_name,
            "params": settings["params"],
            "lhs": settings["lhs"],
            "points": by_name,
            "seeds": {"seed": seed, "replications": list(range(count))},
            "started": settings["started"],
            "finished": now(),
            "backend": backend_name,
            "resumed": resume is not None,
            "versions": versions(),
        }
        placer.text("journal.json", dumps(record))
    return SweepOutput(directory, table, points, images, [p.path for p in parsed])


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
        configurations[name] = apply(base, point, loaded.source)
    return with_configurations(loaded, configurations, base_name)


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


def draw(table: pd.DataFrame, params: list[str], sampled: bool, directory: Path) -> list[Path]:
    """Plots of the main metrics over the parameters, written in ``directory``."""
    points = table[~table["is_base"]]
    written = []
    for metric in PLOTTED:
        if metric not in set(points["metric"]):
            continue
        if sampled or len(params) > 2:
            fig = sweep_plots.scatter(points, params, metric)
        elif len(params) == 2:
            fig = sweep_plots.heatmap(points, params[0], params[1], metric)
        else:
            fig = sweep_plots.lines(points, params[0], metric)
        path = directory / f"sweep_{metric}.png"
        plots.save(fig, path)
        written.append(path)
        if len(params) == 2 and not sampled:
            path = directory / f"sweep_{metric}_lines.png"
            plots.save(sweep_plots.lines(points, params[0], metric, group=params[1]), path)
            written.append(path)
    return written
