"""Command line: parse arguments, call one library function, map errors to exit codes.

Exit codes: 0 success; 1 a steady-state hypothesis failed; 2 bad input (file, line and
field named); 3 a run broke an invariant or failed internally; 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.config import LoadedScenario, load_any
from sim.config.schema import write_schemas
from sim.errors import BreakerlabError, ConfigError
from sim.report.runs import rebuild_report, run_scenario
from sim.report.sweep import run_sweep
from sim.report.tables import differences, headline
from sim.report.tune import run_tune

app = typer.Typer(
    help="breakerlab: what a circuit breaker policy costs or saves, before production.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Wide enough for the results table when output goes to a file or CI log.
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)


def _fail(exc: BreakerlabError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


@contextmanager
def _running(
    label: str, total: int | None, interrupted: Callable[[], str]
) -> Iterator[Callable[..., None]]:
    """A progress bar for a long command, and its errors mapped to exit codes: bad input
    2, internal 3, Ctrl-C 130 with ``interrupted()`` printed."""
    try:
        with Progress(*_progress_columns(), console=err, transient=True) as bar:
            task = bar.add_task(label, total=total)

            def progress(done: int, total: int, what: str | None = None) -> None:
                text = f"done {what}" if what else label
                bar.update(task, completed=done, total=total, description=text)

            yield progress
    except BreakerlabError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        err.print(interrupted(), markup=False, soft_wrap=True)
        raise typer.Exit(130) from None


def _progress_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )


def _print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Metrics down, configurations across: readable at 80 columns."""
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    for row in rows:
        table.add_column(row[0], justify="right")
    for i, metric in enumerate(header[1:], 1):
        table.add_row(metric, *(row[i] for row in rows))
    out.print(table)


@app.command()
def run(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario YAML file (not with --resume)")
    ] = None,
    replications: Annotated[int | None, typer.Option(min=1, help="override the scenario's")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="override the scenario's")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="reports root")] = Path("reports"),
    workers: Annotated[
        int | None, typer.Option(min=1, help="processes (default: all cores)")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="configuration to compare with (default: scenario's)")
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(help="replicate until the 95 % half-width is below this: '5%' or 0.5"),
    ] = None,
    precision_metric: Annotated[
        str | None, typer.Option(help="metric --precision applies to (default revenue_lost)")
    ] = None,
    max_replications: Annotated[
        int | None, typer.Option(min=2, help="cap for --precision (default 50)")
    ] = None,
    warmup: Annotated[
        str | None, typer.Option(help="override the scenario's warm-up, e.g. 10m")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786")
    ] = None,
    dask_local: Annotated[
        int | None, typer.Option(min=1, help="start a local Dask cluster of N workers")
    ] = None,
    resume: Annotated[Path | None, typer.Option(help="finish an interrupted run directory")] = None,
    strict: Annotated[bool, typer.Option(help="exit 1 on an inconclusive hypothesis too")] = False,
) -> None:
    """Run every configuration of SCENARIO and write a report under --out.

    Exits 1 when a steady-state hypothesis fails (its whole interval misses).
    """
    started: list[Path] = []

    def interrupted() -> str:
        if not started:
            return "interrupted: nothing written"
        return (
            "interrupted: finished runs are saved; complete them with "
            f"breakerlab run --resume {started[0]}"
        )

    with _running("simulating", None, interrupted) as progress:
        result = run_scenario(
            scenario,
            replications=replications,
            seed=seed,
            out=out_dir,
            workers=workers,
            progress=progress,
            baseline=baseline,
            precision=precision,
            precision_metric=precision_metric,
            max_replications=max_replications,
            warmup=warmup,
            scheduler=scheduler,
            dask_local=dask_local,
            resume=resume,
            on_start=started.append,
        )
    if not result.differences.empty:
        _print_table(
            f"paired difference with {result.baseline} [95 % interval]; *: excludes 0",
            *differences(result.differences),
        )
    _print_table("mean ± 95 % interval half-width", *headline(result.ci))
    for verdict in result.verdicts:
        out.print(verdict.describe(), markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"report: {result.directory / 'report.md'}", markup=False, highlight=False, soft_wrap=True
    )
    page = result.directory / "report.html"
    out.print(f"html: {page}", markup=False, highlight=False, soft_wrap=True)
    inconclusive = any(v.outcome == "inconclusive" for v in result.verdicts)
    if result.failed or (strict and inconclusive):
        raise typer.Exit(1)


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    param: Annotated[
        list[str],
        typer.Option(
            help="PATH=start:stop:count, PATH=a,b,c, or PATH=low:high with --lhs; repeatable"
        ),
    ],
    lhs: Annotated[
        int | None, typer.Option(min=2, help="N Latin-hypercube points instead of a grid")
    ] = None,
    configuration: Annotated[
        str | None, typer.Option(help="configuration to vary (default: the baseline)")
    ] = None,
    replications: Annotated[int | None, typer.Option(min=1, help="override the scenario's")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="override the scenario's")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="reports root")] = Path("reports"),
    workers: Annotated[
        int | None, typer.Option(min=1, help="processes (default: all cores)")
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    dask_local: Annotated[int | None, typer.Option(min=1, help="local Dask workers")] = None,
) -> None:
    """Run a grid (or Latin hypercube) of parameter values on one configuration."""
    with _running("simulating", None, lambda: "interrupted") as progress:
        result = run_sweep(
            scenario,
            param,
            lhs=lhs,
            configuration=configuration,
            replications=replications,
            seed=seed,
            out=out_dir,
            workers=workers,
            scheduler=scheduler,
            dask_local=dask_local,
            progress=progress,
        )
    shown = result.table[result.table["metric"].isin(["revenue_lost_pct", "checkout_p99_s"])]
    table = Table(title=f"{result.points} points: mean [95 % interval]", title_justify="left")
    for column in ("configuration", "metric", "mean", "interval"):
        table.add_column(column)
    for row in shown.itertuples(index=False):
        table.add_row(
            str(row.configuration),
            str(row.metric),
            f"{row.mean:.4g}",
            f"[{row.ci_low:.4g}, {row.ci_high:.4g}]",
        )
    out.print(table)
    out.print(
        f"results: {result.directory / 'sweep.csv'}", markup=False, highlight=False, soft_wrap=True
    )


