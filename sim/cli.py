"""Command line: parse arguments, call one library function, map errors to exit codes.

Exit codes: 0 success; 2 bad input (file, line and field named); 3 a run broke an
invariant or failed internally; 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.config import LoadedScenario, load_any
from sim.config.schema import write_schemas
from sim.errors import BreakerlabError
from sim.report.runs import run_scenario
from sim.report.tables import headline

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


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    replications: Annotated[int | None, typer.Option(min=1, help="override the scenario's")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="override the scenario's")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="reports root")] = Path("reports"),
    workers: Annotated[
        int | None, typer.Option(min=1, help="processes (default: all cores)")
    ] = None,
) -> None:
    """Run every configuration of SCENARIO and write a report under --out."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("simulating", total=None)

            def progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=f"done {label}")

            result = run_scenario(
                scenario,
                replications=replications,
                seed=seed,
                out=out_dir,
                workers=workers,
                progress=progress,
            )
    except BreakerlabError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        err.print("interrupted: nothing written", markup=False)
        raise typer.Exit(130) from None
    header, rows = headline(result.ci)
    table = Table(title="mean ± 95 % interval half-width", title_justify="left")
    table.add_column("metric")
    for row in rows:
        table.add_column(row[0], justify="right")
    for i, metric in enumerate(header[1:], 1):
        table.add_row(metric, *(row[i] for row in rows))
    out.print(table)
    out.print(
        f"report: {result.directory / 'report.md'}", markup=False, highlight=False, soft_wrap=True
    )


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
