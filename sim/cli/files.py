"""The commands that read and write files without simulating: validate, schema, init,
calibrate, export and import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.options import AllowLarge, ExportFormat, ImportFormat
from sim.cli.program import app
from sim.terminal import ManPage, Session, complain, say, warn


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
