"""Operating a running shop: configuration changes and the actions of rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.config.breakers import CategoryBreakers, ExternalBreaker
from sim.config.policy import Configuration, StagePolicy
from sim.engine.calls import GuardedDependency
from sim.engine.capture import CaptureQueue
from sim.engine.confirmation import ROLES
from sim.engine.stack import retry_setup
from sim.resilience.breaker import CircuitBreaker
from sim.resilience.presets import policy_from_spec

if TYPE_CHECKING:
    from sim.engine.shop import Shop


def reconfigure(shop: Shop, config: Configuration) -> None:
    """Apply a configuration change while running: timeouts, retries, breaker
    parameters, routing, grace buffers, the confirmation chain, processing mode and
    idempotency. Breakers keep their state; layers are neither added nor removed."""
    stages = shop.model.stages
    _restack(shop.inventory, config.inventory, stages.inventory.timeout)
    _restack(shop.order_record, config.order_record, stages.order_record.timeout)
    _restack(shop.fulfillment, config.fulfillment, stages.fulfillment.timeout)
    for gateway in shop.payment.gateways:
        _restack(gateway.guarded, config.payment, stages.payment.timeout)
    shop.payment.set_policy(config.payment)
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
        start_capture(shop)


def act(shop: Shop, action: str, target: str) -> Callable[[], None]:
    """Carry out a rule's action now; returns the function that lifts it."""
    now = shop.env.now
    if action == "force_open":
        breaker = shop.breakers.get(target)
        if not isinstance(breaker, CircuitBreaker):
            return lambda: None  # no breaker of ours to force
        breaker.transition_to(now, "forced_open")
        return lambda: breaker.transition_to(shop.env.now, "closed")
    if action == "route_to":
        shop.payment.prefer(shop.gateway_names.index(target))
        return lambda: shop.payment.prefer(None)
    mode = shop.mode
    shop.mode = "async"
    if shop.capture is None:
        start_capture(shop)

    def back() -> None:
        shop.mode = mode

    return back


def start_capture(shop: Shop) -> None:
    """Start the capture queue when a run switches to asynchronous capture midway."""
    processing = shop.processing
    shop.capture = CaptureQueue(
        shop.env,
        processing.queue_capacity,
        processing.consumers,
        shop._deferred,
        processing.retry_delay,
    )


def _restack(guarded: GuardedDependency, policy: StagePolicy, timeout: float) -> None:
    guarded.timeout = policy.timeout if policy.timeout is not None else timeout
    guarded.retry, guarded.budget = retry_setup(policy.retry)
    breaker, spec = guarded.breaker, policy.breaker
    if not isinstance(breaker, CircuitBreaker) or spec is None:
        return
    if isinstance(spec, CategoryBreakers | ExternalBreaker):
        return  # groups and outside breakers keep the parameters they were built with
    breaker.reconfigure(policy_from_spec(spec))
