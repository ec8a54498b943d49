"""Common random numbers: width of the 95 % interval of the revenue-lost difference between
two configurations, with common random numbers against independent seeds, same runs.

Both set-ups of each pair see the same customers and the same faults when they share the
seed; with independent seeds, the second set-up's runs use another seed. The ratio of the
two widths is what CRN buys at equal cost.

    python benchmarks/bench_crn.py [--scenario PATH] [--pair A B]... [--replications N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.analysis.crn import compare
from sim.config import load_scenario
from sim.experiment import Executor
from sim.experiment.params import apply
from sim.report.sweep import with_configurations

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"
PAIRS = [
    ("no-breaker", "retry-then-failover"),
    ("retry-then-failover", "breaker-failover"),
    ("breaker-failover", "neighbour"),
]
NEIGHBOUR = "payment.breaker.wait_duration_in_open_state=60s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT)
    parser.add_argument("--pair", nargs=2, action="append", metavar=("A", "B"))
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--neighbour",
        default=NEIGHBOUR,
        help="PATH=VALUE applied to breaker-failover to make the configuration 'neighbour'",
    )
    args = parser.parse_args()
    loaded = load_scenario(args.scenario)
    configurations = dict(loaded.scenario.configurations)
    if "breaker-failover" in configurations:
        path, _, value = args.neighbour.partition("=")
        configurations["neighbour"] = apply(configurations["breaker-failover"], {path: value})
        loaded = with_configurations(loaded, configurations, "breaker-failover")
        print(f"neighbour: breaker-failover with {args.neighbour}")
    seed = loaded.scenario.seed
    print(f"{loaded.name}: {args.replications} replications per set-up, seed {seed}")
    print(f"{'A':<22} {'B':<22} {'mean A-B':>12} {'CRN width':>11} {'indep. width':>13} ratio")
    with Executor(args.workers) as backend:
        for a, b in args.pair or PAIRS:
            start = time.perf_counter()
            result = compare(
                loaded,
                a,
                b,
                replications=args.replications,
                seed=seed,
                independent_seed=seed + 1_000_003,
                backend=backend,
            )
            print(
                f"{a:<22} {b:<22} {result.difference:>12,.0f} {result.crn_width:>11,.0f} "
                f"{result.independent_width:>13,.0f} {result.ratio:5.1f}x "
                f"({time.perf_counter() - start:.0f} s)"
            )


if __name__ == "__main__":
    main()
