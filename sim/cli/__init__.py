"""Command line: parse arguments, call one library function, map errors to exit codes.

Exit codes: 0 success; 1 a steady-state hypothesis failed; 2 bad input or an I/O problem
(file, line and field, or the path, named on one line); 3 a run broke one of its own
invariants; 4 an internal error (a bug: one line, the traceback written to a file);
130 interrupted.

Start-up stays fast (``--help`` and completion): the simulator, pandas, matplotlib, Optuna
and Dask are imported inside the commands that use them, never at module level.

The program (``app``, its help and ``--version``) is in ``program.py``; the commands that
simulate in ``experiments.py``, the others in ``files.py``; options several commands share
in ``options.py``. A new command is a function under ``@app.command(cls=ManPage)`` in one
of those that imports its workflow inside ``with Session().guard():`` (or
``session.running(...)`` for a progress bar) and prints what it returns (through
``sim.views``); the exit codes above then come with it.
"""

from __future__ import annotations

# Each module registers its commands on the program as it is imported, in this order
# (the order ``breakerlab --help`` lists them in).
from sim.cli import experiments, files
from sim.cli.program import app

__all__ = ["app", "experiments", "files", "main"]


def main() -> None:
    app()
