"""Checkout nodes and the resilience stacks they call through.

Every checkout node reserves stock, pays and records orders through its own stack. By
default all nodes share one stack, as if breaker state and configuration reached every
node at once. A configuration with ``breaker_state.scope: per_node`` gives each node its own
breakers (named ``dependency@node``); ``read_delay`` gives each node a stale copy of one
shared state; config changes with a ``propagation`` delay reach each node at its own time.
Those cases give every node a stack of its own. Bulkheads and rate limiters stay one per
dependency (they model what the dependency allows); retry budgets are kept per node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import simpy

from sim.config.configuration import BreakerState, Configuration, StagePolicy
from sim.config.model import ShopModel
from sim.dists import stream, uniforms
from sim.engine.breaker_factory import Breaker, Listener, build_breakers
from sim.engine.calls import GuardedDependency
from sim.engine.dependency import DependencyRuntime
from sim.engine.payment import Gateway, PaymentOrchestrator
from sim.engine.stack import retry_setup, stack_setup
from sim.resilience.view import BreakerView

NODE_MARK = "@"  # breaker name of a node's own instance: dependency@node


class Wiring(Protocol):
    """What building stacks needs from the shop: its model and dependencies, the retry
    jitter, the registry of breakers to monitor, and the transition listeners."""

    @property
    def env(self) -> simpy.Environment: ...

    @property
    def model(self) -> ShopModel: ...

    @property
    def dependencies(self) -> dict[str, DependencyRuntime]: ...

    @property
    def jitter(self) -> Iterator[float]: ...

    @property
    def breakers(self) -> dict[str, Any]: ...

    @property
    def gateway_names(self) -> list[str]: ...

    def on_transition(self, name: str) -> Listener: ...

    def on_gateway(self, name: str) -> Listener: ...


@dataclass(eq=False, slots=True)
class NodeStack:
    """What one checkout node calls through."""

    inventory: GuardedDependency
    order_record: GuardedDependency
    payment: PaymentOrchestrator


def dependency_of(breaker: str) -> str:
    """``gateway_a@2:timeout`` -> ``gateway_a``: the dependency a breaker name guards."""
    return breaker.split(":")[0].split(NODE_MARK)[0]


def build_nodes(
    shop: Wiring, config: Configuration, seed: int, replication: int, separate: bool
) -> list[NodeStack]:
    """One stack per checkout node; the same object for all of them unless ``separate``."""
    stages = shop.model.stages
    count = shop.model.checkout.nodes if separate else 1
    inventory = guards(
        shop,
        stages.inventory.dependency,
        stages.inventory.timeout,
        config.breaker_state,
        config.inventory,
        count,
    )
    order_record = guards(
        shop,
        stages.order_record.dependency,
        stages.order_record.timeout,
        config.breaker_state,
        config.order_record,
        count,
    )
    names = shop.gateway_names
    ordered = config.payment.gateway_order(names)
    per_gateway = {
        name: guards(
            shop,
            name,
            stages.payment.timeout,
            config.breaker_state,
            config.payment,
            count,
            listen=shop.on_gateway,
        )
        for name in ordered
    }
    nodes = []
    for k in range(count):
        gateways = [
            Gateway(
                names.index(name), per_gateway[name][k], shop.model.dependencies[name].latency.mean
            )
            for name in ordered
        ]
        draws = uniforms(stream(seed, replication, "routing" if k == 0 else f"routing@{k}"))
        payment = PaymentOrchestrator(shop.env, config.payment, gateways, draws)
        nodes.append(NodeStack(inventory[k], order_record[k], payment))
    if not separate:
        return nodes * shop.model.checkout.nodes
    return nodes


def guards(
    shop: Wiring,
    dependency: str,
    timeout: float,
    state: BreakerState,
    policy: StagePolicy,
    count: int = 1,
    listen: Callable[[str], Listener] | None = None,
) -> list[GuardedDependency]:
    """``dependency`` wrapped in the stack ``policy`` describes, once per node (``count``).

    Shared scope: one breaker for all (behind a stale view per node with a read delay);
    per-node scope: one breaker per node, named ``dependency@node``.
    """
    listen = listen or shop.on_transition
    setup = stack_setup(shop.env, policy)  # one bulkhead and rate limiter per dependency
    spec = policy.breaker
    shared: Breaker | None = None
    if spec is not None and state.scope == "shared":
        shared = _breaker(shop, spec, dependency, listen)
    out = []
    for k in range(count):
        breaker: Any = shared
        if spec is not None and state.scope == "per_node":
            breaker = _breaker(shop, spec, f"{dependency}{NODE_MARK}{k}", listen)
        elif shared is not None and state.read_delay > 0:
            breaker = BreakerView(shared, state.read_delay)
        retry, budget = retry_setup(policy.retry)
        out.append(
            GuardedDependency(
                shop.dependencies[dependency],
                policy.timeout if policy.timeout is not None else timeout,
                retry,
                breaker,
                shop.jitter,
                budget,
                layers=policy.layers,
                **setup,
            )
        )
    return out


def _breaker(shop: Wiring, spec: Any, name: str, listen: Callable[[str], Listener]) -> Breaker:
    breaker, monitored = build_breakers(spec, name, listen)
    shop.breakers.update(monitored)
    return breaker
