"""Engine speed: a naive six-stage SimPy model against the reference shop, same arrivals.

The naive model is the textbook one: one ``simpy.Resource`` per stage, one generator
process per order, service times drawn up front. The reference shop does far more per
order (faults, error draws, breakers, retries, patience, per-stage statistics, a monitor).
Both run in this one process, one after the other, so the ratio is what counts: absolute
figures move with whatever else the machine is doing.

    python benchmarks/bench_engine.py [--scenario PATH] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from sim.config import LoadedScenario, load_scenario
from sim.dists import stream, vector_sampler
from sim.engine import customers, simulate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"


def naive(loaded: LoadedScenario, arrivals: np.ndarray) -> int:
    """Six stages, one Resource each, capacities and mean latencies from the model."""
    shop = loaded.shop
    stages = shop.stages
    deps = shop.dependencies
    specs = [
        (stages.cart.latency, shop.checkout.workers * shop.checkout.nodes),
        (deps[stages.inventory.dependency].latency, deps[stages.inventory.dependency].capacity),
        (deps[stages.payment.gateways[0]].latency, deps[stages.payment.gateways[0]].capacity),
        (
            deps[stages.order_record.dependency].latency,
            deps[stages.order_record.dependency].capacity,
        ),
        (deps[stages.fulfillment.dependency].latency, deps[stages.fulfillment.dependency].capacity),
        (deps[stages.notification.channels[0]].latency, 10_000),
    ]
    env = simpy.Environment()
    n = arrivals.size
    resources = [simpy.Resource(env, capacity=cap or 10_000) for _, cap in specs]
    services = [
        vector_sampler(dist)(stream(1, 0, f"naive:{k}"), n).tolist()
        for k, (dist, _) in enumerate(specs)
    ]
    done = [0]

    def order(i: int) -> Generator[simpy.Event, Any, None]:
        for resource, service in zip(resources, services, strict=True):
            with resource.request() as request:
                yield request
                yield env.timeout(service[i])
        done[0] += 1

    def source() -> Generator[simpy.Event, Any, None]:
        for i, at in enumerate(arrivals.tolist()):
            yield env.timeout(at - env.now)
            env.process(order(i))

    env.process(source())
    env.run()
    return done[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    loaded = load_scenario(args.scenario)
    configuration = list(loaded.scenario.configurations)[-1]
    arrivals, _, _ = customers(loaded, loaded.scenario.seed, 0)
    naive_rates, shop_rates = [], []
    for _ in range(args.repeat):  # interleaved, so drifting machine load hits both alike
        start = time.perf_counter()
        done = naive(loaded, arrivals)
        naive_rates.append(done / (time.perf_counter() - start))
        start = time.perf_counter()
        result = simulate(loaded, configuration, 0)
        shop_rates.append(result.orders / (time.perf_counter() - start))
    naive_rate = statistics.median(naive_rates)
    shop_rate = statistics.median(shop_rates)
    print(f"scenario        {loaded.scenario.name} ({arrivals.size} orders per run)")
    print(f"naive six-stage {naive_rate:>10,.0f} orders/s")
    print(f"reference shop  {shop_rate:>10,.0f} orders/s   ({configuration})")
    print(f"ratio           {shop_rate / naive_rate:>10.2f}x  (reference / naive; target >= 1.0)")


if __name__ == "__main__":
    main()
