"""The shop at run time: dependencies, checkout nodes with their resilience stacks,
checkout workers, stock, the confirmation chain, the capture queue and crash sites.

Built once per run from the model and one configuration; the order processes that run
through it are in ``checkout.py``, run-time changes in ``operations.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import simpy

from sim.config.configuration import BreakerState, Configuration, StagePolicy
from sim.config.model import ShopModel
from sim.dists import draws, stream, uniforms
from sim.engine.breaker_factory import Listener
from sim.engine.calls import GuardedDependency
from sim.engine.capture import CaptureQueue
from sim.engine.clock import Step
from sim.engine.confirmation_chain import ROLES, ConfirmationChain
from sim.engine.crashes import Site, Sites, forget_node_state
from sim.engine.dependency import DependencyRuntime
from sim.engine.faults import ActiveFault
from sim.engine.inventory import Inventory
from sim.engine.nodes import NODE_MARK, build_nodes, dependency_of, guards
from sim.engine.orders import STAGES, OrderTable, Stages
from sim.engine.pool import SlotPool
from sim.engine.saga import SagaLedger
from sim.engine.stack import initial_stock

__all__ = ["STAGES", "Settler", "Shop"]  # STAGES: importable from here as before

# A capture consumer's attempt at queued order i on consumer j: True once settled.
Settler = Callable[[int, int], Generator[Step, Any, bool]]


class Shop:
    """The runtime of one configuration for one replication."""

    def __init__(
        self,
        env: simpy.Environment,
        model: ShopModel,
        configuration: Configuration,
        seed: int,
        replication: int,
        faults: dict[str, list[ActiveFault]],
        orders: OrderTable,
        *,
        resubmit: float = 0.0,
        propagates: bool = False,
    ) -> None:
        """``propagates``: configuration changes reach nodes at different times, so every
        node needs a stack of its own."""
        self.env = env
        self.model = model
        self.orders = orders
        self.saga = SagaLedger(orders.size)
        self.stats = Stages()  # read by the monitor and Little's law
        self.sites = Sites(env)
        self.transitions: list[tuple[float, str, str, str]] = []
        self.dependencies = {
            name: DependencyRuntime(
                env,
                name,
                spec,
                draws(spec.latency, stream(seed, replication, f"dependency:{name}:latency")),
                uniforms(stream(seed, replication, f"dependency:{name}:outcome")),
                faults.get(name, []),
            )
            for name, spec in model.dependencies.items()
        }
        self.breakers: dict[str, Any] = {}  # every breaker to monitor, by name
        self.jitter = uniforms(stream(seed, replication, "retry-jitter"))
        stages = model.stages
        config = configuration
        self.gateway_names = list(stages.payment.gateways)
        # Separate stacks per node when breaker state or configuration can differ by node.
        state = config.breaker_state
        separate = state.scope == "per_node" or state.read_delay > 0 or propagates
        self.nodes = build_nodes(self, config, seed, replication, separate)
        self.payments = list({id(n.payment): n.payment for n in self.nodes}.values())
        self.stock = Inventory(
            [n.inventory for n in self.nodes],
            config.inventory,
            initial_stock(model, seed, replication),
        )
        self.fulfillment = self._guard(
            stages.fulfillment.dependency, stages.fulfillment.timeout, config.fulfillment
        )
        self.channel_names = list(ROLES)
        self.chain = self._confirmation_chain(config, seed, replication)
        self.processing = processing = config.processing
        self.mode, self.workflow = processing.mode, processing.workflow
        self.event_delays = draws(processing.event_delay, stream(seed, replication, "events"))
        self.capture: CaptureQueue | None = None  # see start_capture
        self.settle_deferred: Settler | None = None  # registered by the checkout
        self.crash_recovery = processing.crash_recovery
        self.resubmit = resubmit
        self.idempotency = config.idempotency_keys
        self.resubmit_draws = uniforms(stream(seed, replication, "resubmit"))
        self.fees = [
            (d.fee.percent, d.fee.fixed) if d.fee is not None else (0.0, 0.0)
            for d in (model.dependencies[g] for g in self.gateway_names)
        ]
        self.workers = [SlotPool(env, model.checkout.workers) for _ in range(model.checkout.nodes)]
        self.cart_latency: Iterator[float] = draws(
            stages.cart.latency, stream(seed, replication, "cart:latency")
        )

    def _confirmation_chain(
        self, config: Configuration, seed: int, replication: int
    ) -> ConfirmationChain:
        """The confirmation channels (in-app, email, SMS), each behind its own stack."""
        notify = self.model.stages.notification
        return ConfirmationChain(
            self.env,
            [
                self._guard(dependency, notify.timeout, config.notification.channel(role))
                for role, dependency in zip(ROLES, notify.channels, strict=True)
            ],
            notify,
            config.notification.fallback_chain,
            uniforms(stream(seed, replication, "confirmation")),
            draws(notify.receipt_delay, stream(seed, replication, "email-receipt")),
        )

    def _guard(self, dependency: str, timeout: float, policy: StagePolicy) -> GuardedDependency:
        """``dependency`` wrapped in the stack ``policy`` describes, shared by all nodes."""
        return guards(self, dependency, timeout, BreakerState(), policy)[0]

    def start_capture(self) -> None:
        """Start the asynchronous capture queue: at the start of an asynchronous run, or
        when a run switches to it midway."""
        assert self.settle_deferred is not None, "the checkout registers its settler first"
        processing = self.processing
        self.capture = CaptureQueue(
            self.env,
            processing.queue_capacity,
            processing.consumers,
            self.settle_deferred,
            processing.retry_delay,
        )

    # -- crashes ----------------------------------------------------------------------------
    def crash(self, site: Site) -> None:
        """A checkout node (int) or the orchestrator stops: its work stops at the next step."""
        self.sites.crash(site)
        if isinstance(site, int):
            self.workers[site].set_capacity(0)

    def restart(self, site: Site) -> None:
        """The site is back with what it kept on disk only; work waiting for it resumes."""
        if isinstance(site, int):
            self.workers[site].set_capacity(self.model.checkout.workers)
            forget_node_state(self.breakers, self.nodes[site], site, self.env.now)
        self.sites.restart(site)

    # -- breaker listeners ----------------------------------------------------------------
    def on_gateway(self, name: str) -> Listener:
        """A gateway breaker's listener: record the transition, and start a slow start when
        the breaker closes again (on its own node, or on every node for a shared breaker)."""
        record = self.on_transition(name)
        gateway = dependency_of(name)
        node = name.split(":")[0].partition(NODE_MARK)[2]

        def listener(now: float, old: str, new: str) -> None:
            record(now, old, new)
            if new == "closed" and old != "closed":
                if node:
                    self.nodes[int(node)].payment.recovered(gateway, now)
                else:
                    for payment in self.payments:
                        payment.recovered(gateway, now)

        return listener

    def on_transition(self, name: str) -> Listener:
        transitions = self.transitions

        def listener(now: float, old: str, new: str) -> None:
            transitions.append((now, name, old, new))

        return listener
