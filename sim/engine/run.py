"""Run one configuration for one replication and return its flat records."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.config.scenario import LoadedScenario
from sim.dists import draws, poisson_arrivals, rate_breakpoints, stream, uniforms, vector_sampler
from sim.engine.changes import Propagation, change_config
from sim.engine.crashes import crash, restart
from sim.engine.faults import active_fault, drive_capacity
from sim.engine.invariants import check_run
from sim.engine.records import BREAKER_STATE_CODES, FAILED, PENDING, RunResult
from sim.engine.rules import run_rule
from sim.engine.shop import STAGES, Shop

DRAIN_LIMIT = 3600.0  # after the horizon, orders in flight get this long to finish


def customers(
    loaded: LoadedScenario, seed: int, replication: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrival instants, basket values and patience of every customer of a replication.

    Drawn from streams that do not depend on the configuration: every configuration
    sees the very same customers (common random numbers).
    """
    scenario = loaded.scenario
    traffic = scenario.traffic
    times, rates = rate_breakpoints(
        traffic.rate, [(p.at, p.rate, p.ramp) for p in traffic.profile], scenario.horizon
    )
    arrivals = poisson_arrivals(
        stream(seed, replication, "arrivals"), times, rates, scenario.horizon
    )
    n = arrivals.size
    baskets = vector_sampler(traffic.basket)(stream(seed, replication, "basket"), n)
    patience = vector_sampler(traffic.patience)(stream(seed, replication, "patience"), n)
    return arrivals, np.asarray(baskets, dtype=float), np.asarray(patience, dtype=float)


def products(loaded: LoadedScenario, seed: int, replication: int, n: int) -> np.ndarray:
    """The product each customer buys, by Zipf popularity (all zeros without a catalogue)."""
    catalogue = loaded.shop.catalogue
    if catalogue is None:
        return np.zeros(n, dtype=np.int64)
    ranks = np.arange(1, catalogue.products + 1, dtype=float)
    weights = ranks**-catalogue.popularity
    rng = stream(seed, replication, "product")
    return rng.choice(catalogue.products, size=n, p=weights / weights.sum())


