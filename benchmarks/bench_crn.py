"""Common random numbers: width of the 95 % interval of the revenue-lost difference between
two configurations, with common random numbers against independent seeds, same runs, and a
bootstrap interval of that ratio (so the figure quoted in the README carries its own
uncertainty).

Both set-ups of each pair see the same customers and the same faults when they share the
seed; with independent seeds, the second set-up's runs use another seed. The ratio of the
two widths is what CRN buys at equal cost. ``neighbour`` is ``breaker-failover`` with one
breaker setting changed, as a step of a sweep or a tuning study would.

    python benchmarks/bench_crn.py [--case SCENARIO A B]... [--replications N] [--workers N]
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root holds benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.crn import compare
from sim.config import LoadedScenario, load_scenario
from sim.experiment import Executor
from sim.experiment.params import apply
from sim.experiment.variants import with_configurations

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
CASES = [  # the neighbouring pairs the README's figure is about
    ("tuning_example", "breaker-failover", "neighbour"),
    ("flash_sale_gateway_outage", "breaker-failover", "neighbour"),
]
NEIGHBOUR = "payment.breaker.wait_duration_in_open_state=60s"


def with_neighbour(loaded: LoadedScenario, neighbour: str) -> LoadedScenario:
    """The scenario with ``neighbour``: breaker-failover with ``neighbour`` (PATH=VALUE)."""
    configurations = dict(loaded.scenario.configurations)
    if "breaker-failover" not in configurations:
        return loaded
    path, _, value = neighbour.partition("=")
    configurations["neighbour"] = apply(configurations["breaker-failover"], {path: value})
    return with_configurations(loaded, configurations, "breaker-failover")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--case",
        nargs=3,
        action="append",
        metavar=("SCENARIO", "A", "B"),
        help="a shipped scenario's name (or a path) and two of its configurations",
    )
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--neighbour", default=NEIGHBOUR, help="PATH=VALUE on breaker-failover")
    args = parser.parse_args()
    cases = args.case or CASES
    print(f"{datetime.date.today()}: {args.replications} replications per set-up and seed")
    print(f"neighbour: breaker-failover with {args.neighbour}")
    print(
        f"{'scenario':<27} {'A':<17} {'B':<11} {'mean A-B':>10} {'CRN width':>10} "
        f"{'indep. width':>12}  ratio [95 % bootstrap]"
    )
    with Executor(args.workers) as backend:
        for scenario, a, b in cases:
            path = Path(scenario)
            loaded = load_scenario(path if path.is_file() else SCENARIOS / f"{scenario}.yaml")
            loaded = with_neighbour(loaded, args.neighbour)
            seed = loaded.scenario.seed
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
            low, high = result.ratio_interval()
            print(
                f"{loaded.name:<27} {a:<17} {b:<11} {result.difference:>10,.0f} "
                f"{result.crn_width:>10,.0f} {result.independent_width:>12,.0f}  "
                f"{result.ratio:.1f}x [{low:.1f}, {high:.1f}] "
                f"({time.perf_counter() - start:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
