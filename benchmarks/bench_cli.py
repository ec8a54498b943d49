"""Start-up time of the command line: ``breakerlab --help`` and the small commands
(``validate`` of one file, ``schema``, ``init``, ``import``, ``export``), each the median
of several fresh processes, beside a bare interpreter's start for scale; the heavy
packages each command loads; and the modules ``import sim.cli`` spends most on
(``python -X importtime``).

    python benchmarks/bench_cli.py [--repeat N] [--top N]

Targets: ``breakerlab --help`` under 0.5 s, ``validate`` of one file under 0.6 s. A
benchmark, never a timed test: the machine is shared, so each command's CPU time (user +
system, which other work disturbs less than the wall clock) is printed beside its wall
time, and the bare interpreter's for scale.
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
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"
TARGETS = {"--help": 0.5, "validate": 0.6}
HEAVY = ("numpy", "pandas", "scipy", "pyarrow", "matplotlib", "simpy", "optuna", "dask")
# Runs the command line in this interpreter, then names the heavy packages it loaded.
PROBE = (
    "import atexit, sys\n"
    f"HEAVY = {HEAVY!r}\n"
    "atexit.register(lambda: sys.stderr.write('HEAVY ' + ' '.join(sorted(\n"
    "    h for h in HEAVY if h in {m.split('.')[0] for m in sys.modules})) + '\\n'))\n"
    "from sim.cli import app\n"
    "sys.argv = ['breakerlab', *sys.argv[1:]]\n"
    "app()\n"
)


def command_line() -> list[str]:
    """The installed ``breakerlab`` script beside this interpreter, else ``-m sim.cli``."""
    script = Path(sys.executable).with_name("breakerlab")
    if script.is_file():
        return [str(script)]
    found = shutil.which("breakerlab")
    return [found] if found else [sys.executable, "-m", "sim.cli"]


def commands(scratch: Path) -> dict[str, list[str]]:
    """The small commands, as a user types them (outputs go to ``scratch``)."""
    return {
        "--help": ["--help"],
        "validate": ["validate", str(FLAGSHIP)],
        "schema": ["schema", "--out", str(scratch / "schemas")],
        "init": ["init", str(scratch / "init")],
        "import": [
            "import",
            str(ROOT / "models" / "production" / "application.yml"),
            "--format",
            "resilience4j",
        ],
        "export": [
            "export",
            str(FLAGSHIP),
            "--format",
            "resilience4j",
            "--configuration",
            "breaker-failover",
            "--out",
            "-",
        ],
    }


def timed(argv: list[str], repeat: int, clean: Path | None = None) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of ``argv`` in a fresh process, after
    one warm-up run (so the file cache is warm, as for a user's second command)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    walls, cpus = [], []
    for i in range(repeat + 1):
        if clean is not None:
            shutil.rmtree(clean, ignore_errors=True)  # init wants a fresh directory
        start = time.perf_counter()
        child = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {child.returncode}")
        if i:  # the first run only warms the cache
            walls.append(wall)
            cpus.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def heavy_packages(args: list[str], clean: Path | None = None) -> str:
    """The heavy packages (HEAVY) a command loads, in a fresh interpreter."""
    if clean is not None:
        shutil.rmtree(clean, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    found = [line for line in done.stderr.splitlines() if line.startswith("HEAVY")]
    return found[-1].removeprefix("HEAVY").strip() if found else "?"


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
    print(f"{'command':<28} {'wall':>7} {'CPU':>7}  heavy packages loaded")
    for label, code in (("python -c pass", "pass"), ('python -c "import sim"', "import sim")):
        wall, cpu = timed([sys.executable, "-c", code], args.repeat)
        print(f"{label:<28} {wall:6.3f}s {cpu:6.3f}s")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for name, argv in commands(scratch).items():
            clean = scratch / "init" if name == "init" else None
            wall, cpu = timed([*cli, *argv], args.repeat, clean)
            target = TARGETS.get(name)
            verdict = ""
            if target is not None:
                verdict = f"  ({'meets' if wall < target else 'MISSES'} the {target} s target)"
            heavy = heavy_packages(argv, clean) or "none"
            print(f"{'breakerlab ' + name:<28} {wall:6.3f}s {cpu:6.3f}s  {heavy}{verdict}")
    print(f"\nimport sim.cli: the {args.top} packages it spends most on (cumulative)")
    for name, seconds in import_offenders("sim.cli", args.top):
        print(f"  {name:<26} {seconds:6.3f} s")


if __name__ == "__main__":
    main()
