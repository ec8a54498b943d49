"""Command line: parse arguments, call one library function, map errors to exit codes.

Exit codes: 0 success; 1 a steady-state hypothesis failed; 2 bad input or an I/O problem
(file, line and field, or the path, named on one line); 3 a run broke one of its own
invariants; 4 an internal error (a bug: one line, the traceback written to a file);
130 interrupted.

Start-up stays fast (``--help`` and completion): the simulator, pandas, matplotlib, Optuna
and Dask are imported inside the commands that use them, never at module level.

A new command is a function under ``@app.command(cls=ManPage)`` that imports its workflow inside
``with Session().guard():`` (or ``session.running(...)`` for a progress bar) and prints
what it returns; the exit codes above then come with it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sim.terminal import ManPage, OneLineErrors, Session, complain, say, warn
from sim.views import show_run, show_tune, sweep_table

app = typer.Typer(
    help="breakerlab: what a circuit breaker policy costs or saves, before production.",
    no_args_is_help=True,
    # Plain help, as a man page reads: -h too, wrapped at 80 columns, nothing cut.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 80},
    pretty_exceptions_enable=False,
    add_completion=True,
    cls=OneLineErrors,  # an option error is one line, like every other error
)

# Options shared by run, sweep and tune, declared once.
Replications = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="override the scenario's")
]
Seed = Annotated[int | None, typer.Option(min=0, metavar="N", help="override the scenario's")]
OutDir = Annotated[
    Path,
    typer.Option(
        "--out", metavar="DIR", help="reports root: the report goes in a new folder under it"
    ),
]
Workers = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="processes (default: all cores)")
]
Scheduler = Annotated[
    str | None,
    typer.Option(metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786"),
]
DaskLocal = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="start a local Dask cluster of N")
]
Configuration = Annotated[
    str | None, typer.Option(metavar="NAME", help="configuration to vary (default: the baseline)")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar, no tables")]
AsJson = Annotated[
    bool, typer.Option("--json", help="only the results, as one JSON document on stdout")
]
Objective = Annotated[
    str | None,
    typer.Option(
        metavar="METRIC",
        help="metric the decision is made on, METRIC or METRIC:max [default: revenue_lost]",
    ),
]
Indifference = Annotated[
    str | None,
    typer.Option(
        metavar="AMOUNT",
        help="δ, the smallest difference worth acting on: a share of the base's mean "
        "('2%') or an amount in the metric's unit (500, 200ms) [default: 2%]",
    ),
]
TrustCode = Annotated[
    bool,
    typer.Option(
        "--trust-code", help="with --resume: import the breaker classes the directory names"
    ),
]
AllowLarge = Annotated[
    bool,
    typer.Option(
        "--allow-large", help="run even when the size estimate exceeds this machine's memory"
    ),
]
ScenarioArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="SCENARIO", help="scenario YAML file or shipped scenario name (not with --resume)"
    ),
]


class Aggregate(StrEnum):
    """How tuning combines a trial's results over several scenarios."""

    mean = "mean"
    worst = "worst"


def _version(value: bool) -> None:
    if value:
        from sim.version import __version__

        typer.echo(f"breakerlab {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """breakerlab: what a circuit breaker policy costs or saves, before production."""


@app.command(cls=ManPage)
def run(
    scenario: ScenarioArgument = None,
    replications: Replications = None,
    seed: Seed = None,
    out_dir: OutDir = Path("reports"),
    workers: Workers = None,
    baseline: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="configuration to compare with (default: scenario's)"),
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(
            metavar="TARGET", help="replicate until the 95 % half-width is below this: '5%' or 0.5"
        ),
    ] = None,
    precision_metric: Annotated[
        str | None,
        typer.Option(metavar="METRIC", help="metric --precision applies to (default revenue_lost)"),
    ] = None,
    max_replications: Annotated[
        int | None, typer.Option(min=2, metavar="N", help="cap for --precision (default 50)")
    ] = None,
    warmup: Annotated[
        str | None,
        typer.Option(metavar="DURATION", help="override the scenario's warm-up, e.g. 10m"),
    ] = None,
    objective: Objective = None,
    indifference: Indifference = None,
    scheduler: Scheduler = None,
    dask_local: DaskLocal = None,
    resume: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="finish an interrupted run directory (no SCENARIO)"),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="exit 1 on an inconclusive hypothesis too")
    ] = False,
    trust_code: TrustCode = False,
    allow_large: AllowLarge = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Run every configuration of SCENARIO and write a report under --out.

    Ends with a recommendation: the configuration to pick against the baseline, only when
    it beats it by more than --indifference with every comparison accounted for. Exits 1
    when a steady-state hypothesis fails (its whole interval misses).
    """
    session = Session(
        quiet=quiet,
        as_json=as_json,
        interrupted="interrupted: finished runs are saved; complete them with "
        "breakerlab run --resume {directory}",
    )
    with session.running("simulating") as progress:
        from sim.app.run import run_scenario

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
            objective=objective,
            indifference=indifference,
            scheduler=scheduler,
            dask_local=dask_local,
            resume=resume,
            trust_code=trust_code,
            allow_large=allow_large,
            on_start=session.started,
            notify=session.notify,
        )
    if session.as_json:
        session.emit(result.to_json())
    else:
        with session.guard():
            show_run(result, tables=not session.quiet)
    if result.failed or (strict and result.inconclusive):
        raise typer.Exit(1)


