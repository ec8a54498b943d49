"""The ``breakerlab`` program: its help, ``--version``, and the one-line errors every
command shares. The commands register on ``app`` in sim/cli/experiments.py and files.py."""

from __future__ import annotations

from typing import Annotated

import typer

from sim.terminal import OneLineErrors

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
