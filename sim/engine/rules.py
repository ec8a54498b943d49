"""Operational rules: watch a dependency's error rate over a sliding window and act (force
a breaker open, route payments to another gateway, switch to asynchronous capture) for a
hold time, then lift the action and let the traffic show whether it is still needed."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any

import simpy

from sim.config.scenario import Rule
from sim.engine.operations import act
from sim.engine.shop import Shop

TICK = 1.0  # seconds between evaluations


def run_rule(
    env: simpy.Environment, shop: Shop, rule: Rule, events: list[tuple[float, str]]
) -> Generator[simpy.Event, Any, None]:
    """Evaluate ``rule`` every second for the whole run."""
    dependency = shop.dependencies[rule.dependency]
    history: deque[tuple[float, int, int]] = deque([(env.now, 0, 0)])
    while True:
        yield env.timeout(TICK)  # env.timeout: once a simulated second, off the hot path
        now = env.now
        history.append((now, dependency.calls, dependency.errors))
        while history and history[0][0] < now - rule.window:
            history.popleft()
        _, calls0, errors0 = history[0]
        calls = dependency.calls - calls0
        if calls < rule.minimum_calls:
            continue
        rate = (dependency.errors - errors0) / calls
        if rate <= rule.error_rate_above:
            continue
        label = f"{rule.action} {rule.target or rule.dependency}"
        events.append((now, f"rule on: {label} ({rule.dependency} errors {rate:.0%})"))
        undo = act(shop, rule.action, rule.target or rule.dependency)
        yield env.timeout(rule.hold)  # once per firing
        undo()
        events.append((env.now, f"rule off: {label}"))
        history.clear()
        history.append((env.now, dependency.calls, dependency.errors))
