"""The order processes: one per customer, from the checkout queue to the last confirmation.

An order holds a checkout worker from cart to in-app confirmation, so a hanging dependency
exhausts workers, new orders queue, and customers whose patience runs out leave. The saga's
capture, fulfilment and the remaining confirmations run after the confirmation page, off
the worker. Hot path: sub-processes are entered directly (each wrapping generator level
costs on every resume) and stage statistics are attribute updates, not calls.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sim.engine.clock import Step, spawn
from sim.engine.confirmation_chain import IN_APP
from sim.engine.nodes import NodeStack
from sim.engine.orders import NO_CHANNEL
from sim.engine.pool import SlotPool
from sim.engine.records import ABANDONED, COMPLETED, DECLINED, FAILED
from sim.engine.saga import INTERRUPTED, run_saga
from sim.engine.shop import Shop
from sim.resilience.outcomes import ABANDONED as CALL_ABANDONED
from sim.resilience.outcomes import DECLINED as CALL_DECLINED
from sim.resilience.outcomes import SUCCESS

QUEUE_FULL = "queue_full"  # the capture queue turned the order away
# What the node's log holds once a checkout step succeeded (a crash resumes from it).
LOGGED = {"inventory": "reserved", "payment": "authorised", "order_record": "recorded"}
Steps = Generator[Step, Any, None]


class Checkout:
    """Runs orders through a ``Shop``; ``order(i)`` is order ``i``'s process."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.env = shop.env
        self.orders = shop.orders
        self.stats = shop.stats
        self.sites = shop.sites
        self.saga = shop.saga
        self.workers = shop.workers
        self.nodes = shop.nodes
        self.stock = shop.stock
        self.chain = shop.chain
        self.cart_latency = shop.cart_latency
        shop.settle_deferred = self.deferred
        if shop.processing.mode != "sync":
            shop.start_capture()

    def order(self, i: int) -> Steps:
        """One customer's order: the checkout queue; cart, inventory, payment, order record
        and in-app confirmation on a worker; then ``after_checkout``. A failed step, or a
        crash, hands over to ``_stopped``; an order may leave queued for capture. Each wait
        is yielded here or in a call entered directly (a generator level costs per resume)."""
        env = self.env
        orders = self.orders
        stats = self.stats
        sites = self.sites
        orders.active += 1
        deadline = env.now + orders.patience[i]
        node = i % len(self.workers)
        if sites.any_down and sites.is_down(node):
            node = self._live_node(node)  # the load balancer skips a crashed node
        pool = self.workers[node]
        stack = self.nodes[node]
        if not pool.try_acquire() and not (yield pool.wait(deadline)):
            self._left_queue(i)
            return
        # Cart: local work on the worker, timed from here as its occupancy is (Little's law
        # per stage). Each stage counts its entries, exits and the time spent inside.
        stats.cart.entries += 1
        start = env.now
        yield next(self.cart_latency)
        now = env.now
        stats.cart.exits += 1
        stats.cart.time += now - start
        # Inventory: reserve a unit (or just ask, with unlimited stock).
        start = now
        stats.inventory.entries += 1
        if self.stock.stock is None:
            outcome = yield from stack.inventory.call(deadline)
        else:
            product = orders.product[i]
            outcome = yield from self.stock.reserve(node, product, deadline, orders.stock_flag, i)
        now = env.now
        stats.inventory.exits += 1
        stats.inventory.time += now - start
        if outcome != SUCCESS or (sites.any_down and sites.is_down(node)):
            yield from self._stopped(i, node, pool, "inventory", outcome)
            return
        if self.shop.capture is not None and self._defer(stack):
            if self._queue_for_capture(i, pool):
                return  # a consumer finishes this order; it stays counted as active
            yield from self._stopped(i, node, pool, "inventory", QUEUE_FULL)
            return
        # Payment: through the node's gateways, failing over as configured.
        start = now
        stats.payment.entries += 1
        outcome, gateway, orders.failed_over[i] = yield from stack.payment.pay(deadline)
        orders.node_of[i] = node
        now = env.now
        stats.payment.exits += 1
        stats.payment.time += now - start
        if outcome != SUCCESS or (sites.any_down and sites.is_down(node)):
            yield from self._stopped(i, node, pool, "payment", outcome, gateway)
            return
        # Order record: authorised, so recorded whether or not the customer still watches.
        start = now
        stats.order_record.entries += 1
        outcome = yield from stack.order_record.call()
        now = env.now
        stats.order_record.exits += 1
        stats.order_record.time += now - start
        if outcome != SUCCESS or (sites.any_down and sites.is_down(node)):
            yield from self._stopped(i, node, pool, "order_record", outcome, gateway)
            return
        self._recorded(i, gateway)
        # In-app confirmation, on the page, while the worker still serves it.
        start = now
        stats.notification.entries += 1
        confirmed, orders.notifications_sent[i] = yield from self.chain.in_app(deadline)
        now = env.now
        if confirmed:
            orders.confirmed_by[i] = IN_APP
            orders.confirmed_at[i] = now
        stats.notification.exits += 1
        stats.notification.time += now - start
        yield from self._checkout_ended(i, pool)

    def _left_queue(self, i: int) -> None:
        """The customer's patience ran out in the checkout queue: they leave now."""
        orders = self.orders
        orders.end(i, ABANDONED, "queue")
        orders.checkout_end[i] = self.env.now  # now, not at arrival
        orders.active -= 1

    def _stopped(
        self, i: int, node: int, pool: SlotPool, step: str, outcome: str, gateway: int = -1
    ) -> Steps:
        """Checkout step ``step`` of order ``i`` ended in ``outcome`` (or succeeded on a node
        that has crashed since): what comes next, as a generator for the order to enter.
        A plain function, not a generator: no generator level of its own."""
        orders = self.orders
        if outcome == SUCCESS:
            return self._interrupted(i, node, pool, LOGGED[step], gateway)
        if outcome == QUEUE_FULL:
            orders.end(i, FAILED, QUEUE_FULL)
        elif step == "payment" and outcome == CALL_DECLINED:
            orders.end(i, DECLINED, "declined")  # the customer's answer, not a loss
            orders.gateway[i] = gateway
        else:
            orders.lost(i, step, outcome)  # after the payment: the authorisation is voided
        return self._checkout_ended(i, pool)

    def _checkout_ended(self, i: int, pool: SlotPool) -> Steps:
        """The customer sees the result and the worker is free; the order goes on with
        ``after_checkout`` (handed back, not wrapped: no generator level)."""
        self.orders.checkout_end[i] = self.env.now
        pool.release()
        return self.after_checkout(i)

    def after_checkout(self, i: int) -> Steps:
        """After checkout (or a consumer's record): the saga's remaining steps, then
        fulfilment and confirmations, or the release of what a failed order held."""
        env = self.env
        orders = self.orders
        stats = self.stats
        if self.saga.pending[i]:
            yield from self._saga(i)
        if orders.outcome[i] != COMPLETED:
            if orders.stock_flag[i]:
                self.stock.release(orders.product[i], orders.stock_flag, i)
            orders.active -= 1
            return
        if not orders.fulfilled[i]:
            start = env.now
            stats.fulfillment.entries += 1
            outcome = yield from self.shop.fulfillment.call()
            stats.fulfillment.exits += 1
            stats.fulfillment.time += env.now - start
            orders.fulfilled[i] = outcome == SUCCESS
        if orders.confirmed_by[i] != IN_APP:
            start = env.now
            stats.notification.entries += 1
            channel, sent = yield from self.chain.after_checkout()
            orders.notifications_sent[i] += sent
            orders.confirmed_by[i] = channel
            if channel != NO_CHANNEL:
                orders.confirmed_at[i] = env.now
            stats.notification.exits += 1
            stats.notification.time += env.now - start
        if self.shop.resubmit and not orders.queued[i]:
            self._maybe_resubmit(i)  # not queued: "order received" was not on the page
        orders.active -= 1

    def deferred(self, i: int, consumer: int) -> Generator[Step, Any, bool]:
        """A consumer's attempt at a queued order: True when the order is settled, False
        when the charge or the record failed and the order must wait its turn again.
        Consumers run on the checkout nodes in turn and call through their node's stack."""
        env = self.env
        orders = self.orders
        node = consumer % len(self.nodes)
        stack = self.nodes[node]
        if self.sites.is_down("orchestrator"):
            yield self.sites.restarted("orchestrator")  # consumers stop with the orchestrator
        cancel_at = orders.cancel_at[i]
        if env.now < cancel_at:
            outcome, gateway, failed_over = yield from stack.payment.pay(cancel_at)
            orders.failed_over[i] = orders.failed_over[i] or failed_over
            orders.node_of[i] = node
            if outcome == SUCCESS:
                outcome = yield from stack.order_record.call()
                if outcome != SUCCESS:
                    return False  # authorisation voided; charge again later
                self._recorded(i, gateway)
                spawn(env, self.after_checkout(i))
                return True
            if outcome == CALL_DECLINED:
                orders.end(i, DECLINED, "declined")
                orders.gateway[i] = gateway
                self._settle_failed(i)
                return True
            if outcome != CALL_ABANDONED:
                return False
        orders.end(i, ABANDONED, "cancelled")  # the customer gave up on the order
        self._settle_failed(i)
        return True

    # -- steps ------------------------------------------------------------------------------
    def _saga(self, i: int) -> Steps:
        """Capture and hand to fulfilment, resuming after orchestrator crashes; the order
        completes, or fails after its compensations."""
        env = self.env
        orders = self.orders
        shop = self.shop
        saga = self.saga
        sites = self.sites
        gateway = self.nodes[orders.node_of[i]].payment.by_code[orders.gateway[i]]
        choreographed = shop.workflow == "choreography"
        failed: str | None = INTERRUPTED
        while failed == INTERRUPTED:
            if sites.is_down("orchestrator") and not choreographed:
                orders.interrupted[i] = True
                yield sites.restarted("orchestrator")
                orders.restarted_at[i] = env.now
                if not shop.crash_recovery:
                    failed = "stuck_after_crash"
                    saga.without_order[i] = saga.taken[i]
                    break
                orders.resumed[i] = True
            failed = yield from run_saga(
                saga,
                i,
                orders.basket[i],
                gateway,
                shop.fulfillment,
                shop.idempotency,
                _never if choreographed else self._orchestrator_down,
                self._hop if choreographed else None,
            )
        if orders.interrupted[i]:
            orders.recovered_at[i] = env.now
        if failed is None:
            orders.fulfilled[i] = True
            self._complete(i, orders.gateway[i])
        else:
            orders.end(i, FAILED, failed)
            orders.gateway[i] = -1
            orders.notifications_sent[i] += 1  # the customer is told the order was cancelled

    def _interrupted(self, i: int, node: int, pool: SlotPool, logged: str, gateway: int) -> Steps:
        """The node crashed after step ``logged`` of order ``i``: the customer's connection
        dies; on restart the coordinator reads the log and resumes a recorded order or
        compensates one that was not (void the authorisation, release the stock)."""
        env = self.env
        orders = self.orders
        orders.interrupted[i] = True
        orders.checkout_end[i] = env.now
        pool.release()
        yield self.sites.restarted(node)
        orders.restarted_at[i] = env.now
        if not self.shop.crash_recovery:
            orders.end(i, FAILED, "stuck_after_crash")  # reservations stay held
            orders.active -= 1
            return
        orders.recovered_at[i] = env.now
        if logged == "recorded":
            orders.resumed[i] = True
            self._recorded(i, gateway)  # a saga will stamp recovered_at again
            yield from self.after_checkout(i)
            return
        orders.compensated_after_crash[i] = True
        orders.end(i, FAILED, "crash")
        if orders.stock_flag[i]:
            self.stock.release(orders.product[i], orders.stock_flag, i)
        orders.active -= 1

    def _queue_for_capture(self, i: int, pool: SlotPool) -> bool:
        """Hand order ``i`` to the capture queue; False when the queue is full."""
        capture = self.shop.capture
        assert capture is not None
        if not capture.offer(i):
            return False
        orders = self.orders
        now = self.env.now
        orders.queued[i] = True
        orders.cancel_at[i] = now + orders.cancel_delay[i]
        orders.checkout_end[i] = now  # the customer sees "order received"
        pool.release()
        return True  # a consumer finishes this order; it stays counted as active

    def _recorded(self, i: int, gateway: int) -> None:
        """The order is recorded: complete now, or leave capture and fulfilment to the saga."""
        if self.shop.workflow != "simple":
            self.saga.pending[i] = True
            self.orders.gateway[i] = gateway
            self.orders.confirmed_by[i] = NO_CHANNEL
        else:
            self._complete(i, gateway)

    def _complete(self, i: int, gateway: int) -> None:
        percent, fixed = self.shop.fees[gateway]
        fee = round(self.orders.basket[i] * percent + fixed, 2)  # charged in whole cents
        self.orders.complete(i, gateway, fee, self.env.now)

    def _defer(self, stack: NodeStack) -> bool:
        """Asynchronous now? Always in async mode; in hybrid while the primary is open (as
        the node's own breaker, or its copy of the shared one, says)."""
        mode = self.shop.mode
        return mode == "async" or (mode == "hybrid" and stack.payment.gateways[0].is_open())

    def _settle_failed(self, i: int) -> None:
        """A queued order that will never be charged: stock back, the customer told."""
        orders = self.orders
        if orders.stock_flag[i]:
            self.stock.release(orders.product[i], orders.stock_flag, i)
        orders.notifications_sent[i] += 1
        orders.active -= 1

    def _maybe_resubmit(self, i: int) -> None:
        """A customer with no confirmation within their patience may submit again: with
        idempotency keys the duplicate is recognised, without it is a second charge."""
        shop = self.shop
        orders = self.orders
        at = orders.confirmed_at[i]
        if at == at and at - orders.arrival[i] <= orders.patience[i]:  # nan: never
            return
        if next(shop.resubmit_draws) < shop.resubmit:
            orders.duplicate[i] = 1 if shop.idempotency else 2
            if not shop.idempotency:
                orders.notifications_sent[i] += 1  # the duplicate order is confirmed too

    def _live_node(self, node: int) -> int:
        nodes = len(self.workers)
        for step in range(1, nodes):
            if not self.sites.is_down((node + step) % nodes):
                return (node + step) % nodes
        return node  # every node is down: the order waits at its own

    def _orchestrator_down(self) -> bool:
        return self.sites.is_down("orchestrator")

    def _hop(self) -> float:
        """One event's delivery on the broker, from one choreographed service to the next:
        a plain delay to yield."""
        return float(next(self.shop.event_delays))


def _never() -> bool:
    return False
