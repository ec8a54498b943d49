"""The README's commands, timed as a user runs them: every duration the README quotes comes
from this script, run on the machine it names (the shared 2-core one), and is dated in
benchmarks/README.md.

Each command runs once in a fresh process, its output in a temporary directory: the wall
time is what a user waits, the CPU time (user + system, of the command and its workers)
what it costs. ``--only NAME`` runs one of them.

    python benchmarks/bench_readme.py [--only run|sweep|tune|validate]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).with_name("breakerlab"))
SWEEP = [
    "--param", "payment.breaker.failure_rate_threshold=10,20,50,90",
    "--param", "payment.breaker.wait_duration_in_open_state=2s,30s,120s",
    "--replications", "10", "--indifference", "3%",
]  # fmt: skip
TUNE = [
    "--param", "payment.breaker.failure_rate_threshold=20:90",
    "--param", "payment.breaker.wait_duration_in_open_state=2s:120s:log",
    "--objective", "revenue_lost", "--constraint", "checkout_p99_s<2", "--trials", "30",
    "--indifference", "3%",
]  # fmt: skip


def commands(out: Path) -> dict[str, list[str]]:
    """The README's commands as it writes them (output under ``out``, progress off)."""
    tuning = str(ROOT / "scenarios" / "tuning_example.yaml")
    validate = [str(ROOT / "benchmarks" / "validate_engine.py"), "--workers", "2"]
    return {
        "run": [CLI, "run", "flash_sale_gateway_outage", "--out", str(out), "--quiet"],
        "sweep": [CLI, "sweep", tuning, *SWEEP, "--out", str(out), "--quiet"],
        "tune": [CLI, "tune", tuning, *TUNE, "--out", str(out), "--quiet"],
        "validate": [sys.executable, *validate, "--out", str(out / "validation.md")],
    }


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of ``argv``, run to its end in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: a hypothesis failed, a result all the same
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["run", "sweep", "tune", "validate"])
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{date.today()}, {platform.machine()}, {os.cpu_count()} cores, load {load:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in commands(Path(tmp)).items():
            if args.only and name != args.only:
                continue
            wall, cpu = timed(argv)
            print(f"{name:<9} {wall:7.1f} s wall {cpu:7.1f} s CPU   {' '.join(argv[1:])}")


if __name__ == "__main__":
    main()