@app.command(cls=ManPage)
def sweep(
    scenario: ScenarioArgument = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PATH=VALUES",
            help="PATH=start:stop:count, PATH=a,b,c, or PATH=low:high with --lhs; repeatable",
        ),
    ] = None,
    lhs: Annotated[
        int | None,
        typer.Option(min=2, metavar="N", help="N Latin-hypercube points instead of a grid"),
    ] = None,
    configuration: Configuration = None,
    replications: Replications = None,
    seed: Seed = None,
    objective: Objective = None,
    indifference: Indifference = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option(
            metavar="CHECK",
            help="a pick must meet it on its whole interval, e.g. 'checkout_p99_s<2'",
        ),
    ] = None,
    out_dir: OutDir = Path("reports"),
    workers: Workers = None,
    scheduler: Scheduler = None,
    dask_local: DaskLocal = None,
    resume: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="finish an interrupted sweep directory (no SCENARIO)"),
    ] = None,
    trust_code: TrustCode = False,
    allow_large: AllowLarge = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Run a grid (or Latin hypercube) of parameter values on one configuration.

    Ends with a decision: the best point, the region of settings that cannot be told apart
    from it within --indifference, the points to avoid, and whether to adopt the best over
    the base, with every comparison accounted for.
    """
    session = Session(
        quiet=quiet,
        as_json=as_json,
        interrupted="interrupted: finished runs are saved; complete them with "
        "breakerlab sweep --resume {directory}",
    )
    with session.running("simulating") as progress:
        from sim.app.sweep import run_sweep

        result = run_sweep(
            scenario,
            param or [],
            lhs=lhs,
            configuration=configuration,
            replications=replications,
            seed=seed,
            objective=objective,
            indifference=indifference,
            constraints=constraint or [],
            out=out_dir,
            workers=workers,
            scheduler=scheduler,
            dask_local=dask_local,
            progress=progress,
            resume=resume,
            trust_code=trust_code,
            allow_large=allow_large,
            on_start=session.started,
            notify=session.notify,
        )
    if session.as_json:
        session.emit(result.to_json())
        return
    with session.guard():
        if not session.quiet:
            sweep_table(result.points, result.table, result.landscape)
        elif result.landscape is not None:
            say(result.landscape.summary_lines()[0])
        say(f"report: {result.directory / 'report.md'}")
        say(f"results: {result.directory / 'sweep.csv'}")


@app.command(cls=ManPage)
def tune(
    scenario: Annotated[
        list[str] | None,
        typer.Argument(metavar="SCENARIO...", help="scenario files, directories or shipped names"),
    ] = None,
    also: Annotated[
        list[str] | None,
        typer.Option("--scenario", metavar="SCENARIO", help="more scenarios (repeatable)"),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(metavar="PATH=VALUES", help="PATH=LOW:HIGH[:log] or PATH=a,b,c; repeatable"),
    ] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option(metavar="METRIC", help="metric to minimise (METRIC:max); two for Pareto"),
    ] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option(metavar="CHECK", help="e.g. 'checkout_p99_s<2'; repeatable"),
    ] = None,
    trials: Annotated[int, typer.Option(min=1, metavar="N", help="Optuna trials")] = 20,
    aggregate: Annotated[
        Aggregate,
        typer.Option(metavar="mean|worst", help="across scenarios: the mean or the worst"),
    ] = Aggregate.mean,
    configuration: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="configuration to tune (default: each baseline)"),
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option(min=1, metavar="N", help="per trial and scenario in the search [default: 1]"),
    ] = None,
    indifference: Indifference = None,
    selection_budget: Annotated[
        int | None,
        typer.Option(
            min=2, metavar="N", help="runs for the selection stage [default: 50 per scenario]"
        ),
    ] = None,
    finalists: Annotated[
        int, typer.Option(min=1, metavar="N", help="best distinct trials raced against the base")
    ] = 4,
    fresh_replications: Annotated[
        int | None,
        typer.Option(
            min=2, metavar="N", help="the winner against the base on fresh seeds [default: 10]"
        ),
    ] = None,
    seed: Seed = None,
    storage: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Optuna storage URL (default: SQLite under --out)"),
    ] = None,
    study_name: Annotated[
        str | None, typer.Option(metavar="NAME", help="default: tune-<scenarios>")
    ] = None,
    out_dir: OutDir = Path("reports"),
    workers: Workers = None,
    scheduler: Scheduler = None,
    dask_local: DaskLocal = None,
    allow_large: AllowLarge = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Tune parameters of a configuration against one or several scenarios.

    Optuna searches; the best distinct trials and the base then race on new seeds; the
    winner is adopted (policy.yaml) only when, on fresh seeds, it beats the base by more
    than --indifference. Otherwise the base is kept and region.yaml holds the settings
    that cannot be told apart from the best.
    """
    session = Session(
        quiet=quiet,
        as_json=as_json,
        interrupted="interrupted: finished trials are in the study storage; run the same "
        "command again to add trials",
    )
    with session.running("simulation runs", 1) as progress:
        import optuna

        from sim.app.tune import run_tune

        # The program owns its log output: Optuna's per-trial lines would drown the bar.
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        result = run_tune(
            [*(scenario or []), *(also or [])],
            param or [],
            objectives=objective or ["revenue_lost"],
            constraints=constraint or [],
            trials=trials,
            aggregate=aggregate.value,
            configuration=configuration,
            replications=replications,
            indifference=indifference,
            selection_budget=selection_budget,
            finalists=finalists,
            fresh_replications=fresh_replications,
            seed=seed,
            storage=storage,
            study_name=study_name,
            out=out_dir,
            workers=workers,
            scheduler=scheduler,
            dask_local=dask_local,
            allow_large=allow_large,
            progress=progress,
            notify=session.notify,
        )
    if session.as_json:
        session.emit(result.to_json())
        return
    with session.guard():
        show_tune(result)