@app.command()
def tune(
    scenario: Annotated[
        list[Path] | None, typer.Argument(help="scenario files or directories")
    ] = None,
    also: Annotated[
        list[Path] | None, typer.Option("--scenario", help="more scenarios (repeatable)")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option(help="PATH=LOW:HIGH[:log] or PATH=a,b,c; repeatable")
    ] = None,
    objective: Annotated[
        list[str] | None, typer.Option(help="metric to minimise (METRIC:max); two for Pareto")
    ] = None,
    constraint: Annotated[
        list[str] | None, typer.Option(help="e.g. 'checkout_p99_s<2'; repeatable")
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Optuna trials")] = 20,
    aggregate: Annotated[str, typer.Option(help="across scenarios: mean or worst")] = "mean",
    configuration: Annotated[
        str | None, typer.Option(help="configuration to tune (default: each baseline)")
    ] = None,
    replications: Annotated[int | None, typer.Option(min=1, help="per trial and scenario")] = None,
    fresh_replications: Annotated[
        int | None, typer.Option(min=2, help="re-evaluation of the winner on fresh seeds")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="override the scenario's")] = None,
    storage: Annotated[
        str | None, typer.Option(help="Optuna storage URL (default: SQLite under --out)")
    ] = None,
    study_name: Annotated[str | None, typer.Option(help="default: tune-<scenarios>")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="reports root")] = Path("reports"),
    workers: Annotated[
        int | None, typer.Option(min=1, help="processes (default: all cores)")
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    dask_local: Annotated[int | None, typer.Option(min=1, help="local Dask workers")] = None,
) -> None:
    """Tune parameters of a configuration with Optuna against one or several scenarios."""
    interrupted = "interrupted: finished trials are in the study storage"
    with _running("trials", trials, lambda: interrupted) as progress:
        if aggregate not in ("mean", "worst"):
            raise ConfigError(f"expected mean or worst, got {aggregate!r}", path="--aggregate")
        result = run_tune(
            [*(scenario or []), *(also or [])],
            param or [],
            objectives=objective or ["revenue_lost"],
            constraints=constraint or [],
            trials=trials,
            aggregate="worst" if aggregate == "worst" else "mean",
            configuration=configuration,
            replications=replications,
            fresh_replications=fresh_replications,
            seed=seed,
            storage=storage,
            study_name=study_name,
            out=out_dir,
            workers=workers,
            scheduler=scheduler,
            dask_local=dask_local,
            progress=progress,
        )
    out.print(f"winner: {result.winner}", markup=False, highlight=False, soft_wrap=True)
    diff = result.fresh[result.fresh["kind"] == "tuned − base"]
    for row in diff[diff["metric"].isin(["revenue_lost", "checkout_p99_s"])].itertuples():
        out.print(
            f"fresh seeds, {row.scenario}: tuned − base {row.metric} = {row.mean:+.4g} "
            f"[{row.ci_low:+.4g}, {row.ci_high:+.4g}]",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    out.print(f"policy: {result.directory / 'policy.yaml'}", markup=False, soft_wrap=True)


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="a run directory, reports/<scenario>/<run-id>")],
) -> None:
    """Rebuild report.md, report.html and the figures of a run from its stored results."""
    try:
        page = rebuild_report(directory)
    except BreakerlabError as exc:
        raise _fail(exc) from None
    out.print(
        f"report: {page.with_name('report.md')}", markup=False, highlight=False, soft_wrap=True
    )
    out.print(f"html: {page}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario or model YAML files")],
) -> None:
    """Check scenario or model files without running anything."""
    failed: BreakerlabError | None = None
    for file in files:
        try:
            loaded = load_any(file)
        except BreakerlabError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            failed = exc
            continue
        if isinstance(loaded, LoadedScenario):
            what = (
                f"scenario {loaded.scenario.name!r}: model {loaded.shop.name!r}, "
                f"{len(loaded.scenario.faults)} fault(s), "
                f"{len(loaded.scenario.configurations)} configuration(s)"
            )
        else:
            what = f"model {loaded.name!r}: {len(loaded.dependencies)} dependencies"
        out.print(f"ok: {file}: {what}", markup=False, highlight=False, soft_wrap=True)
    if failed is not None:
        raise typer.Exit(failed.exit_code)


@app.command()
def schema(
    out_dir: Annotated[Path, typer.Option("--out", help="directory for the schema files")] = Path(
        "schemas"
    ),
) -> None:
    """Write JSON Schema for scenario and model files (for editor completion)."""
    for path in write_schemas(out_dir):
        out.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
