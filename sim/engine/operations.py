"""Operating a running shop: configuration changes and the actions of rules."""

from __future__ import annotations

from collections.abc import Callable

from sim.config.breakers import CategoryBreakers, ExternalBreaker
from sim.config.configuration import Configuration, StagePolicy
from sim.engine.calls import GuardedDependency
from sim.engine.confirmation_chain import ROLES
from sim.engine.nodes import dependency_of
from sim.engine.shop import Shop
from sim.engine.stack import retry_setup
from sim.resilience.breaker import CircuitBreaker
from sim.resilience.policy import BreakerPolicy
from sim.resilience.view import BreakerView


def reconfigure(shop: Shop, config: Configuration) -> None:
    """Apply a configuration change everywhere at once: every node and the back office."""
    seen: set[int] = set()
    for node, stack in enumerate(shop.nodes):
        if id(stack) not in seen:  # nodes often share one stack
            seen.add(id(stack))
            reconfigure_node(shop, node, config)
    reconfigure_back_office(shop, config)


def reconfigure_node(shop: Shop, node: int, config: Configuration) -> None:
    """Apply a change on one checkout node: timeouts, retries and breaker parameters of
    inventory, payment and the order record, and payment routing. Breakers keep their
    state; layers are neither added nor removed. A breaker shared by the nodes takes the
    parameters of the last node that wrote them."""
    stack = shop.nodes[node]
    stages = shop.model.stages
    _restack(stack.inventory, config.inventory, stages.inventory.timeout)
    _restack(stack.order_record, config.order_record, stages.order_record.timeout)
    for gateway in stack.payment.gateways:
        _restack(gateway.guarded, config.payment, stages.payment.timeout)
    stack.payment.set_policy(config.payment)


def reconfigure_back_office(shop: Shop, config: Configuration) -> None:
    """Apply the shop-wide part of a change at once: fulfilment, the confirmation chain,
    the stock cache, idempotency and the processing mode."""
    stages = shop.model.stages
    _restack(shop.fulfillment, config.fulfillment, stages.fulfillment.timeout)
    channels = (shop.chain.in_app_channel, shop.chain.email_channel, shop.chain.sms_channel)
    for role, guarded in zip(ROLES, channels, strict=True):
        _restack(guarded, config.notification.channel(role), stages.notification.timeout)
    shop.chain.fallback_chain = config.notification.fallback_chain
    shop.stock.ttl = config.inventory.cache_ttl
    shop.stock.grace = config.inventory.grace_units
    shop.idempotency = config.idempotency_keys
    processing = config.processing
    shop.processing = processing
    shop.mode, shop.workflow = processing.mode, processing.workflow
    if processing.mode != "sync" and shop.capture is None:
        shop.start_capture()


def act(shop: Shop, action: str, target: str) -> Callable[[], None]:
    """Carry out a rule's action now, on every node; returns the function that lifts it."""
    now = shop.env.now
    if action == "force_open":
        forced = [  # the target's breaker, or every node's own instance of it
            b
            for name, b in shop.breakers.items()
            if isinstance(b, CircuitBreaker) and ":" not in name and dependency_of(name) == target
        ]

        def close() -> None:
            for breaker in forced:
                breaker.transition_to(shop.env.now, "closed")

        for breaker in forced:  # none: no breaker of ours to force
            breaker.transition_to(now, "forced_open")
        return close
    if action == "route_to":
        code = shop.gateway_names.index(target)
        for payment in shop.payments:
            payment.prefer(code)

        def unroute() -> None:
            for payment in shop.payments:
                payment.prefer(None)

        return unroute
    mode = shop.mode
    shop.mode = "async"
    if shop.capture is None:
        shop.start_capture()

    def back() -> None:
        shop.mode = mode

    return back


def _restack(guarded: GuardedDependency, policy: StagePolicy, timeout: float) -> None:
    retry, budget = retry_setup(policy.retry)
    if type(budget) is type(guarded.budget):  # the same kind keeps what it has counted
        budget = guarded.budget
    guarded.set_policy(policy.timeout if policy.timeout is not None else timeout, retry, budget)
    breaker, spec = guarded.breaker, policy.breaker
    if isinstance(breaker, BreakerView):
        breaker = breaker.shared  # a node's copy: the parameters live with the shared state
    if not isinstance(breaker, CircuitBreaker) or spec is None:
        return
    if isinstance(spec, CategoryBreakers | ExternalBreaker):
        return  # groups and outside breakers keep the parameters they were built with
    breaker.reconfigure(BreakerPolicy.from_spec(spec))
