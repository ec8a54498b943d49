"""Run one configuration for one replication and return its flat records."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.config.scenario import ConfigChange, LoadedScenario, Scenario
from sim.dists import draws, poisson_arrivals, rate_breakpoints, stream, uniforms, vector_sampler
from sim.engine.changes import Propagation, change_config
from sim.engine.checkout import Checkout
from sim.engine.clock import Clock
from sim.engine.crashes import ORCHESTRATOR, Site
from sim.engine.faults import ActiveFault, active_fault, drive_capacity
from sim.engine.invariants import check_run
from sim.engine.limits import DRAIN_LIMIT, DRAIN_STEP
from sim.engine.monitor import monitor, new_samples
from sim.engine.orders import OrderTable, floats
from sim.engine.records import RunResult
from sim.engine.rules import run_rule
from sim.engine.shop import Shop
from sim.engine.tasks import Arrivals


def customers(
    loaded: LoadedScenario, seed: int, replication: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrival instants, basket values (in whole cents) and patience of every customer of
    a replication.

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
    # Baskets in whole cents, as a shop charges them: every sum of money is then exact.
    return (
        arrivals,
        np.round(np.asarray(baskets, dtype=float), 2),
        np.asarray(patience, dtype=float),
    )


def products(loaded: LoadedScenario, seed: int, replication: int, n: int) -> np.ndarray:
    """The product each customer buys, by Zipf popularity (all zeros without a catalogue)."""
    catalogue = loaded.shop.catalogue
    if catalogue is None:
        return np.zeros(n, dtype=np.int64)
    ranks = np.arange(1, catalogue.products + 1, dtype=float)
    weights = ranks**-catalogue.popularity
    rng = stream(seed, replication, "product")
    return rng.choice(catalogue.products, size=n, p=weights / weights.sum())


@dataclass
class Timeline:
    """The scenario's faults as one run applies them: per-call faults by dependency (each
    with its own stream), capacity windows by dependency, and crashes."""

    faults: dict[str, list[ActiveFault]] = field(default_factory=dict)
    capacity: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)
    crashes: list[tuple[Site, float, float]] = field(default_factory=list)


def fault_timeline(loaded: LoadedScenario, seed: int, replication: int) -> Timeline:
    timeline = Timeline()
    for index, spec in enumerate(loaded.scenario.faults):
        if spec.kind == "crash":
            site: Site = spec.node if spec.target == "checkout" else ORCHESTRATOR
            timeline.crashes.append((site, spec.start, spec.end))
        elif spec.kind == "capacity":
            windows = timeline.capacity.setdefault(spec.target, [])
            windows.append((spec.start, spec.end, spec.capacity))
        else:
            fault_draws = uniforms(stream(seed, replication, f"fault:{index}"))
            baseline = loaded.shop.dependencies[spec.target].latency
            per_call = timeline.faults.setdefault(spec.target, [])
            per_call.append(active_fault(spec, fault_draws, baseline))
    return timeline


def config_changes(
    scenario: Scenario, configuration: str, seed: int, replication: int
) -> tuple[list[ConfigChange], dict[int, Iterator[float]]]:
    """The changes that apply to ``configuration``, and the per-node propagation delays of
    each that has them, keyed by place in that list. A change's stream is named by its
    place in the scenario, so it is the same in every configuration, and two identical
    changes each have their own."""
    changes: list[ConfigChange] = []
    delays: dict[int, Iterator[float]] = {}
    for position, change in enumerate(scenario.config_changes):
        if change.configurations is not None and configuration not in change.configurations:
            continue
        if change.propagation is not None:
            rng = stream(seed, replication, f"propagation:{position}")
            delays[len(changes)] = draws(change.propagation, rng)
        changes.append(change)
    return changes, delays


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
    env = Clock()
    timeline = fault_timeline(loaded, seed, replication)
    changes, delays = config_changes(scenario, configuration, seed, replication)
    arrivals, baskets, patience = customers(loaded, seed, replication)
    orders = OrderTable(
        arrivals, baskets, patience, products(loaded, seed, replication, arrivals.size)
    )
    if scenario.traffic.cancel_after is not None:
        rng = stream(seed, replication, "cancel")
        orders.cancel_delay = floats(
            vector_sampler(scenario.traffic.cancel_after)(rng, orders.size)
        )
    base = scenario.configurations[configuration]
    shop = Shop(
        env,
        loaded.shop,
        base,
        seed,
        replication,
        timeline.faults,
        orders,
        resubmit=scenario.traffic.resubmit,
        propagates=bool(delays),
    )
    checkout = Checkout(shop)  # starts the capture queue's consumers, if any

    # Everything that acts on the running shop, in the order its processes start.
    config_events: list[tuple[float, str]] = []
    propagation = Propagation(len(shop.nodes))
    if changes:
        env.process(change_config(env, shop, base, changes, config_events, delays, propagation))
    for rule in scenario.rules:
        if rule.configurations is None or configuration in rule.configurations:
            env.process(run_rule(env, shop, rule, config_events))
    for site, start, end in timeline.crashes:
        env.process(_crash(env, shop, site, start, end))
    for target, windows in timeline.capacity.items():
        env.process(drive_capacity(env, shop.dependencies[target].pool, windows))
    Arrivals(env, orders.arrival, checkout.order)
    watched = propagation if changes else None
    samples = new_samples(shop, watched)
    env.process(monitor(env, shop, samples, watched))

    horizon = scenario.horizon
    env.run(until=horizon)
    while orders.active and env.now < horizon + DRAIN_LIMIT:
        env.run(until=min(env.now + DRAIN_STEP, horizon + DRAIN_LIMIT))
    propagation.close(float(env.now))
    orders.fail_unfinished()
    result = _result(loaded, configuration, replication, seed, env, shop, arrivals, baskets)
    result.samples = samples
    result.config_events = config_events
    result.config_disagreement = propagation.disagreement
    result.config_propagation = propagation.spread
    if check:
        check_run(result)
    return result


def _result(
    loaded: LoadedScenario,
    configuration: str,
    replication: int,
    seed: int,
    env: simpy.Environment,
    shop: Shop,
    arrivals: np.ndarray,
    baskets: np.ndarray,
) -> RunResult:
    """The run's records: the order table's columns and the shop's counters and events."""
    scenario = loaded.scenario
    recovery = scenario.recovery
    deps = shop.dependencies
    return RunResult(
        scenario=scenario.name,
        configuration=configuration,
        replication=replication,
        seed=seed,
        horizon=scenario.horizon,
        warmup=scenario.warmup,
        end_time=float(env.now),
        arrival=arrivals,
        basket=baskets,
        **shop.orders.columns(),
        **shop.saga.columns(),
        cause_names=list(shop.orders.cause_codes),
        gateway_names=shop.gateway_names,
        channel_names=shop.channel_names,
        transitions=shop.transitions,
        dependency_calls={name: d.calls for name, d in deps.items()},
        dependency_errors={name: d.error_times.tolist() for name, d in deps.items()},
        stage_stats={name: (s.entries, s.time) for name, s in shop.stats.items()},
        idempotency=shop.idempotency,
        nodes=len(shop.nodes),
        restart_times=shop.sites.restart_times,
        crash_recovery=shop.crash_recovery,
        recovery=(
            None
            if recovery is None
            else (
                recovery.trigger_start,
                recovery.trigger_end,
                recovery.within,
                recovery.goodput,
                recovery.bin,
            )
        ),
    )


def _crash(
    env: simpy.Environment, shop: Shop, site: Site, start: float, end: float
) -> Generator[simpy.Event, Any, None]:
    # env.timeout: twice a crash, off the hot path (a plain env.process).
    yield env.timeout(start)
    shop.crash(site)
    yield env.timeout(end - start)
    shop.restart(site)


__all__ = ["customers", "simulate"]
