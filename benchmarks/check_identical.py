"""Byte-identity net for engine refactors: a hash of every RunResult field of every run.

Runs ``simulate`` for every configuration of every shipped scenario (replications 0 and 1,
the scenario's own seed, nothing shortened) and writes one hash per field to a JSON file;
``--compare`` reports every field that differs from an earlier file. Per-order arrays are
hashed with their dtype and bytes; other fields by value, numbers as floats, so an event
list that becomes a numpy array of the same values still hashes alike.

    python benchmarks/check_identical.py --out /tmp/before.json
    python benchmarks/check_identical.py --out /tmp/after.json --compare /tmp/before.json
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.config import load_scenario  # noqa: E402
from sim.engine import simulate  # noqa: E402


def _normal(value: Any) -> Any:
    """A JSON-able form in which equal values look alike whatever container holds them."""
    if isinstance(value, np.ndarray):
        return [_normal(v) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return repr(float(value))
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, dict):
        return [[_normal(k), _normal(v)] for k, v in value.items()]
    return [_normal(v) for v in value]


def field_hashes(result: Any) -> dict[str, str]:
    out = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        h = hashlib.sha256()
        if isinstance(value, np.ndarray):
            h.update(value.dtype.str.encode())
            h.update(repr(value.shape).encode())
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update(json.dumps(_normal(value)).encode())
        out[f.name] = h.hexdigest()[:16]
    return out


def _run(job: tuple[str, str, int]) -> tuple[str, dict[str, str], float]:
    path, configuration, replication = job
    loaded = load_scenario(Path(path))
    start = time.perf_counter()
    result = simulate(loaded, configuration, replication)
    elapsed = time.perf_counter() - start
    key = f"{Path(path).stem}/{configuration}/{replication}"
    return key, field_hashes(result), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--only", default="", help="run scenarios whose file name has this")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    jobs = []
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        if args.only not in path.name:
            continue
        for configuration in load_scenario(path).scenario.configurations:
            jobs += [(str(path), configuration, r) for r in (0, 1)]
    results: dict[str, dict[str, str]] = {}
    total = 0.0
    with ProcessPoolExecutor(args.jobs) as pool:
        for key, hashes, elapsed in pool.map(_run, jobs):
            results[key] = hashes
            total += elapsed
            print(f"{elapsed:6.2f}s  {key}", flush=True)
    args.out.write_text(json.dumps(results, indent=1, sort_keys=True))
    print(f"{len(results)} runs, {total:.1f}s simulating")
    if args.compare is None:
        return
    before = json.loads(args.compare.read_text())
    differ = 0
    for key, hashes in results.items():
        if key not in before:
            print(f"NEW     {key}")
            continue
        for name, value in hashes.items():
            old = before[key].get(name)
            if old is not None and old != value:
                differ += 1
                print(f"DIFFERS {key}: {name}")
    print("identical" if differ == 0 else f"{differ} fields differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
