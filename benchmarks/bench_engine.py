"""Engine speed: two naive six-stage SimPy models against the reference shop, same arrivals.

The naive models are textbook ones, service times drawn up front: "resources" has one
``simpy.Resource`` per stage and one generator process per order; "processes" runs each
stage call as a sub-process the order waits on (``yield env.process(...)``), 21 SimPy
events per order. The reference shop does far more per order (faults, error draws,
breakers, retries, patience, per-stage statistics, a monitor, the invariant checks). All
three run in this one process, interleaved, so the ratios are what count: absolute figures
move with whatever else the machine is doing. Time is the process's CPU time, which other
work on a shared machine disturbs less than the wall clock.

    python benchmarks/bench_engine.py [--scenario PATH] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from sim.config import LoadedScenario, load_scenario
from sim.dists import stream, vector_sampler
from sim.engine import customers, simulate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"


def _stage_specs(loaded: LoadedScenario) -> list[tuple[Any, int | None]]:
    """(latency distribution, capacity) of the six stages, from the model."""
    shop = loaded.shop
    stages = shop.stages
    deps = shop.dependencies
    return [
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


def _services(specs: list[tuple[Any, int | None]], n: int) -> list[list[float]]:
    return [
        vector_sampler(dist)(stream(1, 0, f"naive:{k}"), n).tolist()
        for k, (dist, _) in enumerate(specs)
    ]


def naive(loaded: LoadedScenario, arrivals: np.ndarray) -> int:
    """Six stages, one Resource each, capacities and latencies from the model."""
    specs = _stage_specs(loaded)
    env = simpy.Environment()
    n = arrivals.size
    resources = [simpy.Resource(env, capacity=cap or 10_000) for _, cap in specs]
    services = _services(specs, n)
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


def naive_processes(loaded: LoadedScenario, arrivals: np.ndarray) -> int:
    """Six stages, each call a sub-process the order waits on; no capacities. Per order:
    the arrival, the order's start and end, and per stage a start, a timeout and an end."""
    specs = _stage_specs(loaded)
    env = simpy.Environment()
    services = _services(specs, arrivals.size)
    done = [0]

    def stage(service: float) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(service)

    def order(i: int) -> Generator[simpy.Event, Any, None]:
        for service in services:
            yield env.process(stage(service[i]))
        done[0] += 1

    def source() -> Generator[simpy.Event, Any, None]:
        for i, at in enumerate(arrivals.tolist()):
            yield env.timeout(at - env.now)
            env.process(order(i))

    env.process(source())
    env.run()
    return done[0]


def _rate(run: Callable[[], int]) -> float:
    """Orders per CPU second of ``run()``."""
    start = time.process_time()
    done = run()
    return done / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    loaded = load_scenario(args.scenario)
    configuration = list(loaded.scenario.configurations)[-1]
    arrivals, _, _ = customers(loaded, loaded.scenario.seed, 0)
    rates: dict[str, list[float]] = {"resources": [], "processes": [], "shop": []}
    for _ in range(args.repeat):  # interleaved, so drifting machine load hits all alike
        rates["resources"].append(_rate(lambda: naive(loaded, arrivals)))
        rates["processes"].append(_rate(lambda: naive_processes(loaded, arrivals)))
        rates["shop"].append(_rate(lambda: simulate(loaded, configuration, 0).orders))
    median = {name: statistics.median(values) for name, values in rates.items()}
    shop = median["shop"]
    print(f"scenario          {loaded.scenario.name} ({arrivals.size} orders per run)")
    print(f"naive resources   {median['resources']:>10,.0f} orders/s (CPU)")
    print(f"naive processes   {median['processes']:>10,.0f} orders/s (CPU)")
    print(f"reference shop    {shop:>10,.0f} orders/s (CPU)   ({configuration})")
    print(
        f"ratio             {shop / median['resources']:>10.2f}x  "
        "(reference / naive resources; target >= 2.0)"
    )
    print(f"ratio             {shop / median['processes']:>10.2f}x  (reference / naive processes)")


if __name__ == "__main__":
    main()
