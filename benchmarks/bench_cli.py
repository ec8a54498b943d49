"""Start-up time of the command line: ``breakerlab --help`` and ``import sim``, each the
median of several fresh processes, beside a bare interpreter's start for scale, and the
modules ``import sim.cli`` spends most on (``python -X importtime``).

    python benchmarks/bench_cli.py [--repeat N] [--top N]

Target: ``breakerlab --help`` under 0.5 s. A benchmark, never a timed test: the machine
is shared, so read the figures beside the bare interpreter's.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.5


def command_line() -> list[str]:
    """The installed ``breakerlab`` script beside this interpreter, else ``-m sim.cli``."""
    script = Path(sys.executable).with_name("breakerlab")
    if script.is_file():
        return [str(script)]
    found = shutil.which("breakerlab")
    return [found] if found else [sys.executable, "-m", "sim.cli"]


def median_seconds(argv: list[str], repeat: int) -> float:
    """The median wall time of ``argv`` in a fresh process, after one warm-up run (so the
    file cache is warm, as for a user's second command)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
        if i:  # the first run only warms the cache
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_offenders(module: str, top: int) -> list[tuple[str, float]]:
    """The packages ``import module`` spends most on: per top-level package, the cumulative
    seconds of its outermost import (``module``'s own package left out)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    own = module.split(".")[0]
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| *(\S+)", line)
        if match:
            package = match.group(2).split(".")[0]
            seconds = int(match.group(1)) / 1e6
            totals[package] = max(totals.get(package, 0.0), seconds)
    totals.pop(own, None)
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    cli = command_line()
    print(f"{date.today()}, {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; median of {args.repeat} fresh processes")  # fmt: skip
    bare = median_seconds([sys.executable, "-c", "pass"], args.repeat)
    library = median_seconds([sys.executable, "-c", "import sim"], args.repeat)
    help_s = median_seconds([*cli, "--help"], args.repeat)
    verdict = "meets" if help_s < TARGET_S else "MISSES"
    rows = [("python -c pass", bare), ('python -c "import sim"', library)]
    for label, seconds in rows:
        print(f"{label:<28} {seconds:6.3f} s")
    print(f"{'breakerlab --help':<28} {help_s:6.3f} s  ({verdict} the {TARGET_S} s target)")
    print(f"\nimport sim.cli: the {args.top} packages it spends most on (cumulative)")
    for name, seconds in import_offenders("sim.cli", args.top):
        print(f"  {name:<26} {seconds:6.3f} s")


if __name__ == "__main__":
    main()
