"""The CLI's terminal: stdout and stderr consoles made on first use, a command's output
mode (``--quiet``, ``--json``), and every failure mapped to its exit code with one line on
stderr and no traceback. ``sim.cli`` holds the commands; this module holds what they share.
"""

from __future__ import annotations

import logging
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer >= 0.20 parses with its own copy of click, and raises its exceptions
    from typer._click import exceptions as usage
except ImportError:  # pragma: no cover - an older typer: click's own
    from click import exceptions as usage  # type: ignore[no-redef]

if TYPE_CHECKING:
    from rich.console import Console

INTERNAL_ERROR = 4
INTERRUPTED = 130


class _Consoles:
    """stdout and stderr consoles, made on first use (rich is not needed for --help)."""

    def __init__(self) -> None:
        self._out: Console | None = None
        self._err: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            # Wide enough for the results table when output goes to a file or CI log.
            # emoji=False: a ':x:' in a path or name is text, never a picture.
            self._out = Console(width=None if sys.stdout.isatty() else 120, emoji=False)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, emoji=False)
        return self._err


consoles = _Consoles()


def say(text: str) -> None:
    """One plain line on stdout (no markup, no wrapping)."""
    consoles.out.print(text, markup=False, highlight=False, soft_wrap=True)


def complain(text: str) -> None:
    """One line on stderr, prefixed ``error:``."""
    from rich.markup import escape

    consoles.err.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


def warn(text: str) -> None:
    """One line on stderr, prefixed ``warning:``: worth reading, not a failure."""
    from rich.markup import escape

    consoles.err.print(f"[bold yellow]warning:[/] {escape(text)}", highlight=False, soft_wrap=True)


class OneLineErrors(TyperGroup):
    """Typer's command group, with an option error (``--replications 0``, an unknown
    option) reported on one line with exit code 2, as every other bad input is, instead of
    a usage box."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        format_command_list(self, ctx, formatter)

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except usage.NoArgsIsHelpError as exc:
            sys.exit(exc.exit_code)  # the help is on stdout already
        except usage.UsageError as exc:
            complain(usage_error(exc))
            sys.exit(exc.exit_code)
        except usage.ClickException as exc:
            complain(" ".join(exc.format_message().split()))
            sys.exit(exc.exit_code)
        except (typer.Abort, click.exceptions.Abort):
            sys.exit(INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


def format_command_list(group: Any, ctx: Any, formatter: Any) -> None:
    """The commands with the first sentence of each one's help, wrapped rather than cut
    off with '...'."""
    rows = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        text = " ".join((command.help or "").split("\n\n")[0].split())
        rows.append((name, text.split(". ")[0].rstrip(".")))
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class ManPage(TyperCommand):
    """A command whose ``--help`` reads like a man page at 80 columns: arguments and
    options by the names people type (``--out DIR``, ``SCENARIO``), never typer's internal
    types (``<list[str]>``, ``<int range>``) or ranges (``[x>=1]``), flags without their
    ``[default: no-...]``, every name in full (click's plain help, not rich's boxes)."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            kind = re.search(r"<\[?([^>\]]*)\]?>", record[0])
            name, text = re.sub(r"\s*<[^>]*>", "", record[0]), record[1] or ""
            if kind and "|" in kind.group(1):  # a choice: name the values
                help_text, extras = re.match(r"(.*?)(\s*\[[^\[\]]*\])?$", text).groups()  # type: ignore[union-attr]
                text = f"{help_text}; one of: {', '.join(kind.group(1).split('|'))}{extras or ''}"
            text = _plain_help(text)
            if param.param_type_name == "argument":
                arguments.append((_argument_name(param), text))
                continue
            if not getattr(param, "is_flag", False) and not param.metavar:
                name += " " + (param.name or "value").upper()  # --format FORMAT
            options.append((name, text))
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS] FILE...``, ``[OPTIONS] [SCENARIO]``: arguments as people write
        them, not typer's ``{files}...``."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces


def _argument_name(param: Any) -> str:
    """An argument's name in capitals (its metavar when it has one), ``...`` when it
    takes several."""
    name = str(param.metavar or param.name).upper()
    return name if param.nargs == 1 or name.endswith("...") else f"{name}..."


