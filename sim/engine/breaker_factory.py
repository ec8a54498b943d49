"""Breakers of a configuration, built from their specs for one run."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sim.config.breakers import CategoryBreakers, ExternalBreaker
from sim.resilience.breaker import FAILURE_CATEGORIES, CircuitBreaker
from sim.resilience.group import BreakerGroup
from sim.resilience.policy import BreakerPolicy
from sim.resilience.protocol import Breaker

Listener = Callable[[float, str, str], None]  # (now, old state, new state)
__all__ = ["Breaker", "Listener", "build_breakers"]


def build_breakers(
    spec: Any, name: str, listen: Callable[[str], Listener]
) -> tuple[Breaker, dict[str, Any]]:
    """The breaker guarding dependency ``name``, and every breaker to monitor by name.

    ``listen(name)`` gives the transition listener of a monitored breaker.
    """
    if isinstance(spec, CategoryBreakers):
        members = []
        for category, member_spec in spec.per_category.items():
            member_name = f"{name}:{category}"
            policy = dataclasses.replace(
                BreakerPolicy.from_spec(member_spec),
                record=frozenset({category}),
                ignore=frozenset(FAILURE_CATEGORIES) - {category},
            )
            members.append(
                CircuitBreaker(policy, name=member_name, listeners=[listen(member_name)])
            )
        return BreakerGroup(members, name), {m.name: m for m in members}
    if isinstance(spec, ExternalBreaker):
        from sim.resilience.plugins import load_breaker

        breaker = load_breaker(spec.class_path, spec.args)
        subscribe = getattr(breaker, "subscribe", None)
        if subscribe is not None:
            subscribe(listen(name))
        return breaker, {name: breaker}
    breaker = CircuitBreaker(BreakerPolicy.from_spec(spec), name=name, listeners=[listen(name)])
    return breaker, {name: breaker}