def simulate(
    loaded: LoadedScenario,
    configuration: str,
    replication: int = 0,
    seed: int | None = None,
    *,
    check: bool = True,
) -> RunResult:
    """Run ``configuration`` of the scenario once; the invariants are checked unless told not."""
    scenario = loaded.scenario
    seed = scenario.seed if seed is None else seed
    env = simpy.Environment()
    faults: dict[str, list[Any]] = {}
    capacity_faults: dict[str, list[tuple[float, float, int]]] = {}
    crashes: list[tuple[int | str, float, float]] = []
    for index, spec in enumerate(scenario.faults):
        if spec.kind == "crash":
            site: int | str = spec.node if spec.target == "checkout" else "orchestrator"
            crashes.append((site, spec.start, spec.end))
            continue
        if spec.kind == "capacity":
            capacity_faults.setdefault(spec.target, []).append(
                (spec.start, spec.end, spec.capacity)
            )
            continue
        fault_draws = uniforms(stream(seed, replication, f"fault:{index}"))
        baseline = loaded.shop.dependencies[spec.target].latency
        faults.setdefault(spec.target, []).append(active_fault(spec, fault_draws, baseline))
    changes = [
        c
        for c in scenario.config_changes
        if c.configurations is None or configuration in c.configurations
    ]
    delays = {  # streams named by the change's place in the scenario, for every configuration
        index: draws(
            c.propagation,
            stream(seed, replication, f"propagation:{scenario.config_changes.index(c)}"),
        )
        for index, c in enumerate(changes)
        if c.propagation is not None
    }
    shop = Shop(
        env,
        loaded.shop,
        scenario.configurations[configuration],
        seed,
        replication,
        faults,
        scenario.traffic.resubmit,
        propagates=bool(delays),
    )
    config_events: list[tuple[float, str]] = []
    propagation = Propagation(len(shop.nodes))
    if changes:
        base = scenario.configurations[configuration]
        env.process(change_config(env, shop, base, changes, config_events, delays, propagation))
    for rule in scenario.rules:
        if rule.configurations is None or configuration in rule.configurations:
            env.process(run_rule(env, shop, rule, config_events))
    for site, start, end in crashes:
        env.process(_crash(env, shop, site, start, end))
    for target, windows in capacity_faults.items():
        env.process(drive_capacity(env, shop.dependencies[target].pool, windows))

    arrivals, baskets, patience = customers(loaded, seed, replication)
    shop.bind(arrivals.size)
    shop.product = products(loaded, seed, replication, arrivals.size).tolist()
    shop.arrival_of = arrivals.tolist()
    shop.patience_of = patience.tolist()
    shop.basket_of = baskets.tolist()
    cancel_after = scenario.traffic.cancel_after
    if cancel_after is not None:
        rng = stream(seed, replication, "cancel")
        shop.cancel_delay = vector_sampler(cancel_after)(rng, arrivals.size).tolist()
    env.process(_arrive(env, shop, arrivals.tolist(), baskets.tolist(), patience.tolist()))
    samples = _new_samples(shop)
    watched = propagation if changes else None
    if watched is not None:
        samples["nodes_on_latest_config"] = []
    env.process(_monitor(env, shop, samples, watched))

    horizon = scenario.horizon
    env.run(until=horizon)
    while shop.active and env.now < horizon + DRAIN_LIMIT:
        env.run(until=min(env.now + 60.0, horizon + DRAIN_LIMIT))
    propagation.close(float(env.now))
    unfinished = shop.cause("unfinished")
    for i, outcome in enumerate(shop.outcome):
        if outcome == PENDING:  # still waiting when the drain limit ran out
            shop.outcome[i] = FAILED
            shop.cause_of[i] = unfinished

    result = RunResult(
        scenario=scenario.name,
        configuration=configuration,
        replication=replication,
        seed=seed,
        horizon=horizon,
        warmup=scenario.warmup,
        end_time=float(env.now),
        arrival=arrivals,
        basket=baskets,
        outcome=np.asarray(shop.outcome, dtype=np.int8),
        cause=np.asarray(shop.cause_of, dtype=np.int16),
        checkout_end=np.asarray(shop.checkout_end, dtype=float),
        gateway=np.asarray(shop.gateway, dtype=np.int8),
        fee=np.asarray(shop.fee, dtype=float),
        confirmed_by=np.asarray(shop.confirmed_by, dtype=np.int8),
        confirmed_at=np.asarray(shop.confirmed_at, dtype=float),
        notifications_sent=np.asarray(shop.sent, dtype=np.int8),
        duplicate=np.asarray(shop.duplicate, dtype=np.int8),
        queued=np.asarray(shop.queued, dtype=bool),
        compensated=np.asarray(shop.saga.compensated, dtype=bool),
        double_charges=np.asarray(shop.saga.double_charges, dtype=np.int8),
        charged_without_order=np.asarray(shop.saga.without_order, dtype=np.int8),
        refunded=np.asarray(shop.saga.refunded, dtype=float),
        idempotency=shop.idempotency,
        config_events=config_events,
        nodes=len(shop.nodes),
        config_disagreement=propagation.disagreement,
        config_propagation=propagation.spread,
        interrupted=np.asarray(shop.interrupted, dtype=bool),
        resumed=np.asarray(shop.resumed, dtype=bool),
        compensated_after_crash=np.asarray(shop.compensated_after_crash, dtype=bool),
        recovered_at=np.asarray(shop.recovered_at, dtype=float),
        restarted_at=np.asarray(shop.restarted_at, dtype=float),
        restart_times=shop.restart_times,
        crash_recovery=shop.crash_recovery,
        recovery=(
            None
            if scenario.recovery is None
            else (
                scenario.recovery.trigger_start,
                scenario.recovery.trigger_end,
                scenario.recovery.within,
                scenario.recovery.goodput,
                scenario.recovery.bin,
            )
        ),
        final_at=np.asarray(shop.final_at, dtype=float),
        fulfilled=np.asarray(shop.fulfilled, dtype=bool),
        failed_over=np.asarray(shop.failed_over, dtype=bool),
        product=np.asarray(shop.product, dtype=np.int32),
        stock_flag=np.asarray(shop.stock_flag, dtype=np.int8),
        cause_names=list(shop.cause_codes),
        gateway_names=shop.gateway_names,
        channel_names=shop.channel_names,
        transitions=shop.transitions,
        dependency_calls={name: d.calls for name, d in shop.dependencies.items()},
        dependency_errors={name: d.error_times for name, d in shop.dependencies.items()},
        dependency_wait={
            name: (d.pool.wait_count, d.pool.wait_total) for name, d in shop.dependencies.items()
        },
        stage_stats={stage: (int(s[0]), float(s[2])) for stage, s in shop.stage_stats.items()},
        samples=samples,
    )
    if check:
        check_run(result)
    return result


def _crash(
    env: simpy.Environment, shop: Shop, site: int | str, start: float, end: float
) -> Generator[simpy.Event, Any, None]:
    yield env.timeout(start)
    crash(shop, site)
    yield env.timeout(end - start)
    restart(shop, site)


def _arrive(
    env: simpy.Environment,
    shop: Shop,
    arrivals: list[float],
    baskets: list[float],
    patience: list[float],
) -> Generator[simpy.Event, Any, None]:
    order = shop.order
    process = env.process
    for i, at in enumerate(arrivals):
        delay = at - env.now
        if delay > 0:
            yield env.timeout(delay)
        process(order(i, baskets[i], patience[i]))


def _new_samples(shop: Shop) -> dict[str, list[float]]:
    names = ["time", "workers_busy", "checkout_queue", "orders_active"]
    names += [f"in_stage_{s}" for s in STAGES]
    for d in shop.dependencies:
        names += [f"busy_{d}", f"queue_{d}", f"calls_{d}"]
    names += [f"breaker_{b}" for b in shop.breakers]
    if shop.stock.stock is not None:
        names += ["stock_units", "oversold_units"]
    if shop.capture is not None:
        names += ["capture_queue", "capture_busy"]
    return {name: [] for name in names}


def _monitor(
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
    stages = [(samples[f"in_stage_{s}"], shop.stage_stats[s]) for s in STAGES]
    breakers = [(samples[f"breaker_{n}"], b) for n, b in shop.breakers.items()]
    stock = shop.stock
    capture = shop.capture
    times = samples["time"]
    while True:
        yield env.timeout(1.0)
        times.append(env.now)
        samples["workers_busy"].append(sum(p.busy for p in shop.workers))
        samples["checkout_queue"].append(sum(p.queued for p in shop.workers))
        samples["orders_active"].append(shop.active)
        for column, obj, attribute in attributes:
            column.append(getattr(obj, attribute))
        for column, stats in stages:
            column.append(stats[1])
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


__all__ = ["customers", "simulate"]
