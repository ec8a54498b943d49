"""The once-per-second monitor: queues, occupancy, calls and breaker states over time."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.engine.changes import Propagation
from sim.engine.orders import STAGES
from sim.engine.records import BREAKER_STATE_CODES
from sim.engine.shop import Shop

INTERVAL = 1.0  # simulated seconds between samples


def new_samples(shop: Shop, propagation: Propagation | None) -> dict[str, list[float]]:
    """Empty columns for everything ``monitor`` samples in this shop."""
    names = ["time", "workers_busy", "checkout_queue", "orders_active"]
    names += [f"in_stage_{s}" for s in STAGES]
    for d in shop.dependencies:
        names += [f"busy_{d}", f"queue_{d}", f"calls_{d}"]
    names += [f"breaker_{b}" for b in shop.breakers]
    if shop.stock.stock is not None:
        names += ["stock_units", "oversold_units"]
    if shop.capture is not None:
        names += ["capture_queue", "capture_busy"]
    if propagation is not None:
        names.append("nodes_on_latest_config")
    return {name: [] for name in names}


def monitor(
    env: simpy.Environment,
    shop: Shop,
    samples: dict[str, list[float]],
    propagation: Propagation | None,
) -> Generator[simpy.Event, Any, None]:
    """Snapshot queues, occupancy, breaker states and (with config changes) how many nodes
    run the latest configuration, once per simulated second."""
    attributes: list[tuple[list[float], object, str]] = []  # (column, object, attribute)
    for name, dep in shop.dependencies.items():
        attributes.append((samples[f"busy_{name}"], dep.pool, "busy"))
        attributes.append((samples[f"queue_{name}"], dep.pool, "queued"))
        attributes.append((samples[f"calls_{name}"], dep, "calls"))
    stages = [(samples[f"in_stage_{name}"], stats) for name, stats in shop.stats.items()]
    breakers = [(samples[f"breaker_{n}"], b) for n, b in shop.breakers.items()]
    stock = shop.stock
    capture = shop.capture  # a queue started midway has no columns
    orders = shop.orders
    times = samples["time"]
    while True:
        yield env.timeout(INTERVAL)  # env.timeout: once a simulated second, off the hot path
        times.append(env.now)
        samples["workers_busy"].append(sum(p.busy for p in shop.workers))
        samples["checkout_queue"].append(sum(p.queued for p in shop.workers))
        samples["orders_active"].append(orders.active)
        for column, obj, attribute in attributes:
            column.append(getattr(obj, attribute))
        for column, stats in stages:
            column.append(stats.inside)
        for column, breaker in breakers:
            column.append(BREAKER_STATE_CODES[breaker.state])
        if stock.stock is not None:
            samples["stock_units"].append(stock.units_left)
            samples["oversold_units"].append(stock.oversold_now)
        if capture is not None:
            samples["capture_queue"].append(capture.depth)
            samples["capture_busy"].append(capture.busy)
        if propagation is not None:
            samples["nodes_on_latest_config"].append(propagation.on_latest())
