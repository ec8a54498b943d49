"""Where the engine's time goes: cProfile of one run of the flagship's breaker-failover set-up.

Prints the functions with the most own time (``tottime``), each as a share of the run, so
profiles taken on a busy machine still compare. Run it against an older checkout with
``PYTHONPATH=<checkout>`` to get a "before" profile from the same script.

    python benchmarks/profile_engine.py [--scenario PATH] [--configuration NAME] [--top N]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from pathlib import Path

from sim.config import load_scenario
from sim.engine import simulate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT)
    parser.add_argument("--configuration", default="breaker-failover")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    loaded = load_scenario(args.scenario)
    simulate(loaded, args.configuration, 1)  # first-call costs (imports, caches) out
    profiler = cProfile.Profile()
    profiler.enable()
    result = simulate(loaded, args.configuration, 0)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])  # type: ignore[attr-defined]
    print(f"{loaded.scenario.name} / {args.configuration}: {result.orders:,} orders")
    print(f"{total:.2f} s under the profiler, {stats.total_calls:,} calls")  # type: ignore[attr-defined]
    print(f"{'own %':>6} {'calls':>10}  function")
    for (filename, line, name), (_, calls, own, _, _) in rows[: args.top]:
        where = Path(filename)
        label = f"{where.parent.name}/{where.name}:{line}" if line else filename
        print(f"{100 * own / total:>5.1f}% {calls:>10,}  {name} ({label})")


if __name__ == "__main__":
    main()
