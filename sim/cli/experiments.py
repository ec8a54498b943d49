"""The commands that simulate: run, sweep, tune, and report (a run's report again)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.options import (
    Aggregate,
    AggregateOver,
    AllowLarge,
    AsJson,
    Baseline,
    Configuration,
    DaskLocal,
    Finalists,
    FreshReplications,
    Indifference,
    Lhs,
    MaxReplications,
    MoreScenarios,
    Objective,
    OutDir,
    PrecisionMetric,
    PrecisionTarget,
    Quiet,
    Replications,
    ResumeRun,
    ResumeSweep,
    ScenarioArgument,
    Scheduler,
    SearchReplications,
    Seed,
    SelectionBudget,
    Storage,
    Strict,
    StudyName,
    SweepConstraints,
    SweepParams,
    Trials,
    TrustCode,
    TuneConstraints,
    TunedConfiguration,
    TuneObjectives,
    TuneParams,
    TuneScenarios,
    Warmup,
    Workers,
)
from sim.cli.program import app
from sim.terminal import ManPage, Session, say
from sim.views import show_run, show_tune, sweep_table


@app.command(cls=ManPage)
def run(
    scenario: ScenarioArgument = None,
    replications: Replications = None,
    seed: Seed = None,
    out_dir: OutDir = Path("reports"),
    workers: Workers = None,
    baseline: Baseline = None,
    precision: PrecisionTarget = None,
    precision_metric: PrecisionMetric = None,
    max_replications: MaxReplications = None,
    warmup: Warmup = None,
    objective: Objective = None,
    indifference: Indifference = None,
    scheduler: Scheduler = None,
    dask_local: DaskLocal = None,
    resume: ResumeRun = None,
    strict: Strict = False,
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
    param: SweepParams = None,
    lhs: Lhs = None,
    configuration: Configuration = None,
    replications: Replications = None,
    seed: Seed = None,
    objective: Objective = None,
    indifference: Indifference = None,
    constraint: SweepConstraints = None,
    out_dir: OutDir = Path("reports"),
    workers: Workers = None,
    scheduler: Scheduler = None,
    dask_local: DaskLocal = None,
    resume: ResumeSweep = None,
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
    scenario: TuneScenarios = None,
    also: MoreScenarios = None,
    param: TuneParams = None,
    objective: TuneObjectives = None,
    constraint: TuneConstraints = None,
    trials: Trials = 20,
    aggregate: AggregateOver = Aggregate.mean,
    configuration: TunedConfiguration = None,
    replications: SearchReplications = None,
    indifference: Indifference = None,
    selection_budget: SelectionBudget = None,
    finalists: Finalists = 4,
    fresh_replications: FreshReplications = None,
    seed: Seed = None,
    storage: Storage = None,
    study_name: StudyName = None,
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