@app.command(cls=ManPage)
def report(
    directory: Annotated[Path, typer.Argument(help="a run directory, reports/<scenario>/<run-id>")],
) -> None:
    """Rebuild report.md, report.html and the figures of a run from its stored results."""
    session = Session()
    session.started(directory)
    with session.guard():
        from sim.app.run import rebuild_report

        page = rebuild_report(directory)
    say(f"report: {page.with_name('report.md')}")
    say(f"html: {page}")


@app.command(cls=ManPage)
def validate(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...",
            help="scenario, model or breaker policy YAML files, shipped scenario names, or "
            "directories (every YAML file under them)",
        ),
    ],
    allow_large: AllowLarge = False,
) -> None:
    """Check scenario, model and breaker policy files without running anything."""
    from sim.errors import BreakerlabError

    failed: BreakerlabError | None = None
    with Session().guard():
        from sim.app.validating import validate as check_files

        for result in check_files(files, allow_large=allow_large):
            if isinstance(result, BreakerlabError):
                complain(str(result))
                failed = result
            else:
                say(f"{'skipped' if result.skipped else 'ok'}: {result.path}: {result.text}")
    if failed is not None:
        raise typer.Exit(failed.exit_code)


@app.command(cls=ManPage)
def schema(
    out_dir: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="directory for the schema files")
    ] = Path("schemas"),
) -> None:
    """Write JSON Schema for scenario and model files (for editor completion)."""
    with Session().guard():
        from sim.config.schema import write_schemas

        written = write_schemas(out_dir)
    for path in written:
        say(f"wrote {path}")


@app.command(cls=ManPage)
def init(
    directory: Annotated[Path, typer.Argument(help="where to copy the examples")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="replace examples already there")] = False,
) -> None:
    """Copy the example models, scenarios, policies, traces and notebooks into DIRECTORY.

    Refuses, writing nothing, when DIRECTORY already holds them (--force replaces them).
    """
    with Session().guard():
        from sim.examples import copy_examples

        written = copy_examples(directory, force=force)
    say(f"copied {len(written)} files into {directory}")
    say(f"try: breakerlab run {directory / 'scenarios' / 'flash_sale_gateway_outage.yaml'}")
    say(f"notebooks: {directory / 'notebooks'} (they read ../scenarios and write ../reports)")


class ExportFormat(StrEnum):
    """What ``export`` writes: a staging rehearsal, or a production configuration."""

    chaostoolkit = "chaostoolkit"
    toxiproxy = "toxiproxy"
    resilience4j = "resilience4j"
    dotnet = "dotnet"
    envoy = "envoy"
    istio = "istio"
    hystrix = "hystrix"
    opossum = "opossum"
    cockatiel = "cockatiel"
    pybreaker = "pybreaker"