def _plain_help(text: str) -> str:
    """Help text without the extras people need not read: a number's range (the error
    says it), a flag's false default; a default that means something stays."""
    match = re.search(r"\s*\[([^\[\]]*)\]$", text)
    if match is None:
        return text
    kept = [
        part
        for part in match.group(1).split("; ")
        if not re.fullmatch(r"(?:-?[\d.]+<=?)?x(?:<=?|>=?)-?[\d.]+", part)
        and not re.fullmatch(r"default: (?:no-[\w-]+|False|false)", part)
        and part != "required"  # the usage line says it
    ]
    head = text[: match.start()]
    return f"{head}  [{'; '.join(kept)}]" if kept else head


def usage_error(exc: usage.UsageError) -> str:
    """``--replications: Invalid value: ...; see 'breakerlab run --help'`` on one line."""
    from sim.errors import sanitise

    text = sanitise(" ".join(exc.format_message().split()))
    ctx = exc.ctx
    return f"{text} (see '{ctx.command_path} --help')" if ctx is not None else text


class Session:
    """One command's output mode (``--quiet``, ``--json``), its run directory once known,
    and its errors mapped to exit codes."""

    def __init__(
        self, *, quiet: bool = False, as_json: bool = False, interrupted: str = "interrupted"
    ) -> None:
        self.quiet = quiet or as_json
        self.as_json = as_json
        self.directory: Path | None = None
        self._interrupted = interrupted

    def started(self, directory: Path) -> None:
        self.directory = directory

    def notify(self, text: str) -> None:
        if not self.quiet:
            consoles.err.print(text, markup=False, highlight=False, soft_wrap=True)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Every failure to its exit code, with one line on stderr and no traceback; library
        warnings (matplotlib's missing glyphs, deprecations) kept off the terminal, since
        a clean run promises an empty stderr."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _no_stray_logs()
                yield
        except (
            typer.Exit,
            typer.Abort,
            usage.ClickException,
            click.exceptions.Exit,
            click.exceptions.Abort,
            click.ClickException,
        ):
            raise
        except KeyboardInterrupt:
            message = self._interrupted.format(directory=self.directory)
            consoles.err.print(message, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(INTERRUPTED) from None
        except Exception as exc:
            raise typer.Exit(exit_code(exc, self.directory)) from None

    @contextmanager
    def running(self, label: str, total: int | None = None) -> Iterator[Any]:
        """``guard`` with a progress bar on stderr (none when quiet); yields the callback
        the workflows call as ``progress(done, total, what)``."""
        with self.guard():
            if self.quiet or not consoles.err.is_terminal:  # no bar in logs and pipes
                yield None
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=consoles.err, transient=True) as bar:
                task = bar.add_task(label, total=total)

                def progress(done: int, total: int, what: str | None = None) -> None:
                    text = f"done {what}" if what else label
                    bar.update(task, completed=done, total=total, description=text)

                yield progress

    def emit(self, document: dict[str, Any]) -> None:
        """The results as one JSON document on stdout."""
        from sim.app.jsondoc import dumps

        sys.stdout.write(dumps(document) + "\n")


def _no_stray_logs() -> None:
    """Records of libraries that configure no logging would reach stderr through
    logging's last-resort handler; a handler on the root logger that drops them stops
    that (libraries with handlers of their own, such as Dask's, still print)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def exit_code(exc: Exception, directory: Path | None) -> int:
    """Report ``exc`` on one line and return its exit code: the error's own for breakerlab
    errors, 2 for an I/O problem or running out of memory, else 4 with the traceback
    written to a file."""
    from sim.errors import BreakerlabError, sanitise

    if isinstance(exc, BreakerlabError):
        complain(str(exc))
        return exc.exit_code
    if isinstance(exc, OSError):
        # The system names no file for a full disk on write: the run directory, then.
        where = exc.filename if exc.filename is not None else directory or Path.cwd()
        reason = exc.strerror or str(exc)
        complain(sanitise(f"{where}: {reason}"))
        return 2
    if isinstance(exc, MemoryError):
        # Past the size estimate (--allow-large), or a machine busier than it said.
        complain(
            f"{directory or 'breakerlab'}: out of memory: the experiment is too large for "
            "this machine (fewer replications, a shorter horizon or a lower rate)"
        )
        return 2
    from sim.app.crashlog import write_details

    details = write_details(exc, directory)
    where = str(details) if details else "nowhere (no writable place found)"
    consoles.err.print(
        f"internal error (a bug in breakerlab): {type(exc).__name__}: {exc}; details in {where}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return INTERNAL_ERROR


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Metrics down, configurations across: readable at 80 columns."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    for row in rows:
        table.add_column(row[0], justify="right")
    for i, metric in enumerate(header[1:], 1):
        table.add_row(metric, *(row[i] for row in rows))
    consoles.out.print(table)
