"""Engine cost against run size: one configuration at about 10k, 100k and 1M orders.

The flagship scenario's ``breaker-failover`` configuration with its whole timeline (horizon,
warm-up, traffic profile, faults) stretched in time by 0.1, 1 and 10: the same mix of
quiet traffic, flash sale and outage, ten times fewer or more orders. Each size runs in a
fresh subprocess, after a ~1k order warm-up run, so its peak RSS is its own. Printed per
size: orders/s (CPU time of the run), peak RSS (the process's maximum resident set), and
bytes retained per order: the bytes of the RunResult's arrays and containers (numpy
``nbytes``, other objects by ``sys.getsizeof``, recursively) divided by the orders; the
target is at most 200.

    python benchmarks/bench_scale.py [--quick] [--sizes 0.1 1 10]
    python benchmarks/bench_scale.py --memory [2 4 8] [--workers N]
    python benchmarks/bench_scale.py --footprint

``--quick`` runs 10k and 100k only (the 1M size takes a few minutes).

``--memory``: the whole ``breakerlab run`` command against replications, on issue 22's load
(the reference shop at 200 orders/s for 30 minutes, an 8-minute primary outage, four
configurations): the peak RSS of the largest process (the command, or one of its workers)
as ``/usr/bin/time -v`` reports it, the run directory's size and the wall time. Target:
at most 500 MB, growing by less than 10 % from 2 to 8 replications. ``--footprint``: the
flagship's run directory (``breakerlab run flash_sale_gateway_outage``), by part; target
at most 36 MB. Both take minutes: each replication count is a full run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"
CONFIGURATION = "breaker-failover"
STRETCHES = (0.1, 1.0, 10.0)
WARMUP = 0.01  # a first run of ~1k orders in every child


def stretched(path: Path, factor: float, into: Path) -> Path:
    """Write ``path``'s scenario with every instant and duration of its timeline times
    ``factor`` (rates and the model unchanged) to ``into``; returns the new file."""
    from sim.units import parse_duration

    raw = yaml.safe_load(path.read_text())

    def scale(value: Any) -> float:
        return parse_duration(value) * factor

    raw["model"] = str((path.parent / raw["model"]).resolve())
    raw["horizon"] = scale(raw["horizon"])
    if "warmup" in raw:
        raw["warmup"] = scale(raw["warmup"])
    for step in raw["traffic"].get("profile", []):
        step["at"] = scale(step["at"])
        if "ramp" in step:
            step["ramp"] = scale(step["ramp"])
    for fault in raw.get("faults", []):
        for key in ("start", "duration", "ramp"):
            if key in fault:
                fault[key] = scale(fault[key])
    raw["name"] = f"{raw['name']}-x{factor:g}"
    out = into / f"{path.stem}-x{factor:g}.yaml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return out


def retained_bytes(value: Any, seen: set[int] | None = None) -> int:
    """Bytes held by ``value``: numpy arrays by ``nbytes`` (plus their header), other
    objects by ``sys.getsizeof``, containers and dataclasses recursively, shared objects
    once."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + sys.getsizeof(np.empty(0))
    size = sys.getsizeof(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        size += sum(retained_bytes(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    elif isinstance(value, dict):
        size += sum(retained_bytes(k, seen) + retained_bytes(v, seen) for k, v in value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        size += sum(retained_bytes(v, seen) for v in value)
    return size


def measure(scenario: Path, warmup: Path) -> dict[str, float]:
    """One run of the configuration in this process, after a run of ``warmup`` (a ~1k
    order stretch) so first-call costs are not counted against the smallest size."""
    from sim.config import load_scenario
    from sim.engine import simulate

    simulate(load_scenario(warmup), CONFIGURATION, 0)
    loaded = load_scenario(scenario)
    start = time.process_time()
    result = simulate(loaded, CONFIGURATION, 0)
    cpu = time.process_time() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "orders": result.orders,
        "orders_per_s": result.orders / cpu,
        "peak_rss_mib": peak_kib / 1024,
        "bytes_per_order": retained_bytes(result) / result.orders,
    }


def footprint_load(into: Path, replications: int) -> Path:
    """Issue 22's load: the flagship's model and outage at 200 orders/s for 30 minutes,
    with a fourth configuration (the breaker, waiting 60 s open), ``replications`` each."""
    raw = yaml.safe_load(FLAGSHIP.read_text())
    raw["model"] = str((FLAGSHIP.parent / raw["model"]).resolve())
    raw.update(name="footprint-load", horizon="30m", warmup="5m", replications=replications)
    raw["traffic"]["rate"] = "200/s"
    raw["traffic"].pop("profile", None)
    raw["faults"] = [{"target": "primary", "kind": "outage", "start": "10m", "duration": "8m"}]
    raw.pop("hypotheses", None)
    slower = json.loads(json.dumps(raw["configurations"][CONFIGURATION]))
    slower["description"] = "the breaker, waiting 60 s open"
    slower["payment"]["breaker"]["wait_duration_in_open_state"] = "60s"
    raw["configurations"][f"{CONFIGURATION}-60s"] = slower
    out = into / "footprint_load.yaml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return out


def command_peak(argv: list[str], out: Path) -> dict[str, Any]:
    """Run ``argv`` (a ``breakerlab run`` writing under ``out``) in a fresh process: the
    largest resident set of it and its workers (what ``/usr/bin/time -v`` reports), its
    wall time, and the size of the run directory it wrote."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    [directory] = [p for p in out.glob("*/*") if p.is_dir()]
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    return {"peak_mib": int(done.stdout.split()[-1]) / 1024, "wall_s": wall, "mb": size / 1e6,
            "directory": str(directory)}  # fmt: skip


def memory_table(replications: list[int], workers: int | None) -> None:
    """``--memory``: peak RSS of ``breakerlab run`` on the footprint load by replications."""
    cli = str(Path(sys.executable).with_name("breakerlab"))
    print(f"footprint load: 200 orders/s, 30 min, 4 configurations; workers {workers or 'all'}")
    print(f"{'replications':>12} {'runs':>5} {'peak RSS':>10} {'run dir':>9} {'wall':>7}")
    peaks = []
    with tempfile.TemporaryDirectory() as tmp:
        scenario = footprint_load(Path(tmp), 1)
        for count in replications:
            out = Path(tmp) / f"r{count}"
            argv = [cli, "run", str(scenario), "--replications", str(count), "--out", str(out),
                    "--quiet", *(["--workers", str(workers)] if workers else [])]  # fmt: skip
            row = command_peak(argv, out)
            peaks.append(row["peak_mib"])
            print(f"{count:>12} {4 * count:>5} {row['peak_mib']:>6,.0f} MiB "
                  f"{row['mb']:>6,.0f} MB {row['wall_s']:>6,.0f}s", flush=True)  # fmt: skip
    if len(peaks) > 1:
        print(
            f"peak growth {replications[0]} -> {replications[-1]} replications: "
            f"{100 * (peaks[-1] / peaks[0] - 1):+.1f} % (target < 10 %; at most 500 MB)"
        )


def footprint() -> None:
    """``--footprint``: the flagship's run directory, by part."""
    cli = str(Path(sys.executable).with_name("breakerlab"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        row = command_peak(
            [cli, "run", "flash_sale_gateway_outage", "--out", str(out), "--quiet"], out
        )
        directory = Path(row["directory"])
        parts: dict[str, int] = {}
        for f in directory.rglob("*"):
            if f.is_file():
                part = f.relative_to(directory).parts[0]
                key = part if (directory / part).is_dir() else "tables, report and the rest"
                parts[key] = parts.get(key, 0) + f.stat().st_size
        print(f"flash_sale_gateway_outage: {row['mb']:.1f} MB (target <= 36 MB), "
              f"peak RSS {row['peak_mib']:,.0f} MiB, {row['wall_s']:.0f} s")  # fmt: skip
        for key, size in sorted(parts.items(), key=lambda item: -item[1]):
            print(f"  {key:<28} {size / 1e6:6.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k orders only")
    parser.add_argument("--sizes", type=float, nargs="*", help="time stretch factors")
    parser.add_argument("--memory", type=int, nargs="*", help="replication counts (2 4 8)")
    parser.add_argument("--workers", type=int, help="--memory: breakerlab run's --workers")
    parser.add_argument("--footprint", action="store_true", help="the flagship's run directory")
    parser.add_argument("--measure", type=Path, nargs=2, help=argparse.SUPPRESS)  # a child
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(*args.measure)))
        return
    if args.memory is not None:
        memory_table(args.memory or [2, 4, 8], args.workers)
        return
    if args.footprint:
        footprint()
        return
    factors = args.sizes or (STRETCHES[:2] if args.quick else STRETCHES)
    print(f"scenario        {FLAGSHIP.stem}, {CONFIGURATION}, timeline stretched")
    print(f"{'stretch':>8} {'orders':>10} {'orders/s':>10} {'peak RSS':>10} {'bytes/order':>12}")
    rates = []
    with tempfile.TemporaryDirectory() as tmp:
        warmup = stretched(FLAGSHIP, WARMUP, Path(tmp))
        for factor in factors:
            path = stretched(FLAGSHIP, factor, Path(tmp))
            child = subprocess.run(
                [sys.executable, __file__, "--measure", str(path), str(warmup)],
                check=True,
                capture_output=True,
                text=True,
            )
            row = json.loads(child.stdout.strip().splitlines()[-1])
            rates.append(row["orders_per_s"])
            print(
                f"{factor:>7g}x {row['orders']:>10,.0f} {row['orders_per_s']:>10,.0f} "
                f"{row['peak_rss_mib']:>7,.0f} MiB {row['bytes_per_order']:>12,.1f}",
                flush=True,
            )
    if len(rates) > 1:
        print(f"largest / smallest orders/s: {rates[-1] / rates[0]:.2f} (target >= 0.80)")


if __name__ == "__main__":
    main()
