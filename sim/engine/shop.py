"""The shop at run time: checkout workers, guarded dependencies, and one process per order.

An order holds a checkout worker from cart to order record, so a hanging dependency
exhausts workers, new orders queue, and customers whose patience runs out leave.
Fulfillment and notification run after the confirmation page, off the worker.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from typing import Any

import simpy

from sim.config.model import ShopModel
from sim.config.policy import BreakerState, Configuration, StagePolicy
from sim.dists import draws, stream, uniforms
from sim.engine.breakers import Listener
from sim.engine.calls import ABANDONED as CALL_ABANDONED
from sim.engine.calls import GuardedDependency
from sim.engine.capture import CaptureQueue
from sim.engine.confirmation import IN_APP, ROLES, ConfirmationChain
from sim.engine.confirmation import NONE as NO_CHANNEL
from sim.engine.crashes import interrupted
from sim.engine.dependency import DECLINED as CALL_DECLINED
from sim.engine.dependency import SUCCESS, DependencyRuntime
from sim.engine.faults import ActiveFault
from sim.engine.inventory import Inventory
from sim.engine.nodes import NODE_MARK, NodeStack, build_nodes, dependency_of, guards
from sim.engine.pool import SlotPool
from sim.engine.records import ABANDONED, COMPLETED, DECLINED, FAILED
from sim.engine.saga import INTERRUPTED, SagaLedger, run_saga
from sim.engine.stack import initial_stock


def _never() -> bool:
    return False


STAGES = ("cart", "inventory", "payment", "order_record", "fulfillment", "notification")
QUEUE_FULL = "queue_full"


class Shop:
    """Builds the runtime of one configuration and runs its orders."""

    def __init__(
        self,
        env: simpy.Environment,
        shop: ShopModel,
        configuration: Configuration,
        seed: int,
        replication: int,
        faults: dict[str, list[ActiveFault]],
        scenario_resubmit: float = 0.0,
        propagates: bool = False,
    ) -> None:
        """``propagates``: configuration changes reach nodes at different times, so every
        node needs a stack of its own."""
        self.env = env
        self.model = shop
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
            for name, spec in shop.dependencies.items()
        }
        self.breakers: dict[str, Any] = {}  # every breaker to monitor, by name
        stages = shop.stages
        self.jitter = uniforms(stream(seed, replication, "retry-jitter"))
        config = configuration
        self.gateway_names = list(stages.payment.gateways)
        # Separate stacks per node when breaker state or configuration can differ by node.
        separate = config.breaker_state.scope == "per_node" or config.breaker_state.read_delay > 0
        self.nodes = build_nodes(self, config, seed, replication, separate or propagates)
        first = self.nodes[0]
        self.inventory, self.order_record, self.payment = (
            first.inventory,
            first.order_record,
            first.payment,
        )
        self.payments = list({id(n.payment): n.payment for n in self.nodes}.values())
        self.stock = Inventory(
            [n.inventory for n in self.nodes],
            config.inventory,
            initial_stock(shop, seed, replication),
        )
        self.fulfillment = self._guard(
            stages.fulfillment.dependency, stages.fulfillment.timeout, config.fulfillment
        )
        notify = stages.notification
        self.channel_names = list(ROLES)
        self.chain = ConfirmationChain(
            env,
            [
                self._guard(dependency, notify.timeout, config.notification.channel(role))
                for role, dependency in zip(ROLES, notify.channels, strict=True)
            ],
            notify,
            config.notification.fallback_chain,
            uniforms(stream(seed, replication, "confirmation")),
            draws(notify.receipt_delay, stream(seed, replication, "email-receipt")),
        )
        processing = config.processing
        self.processing = processing
        self.mode = processing.mode
        self.workflow = processing.workflow
        self.event_delays = draws(processing.event_delay, stream(seed, replication, "events"))
        self.capture = (
            CaptureQueue(
                env,
                processing.queue_capacity,
                processing.consumers,
                self._deferred,
                processing.retry_delay,
            )
            if processing.mode != "sync"
            else None
        )
        self.crash_recovery = processing.crash_recovery
        self.down: dict[int | str, bool] = {}
        self.any_down = False
        self._restarts: dict[int | str, simpy.Event] = {}
        self.restart_times: list[float] = []
        self.resubmit = scenario_resubmit
        self.idempotency = config.idempotency_keys
        self._resubmit_draws = uniforms(stream(seed, replication, "resubmit"))
        self.fees = [
            (d.fee.percent, d.fee.fixed) if d.fee is not None else (0.0, 0.0)
            for d in (shop.dependencies[g] for g in self.gateway_names)
        ]
        nodes = shop.checkout.nodes
        self.workers = [SlotPool(env, shop.checkout.workers) for _ in range(nodes)]
        self.cart_latency: Iterator[float] = draws(
            stages.cart.latency, stream(seed, replication, "cart:latency")
        )
        self.cause_codes: dict[str, int] = {}
        # Per stage: [entries, inside now, total time]; read by the monitor and Little's law.
        self.stage_stats = {stage: [0, 0, 0.0] for stage in STAGES}
        self.active = 0  # order processes not yet finished

    def _guard(self, dependency: str, timeout: float, policy: StagePolicy) -> GuardedDependency:
        """``dependency`` wrapped in the stack ``policy`` describes, shared by all nodes."""
        return guards(self, dependency, timeout, BreakerState(), policy)[0]

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

    def cause(self, name: str) -> int:
        """Small integer code of a cause name, allocated on first use."""
        code = self.cause_codes.get(name)
        if code is None:
            code = self.cause_codes[name] = len(self.cause_codes)
        return code

    def bind(self, n: int) -> None:
        """Allocate the per-order columns for ``n`` orders."""
        self.outcome = [-1] * n
        self.cause_of = [-1] * n
        self.checkout_end = [math.nan] * n
        self.gateway = [-1] * n
        self.fee = [0.0] * n
        self.confirmed_by = [-2] * n  # -2 not completed; NO_CHANNEL; else ROLES index
        self.confirmed_at = [math.nan] * n
        self.sent = [0] * n  # confirmation messages sent
        self.duplicate = [0] * n  # 1 resubmitted and recognised, 2 charged twice
        self.arrival_of: list[float] = []
        self.patience_of: list[float] = []
        self.basket_of: list[float] = []
        self.cancel_delay: list[float] = [math.inf] * n  # after acceptance, if still queued
        self.cancel_at = [math.inf] * n
        self.queued = [False] * n
        self.interrupted = [False] * n
        self.resumed = [False] * n
        self.compensated_after_crash = [False] * n
        self.recovered_at = [math.nan] * n  # when recovery settled an interrupted order
        self.restarted_at = [math.nan] * n  # when its site came back
        self.saga = SagaLedger(n)
        self.final_at = [math.nan] * n  # when the order was definitively confirmed
        self.fulfilled = [False] * n
        self.failed_over = [False] * n
        self.stock_flag = [0] * n  # see Inventory.reserve
        self.product = [0] * n
        self.node_of = [0] * n  # the node whose stack charged the order

    def order(self, i: int, basket: float, patience: float) -> Generator[simpy.Event, Any, None]:
        """One customer's order, from checkout queue to confirmation.

        Hot path: stage statistics are kept inline, and sub-processes are entered
        directly, because every wrapping generator level costs on every resume.
        """
        env = self.env
        arrival = env.now
        deadline = arrival + patience
        stats = self.stage_stats
        self.active += 1
        node = i % len(self.workers)
        if self.any_down and self.down.get(node):
            node = self._live_node(node)  # the load balancer skips a crashed node
        pool = self.workers[node]
        stack = self.nodes[node]
        if not pool.try_acquire():
            granted = yield pool.wait(deadline)
            if not granted:
                self._end(i, ABANDONED, "queue")
                self.checkout_end[i] = env.now  # the customer left the queue: now, not at arrival
                self.active -= 1
                return
        # Cart: local work on the worker.
        st = stats["cart"]
        st[0] += 1
        st[1] += 1
        yield env.timeout(next(self.cart_latency))
        st[1] -= 1
        st[2] += env.now - arrival
        # Inventory: reserve a unit (or just ask, with unlimited stock).
        st = stats["inventory"]
        st[0] += 1
        st[1] += 1
        start = env.now
        if self.stock.stock is None:
            outcome = yield from stack.inventory.call(deadline)
        else:
            outcome = yield from self.stock.reserve(
                node, self.product[i], deadline, self.stock_flag, i
            )
        st[1] -= 1
        st[2] += env.now - start
        if outcome is SUCCESS and self.any_down and self.down.get(node):
            yield from interrupted(self, i, node, pool, "reserved", -1, basket)
            return
        if outcome is SUCCESS and self.capture is not None and self._defer(stack):
            if self.capture.offer(i):
                self.queued[i] = True
                self.cancel_at[i] = env.now + self.cancel_delay[i]
                self.checkout_end[i] = env.now  # the customer sees "order received"
                pool.release()
                return  # a consumer finishes this order; it stays counted as active
            outcome = QUEUE_FULL
        if outcome is SUCCESS:
            st = stats["payment"]
            st[0] += 1
            st[1] += 1
            start = env.now
            outcome, gateway, self.failed_over[i] = yield from stack.payment.pay(deadline)
            self.node_of[i] = node
            st[1] -= 1
            st[2] += env.now - start
            if outcome is SUCCESS and self.any_down and self.down.get(node):
                yield from interrupted(self, i, node, pool, "authorised", gateway, basket)
                return
            if outcome is SUCCESS:
                # Authorised: the order is recorded whether or not the customer still watches.
                st = stats["order_record"]
                st[0] += 1
                st[1] += 1
                start = env.now
                outcome = yield from stack.order_record.call()
                st[1] -= 1
                st[2] += env.now - start
                if outcome is SUCCESS and self.any_down and self.down.get(node):
                    yield from interrupted(self, i, node, pool, "recorded", gateway, basket)
                    return
                if outcome is not SUCCESS:
                    # Authorised but never recorded: the authorisation is voided, no fee.
                    self._lost(i, "order_record", outcome)
                else:
                    self._recorded(i, gateway, basket)
                    # In-app confirmation, on the page, while the worker still serves it.
                    st = stats["notification"]
                    st[0] += 1
                    st[1] += 1
                    start = env.now
                    confirmed, self.sent[i] = yield from self.chain.in_app(deadline)
                    if confirmed:
                        self.confirmed_by[i] = IN_APP
                        self.confirmed_at[i] = env.now
                    st[1] -= 1
                    st[2] += env.now - start
            elif outcome is CALL_DECLINED:
                self._end(i, DECLINED, "declined")
                self.gateway[i] = gateway
            else:
                self._lost(i, "payment", outcome)
        elif outcome is QUEUE_FULL:
            self._end(i, FAILED, "queue_full")
        else:
            self._lost(i, "inventory", outcome)
        self.checkout_end[i] = env.now
        pool.release()
        yield from self._finish(i)

    def _finish(self, i: int) -> Generator[simpy.Event, Any, None]:
        """After checkout (or a consumer's record): the saga's remaining steps, then
        fulfilment and confirmations, or the release of what a failed order held."""
        env = self.env
        stats = self.stage_stats
        if self.saga.pending[i]:
            gateway = self.nodes[self.node_of[i]].payment.by_code[self.gateway[i]]
            failed: str | None = INTERRUPTED
            choreographed = self.workflow == "choreography"
            while failed == INTERRUPTED:
                if self.down.get("orchestrator") and not choreographed:
                    self.interrupted[i] = True
                    yield self._restarts["orchestrator"]
                    self.restarted_at[i] = env.now
                    if not self.crash_recovery:
                        failed = "stuck_after_crash"
                        self.saga.without_order[i] = self.saga.taken[i]
                        break
                    self.resumed[i] = True
                failed = yield from run_saga(
                    self.saga,
                    i,
                    self.basket_of[i],
                    gateway,
                    self.fulfillment,
                    self.idempotency,
                    self._orchestrator_down if not choreographed else _never,
                    self._hop if choreographed else None,
                )
            if self.interrupted[i]:
                self.recovered_at[i] = env.now
            if failed is None:
                self.fulfilled[i] = True
                self._complete(i, self.gateway[i], self.basket_of[i])
            else:
                self._end(i, FAILED, failed)
                self.gateway[i] = -1
                self.sent[i] += 1  # the customer is told the order was cancelled
        if self.outcome[i] != COMPLETED:
            if self.stock_flag[i]:
                self.stock.release(self.product[i], self.stock_flag, i)
            self.active -= 1
            return
        if not self.fulfilled[i]:
            st = stats["fulfillment"]
            st[0] += 1
            st[1] += 1
            start = env.now
            outcome = yield from self.fulfillment.call()
            st[1] -= 1
            st[2] += env.now - start
            self.fulfilled[i] = outcome is SUCCESS
        if self.confirmed_by[i] != IN_APP:
            st = stats["notification"]
            st[0] += 1
            st[1] += 1
            start = env.now
            channel, sent = yield from self.chain.after_checkout()
            self.sent[i] += sent
            self.confirmed_by[i] = channel
            if channel != NO_CHANNEL:
                self.confirmed_at[i] = env.now
            st[1] -= 1
            st[2] += env.now - start
        if not self.queued[i]:  # "order received" was on the page: no reason to resubmit
            self._maybe_resubmit(i)
        self.active -= 1

    def _orchestrator_down(self) -> bool:
        return self.down.get("orchestrator", False)

    def _hop(self) -> simpy.Event:
        """One event's delivery on the broker, from one choreographed service to the next."""
        return self.env.timeout(next(self.event_delays))

    def _live_node(self, node: int) -> int:
        nodes = len(self.workers)
        for step in range(1, nodes):
            if not self.down.get((node + step) % nodes):
                return (node + step) % nodes
        return node  # every node is down: the order waits at its own

    def _recorded(self, i: int, gateway: int, basket: float) -> None:
        """The order is recorded: complete now, or leave capture and fulfilment to the saga."""
        if self.workflow != "simple":
            self.saga.pending[i] = True
            self.gateway[i] = gateway
            self.confirmed_by[i] = NO_CHANNEL
        else:
            self._complete(i, gateway, basket)

    def _complete(self, i: int, gateway: int, basket: float) -> None:
        self.outcome[i] = COMPLETED
        self.gateway[i] = gateway
        percent, fixed = self.fees[gateway]
        self.fee[i] = basket * percent + fixed
        if self.confirmed_by[i] == -2:  # a saga keeps the in-app confirmation it had
            self.confirmed_by[i] = NO_CHANNEL
        self.final_at[i] = self.env.now

    def _defer(self, stack: NodeStack) -> bool:
        """Asynchronous now? Always in async mode; in hybrid while the primary is open (as
        the node's own breaker, or its copy of the shared one, says)."""
        return self.mode == "async" or (
            self.mode == "hybrid" and stack.payment.gateways[0].is_open()
        )

    def _deferred(self, i: int, consumer: int) -> Generator[simpy.Event, Any, bool]:
        """A consumer's attempt at a queued order: True when the order is settled, False
        when the charge or the record failed and the order must wait its turn again.
        Consumers run on the checkout nodes in turn and call through their node's stack."""
        env = self.env
        node = consumer % len(self.nodes)
        stack = self.nodes[node]
        if self.down.get("orchestrator"):
            yield self._restarts["orchestrator"]  # consumers stop with the orchestrator
        cancel_at = self.cancel_at[i]
        if env.now < cancel_at:
            outcome, gateway, failed_over = yield from stack.payment.pay(cancel_at)
            self.failed_over[i] = self.failed_over[i] or failed_over
            self.node_of[i] = node
            if outcome is SUCCESS:
                outcome = yield from stack.order_record.call()
                if outcome is not SUCCESS:
                    return False  # authorisation voided; charge again later
                self._recorded(i, gateway, self.basket_of[i])
                env.process(self._finish(i))
                return True
            if outcome is CALL_DECLINED:
                self._end(i, DECLINED, "declined")
                self.gateway[i] = gateway
                self._settle_failed(i)
                return True
            if outcome is not CALL_ABANDONED:
                return False
        self._end(i, ABANDONED, "cancelled")  # the customer gave up on the order
        self._settle_failed(i)
        return True

    def _settle_failed(self, i: int) -> None:
        """A queued order that will never be charged: stock back, the customer told."""
        if self.stock_flag[i]:
            self.stock.release(self.product[i], self.stock_flag, i)
        self.sent[i] += 1
        self.active -= 1

    def _maybe_resubmit(self, i: int) -> None:
        """A customer with no confirmation within their patience may submit again: with
        idempotency keys the duplicate is recognised, without it is a second charge."""
        if not self.resubmit:
            return
        at = self.confirmed_at[i]
        if at == at and at - self.arrival_of[i] <= self.patience_of[i]:  # nan: never
            return
        if next(self._resubmit_draws) < self.resubmit:
            self.duplicate[i] = 1 if self.idempotency else 2
            if not self.idempotency:
                self.sent[i] += 1  # the duplicate order is confirmed too

    def _lost(self, i: int, stage: str, outcome: str) -> None:
        if outcome is CALL_ABANDONED:
            self._end(i, ABANDONED, stage)
        else:
            self._end(i, FAILED, f"{stage}_{outcome}")

    def _end(self, i: int, outcome: int, cause: str) -> None:
        self.outcome[i] = outcome
        self.cause_of[i] = self.cause(cause)