class ImportFormat(StrEnum):
    """What ``import`` reads."""

    resilience4j = "resilience4j"
    dotnet = "dotnet"
    envoy = "envoy"
    istio = "istio"
    hystrix = "hystrix"
    opossum = "opossum"
    cockatiel = "cockatiel"
    pybreaker = "pybreaker"


@app.command(cls=ManPage)
def calibrate(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="per-call records (.csv) or a Prometheus range query (.json)"),
    ],
    base: Annotated[
        Path | None,
        typer.Option(
            help="model whose dependencies the data replaces [default: the reference shop]"
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="directory [default: reports/calibration/<first input>]")
    ] = None,
    label: Annotated[str, typer.Option(help="Prometheus label naming the dependency")] = (
        "dependency"
    ),
) -> None:
    """Fit dependencies from monitoring exports: write a calibrated model, a steady-state
    scenario that runs it, the fitted fragment, the fit table and QQ plots."""
    with Session().guard():
        from sim.app.calibrate import calibrate as fit

        result = fit(inputs, out=out, base=base, label=label)
    for name, kind in result.fits.items():
        say(f"{name}: latency {kind}")
    for note in result.notes:
        say(f"note: {note}")
    for path in result.written:
        say(f"wrote {path}")


@app.command(cls=ManPage)
def export(
    scenario: Annotated[
        str,
        typer.Argument(help="scenario YAML file, shipped scenario name, or a tune run directory"),
    ],
    configuration: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="the set-up to export (a tune run directory: its winner; toxiproxy: none)",
        ),
    ] = None,
    format: Annotated[ExportFormat, typer.Option(help="what to write")] = (
        ExportFormat.chaostoolkit
    ),
    out: Annotated[
        str,
        typer.Option(
            "--out",
            metavar="DIR",
            help="reports root, as for run: the file goes in DIR/<scenario>-export/ "
            "('-': standard output)",
        ),
    ] = "reports",
    force: Annotated[
        bool, typer.Option("--force", help="replace an export already written there")
    ] = False,
    upstream: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME=HOST:PORT",
            help="where a dependency's Toxiproxy proxy forwards (repeatable)",
        ),
    ] = None,
) -> None:
    """Write a scenario's faults as a Chaos Toolkit experiment (Toxiproxy actions, the
    hypotheses as probes, rollbacks) or as Toxiproxy proxies and toxics JSON; or a
    configuration (or tune's winner) as resilience4j, .NET, Envoy, Istio, Hystrix, opossum,
    cockatiel or pybreaker settings. What a format cannot say is listed, never dropped."""
    with Session().guard():
        from sim.app.export import EXTENSIONS, export_production, export_scenario, parse_upstreams
        from sim.app.inputs import scenario_path

        printed = "-" if out == "-" else None
        root = None if printed else out
        if format.value in EXTENSIONS:
            made = export_production(
                scenario_path(scenario), configuration, format.value, printed,
                root=root, force=force,
            )  # fmt: skip
        else:
            result = export_scenario(
                scenario_path(scenario), configuration or "", format.value, printed,
                parse_upstreams(upstream), root=root, force=force,
            )  # fmt: skip
    if format.value in EXTENSIONS:
        if made.path is None:
            typer.echo(made.text, nl=False)
        else:
            say(f"wrote {made.path}: {made.format}")
        for line in made.unexpressed:
            warn(f"not expressed in {made.format}: {line}")
        for note in made.notes:  # on stderr when stdout carries the export itself
            (warn if made.path is None else say)(f"note: {note}")
        return
    if result.path is None:
        typer.echo(result.text, nl=False)
    else:
        say(f"wrote {result.path}: {result.toxics} toxic(s), {result.format}")
    for fault in result.unmapped:
        warn(f"not exported (no Toxiproxy equivalent): {fault}")
    for note in result.notes:
        (warn if result.path is None else say)(f"note: {note}")


@app.command(name="import", cls=ManPage)
def import_(
    file: Annotated[Path, typer.Argument(help="the production configuration file")],
    format: Annotated[ImportFormat, typer.Option(help="what the file is")],
    instance: Annotated[
        str | None, typer.Option(help="one instance (service, command, cluster) [default: all]")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write here [default: print]")] = None,
) -> None:
    """Read a production resilience configuration (resilience4j application.yml or
    .properties, .NET appsettings.json, Envoy, Istio, Hystrix, opossum, cockatiel or
    pybreaker) and print the breakerlab blocks that mean the same. Keys breakerlab does not
    simulate are listed."""
    with Session().guard():
        from sim.app.importing import import_production

        result = import_production(file, format.value, instance, out)
    if result.path is None:
        typer.echo(result.text, nl=False)
    else:
        say(f"wrote {result.path}: {', '.join(result.instances)}")
    for line in result.ignored:
        warn(f"not simulated (left out): {line}")
    for note in result.notes:
        warn(f"note: {note}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
