"""Inventory with finite stock: pessimistic reservation at checkout, a cache of
availability on each checkout node, and a grace buffer that keeps selling from the cache
while the inventory service is down. Each node only knows its own sales, so together the
nodes can sell stock that no longer exists: those units are oversold."""

from __future__ import annotations

import math
from collections.abc import Generator, MutableSequence
from typing import Any

from sim.config.scenario import InventoryPolicy
from sim.engine.calls import GuardedDependency
from sim.engine.clock import Step
from sim.resilience.outcomes import ABANDONED, SUCCESS

STOCKOUT = "stockout"


class Inventory:
    """Stock as the warehouse knows it, and as checkout's cache remembers it."""

    def __init__(
        self,
        guards: list[GuardedDependency],
        policy: InventoryPolicy,
        stock: list[int] | None,
    ) -> None:
        self.guards = guards  # per checkout node (often the same object for all)
        self.env = guards[0].env
        nodes = len(guards)
        self.ttl = policy.cache_ttl
        self.grace = policy.grace_units
        self.stock = stock  # None: unlimited
        n = len(stock) if stock is not None else 0
        # Per checkout node and product: cached level, when fetched, grace units used.
        self.cached = [[0] * n for _ in range(nodes)]
        self.cached_at = [[-math.inf] * n for _ in range(nodes)]
        self.grace_used = [[0] * n for _ in range(nodes)]
        self.oversold_now = 0

    def reserve(
        self, node: int, product: int, deadline: float, flags: MutableSequence[int], i: int
    ) -> Generator[Step, Any, str]:
        """Reserve one unit for order ``i``; ``flags[i]``: 1 reserved, 2 from cache,
        3 from cache and oversold, 0 nothing to give back."""
        outcome = yield from self.guards[node].call(deadline)
        stock = self.stock
        if stock is None:
            return outcome
        now = self.env.now
        cached, used = self.cached[node], self.grace_used[node]
        if outcome == SUCCESS:
            self.cached_at[node][product] = now
            used[product] = 0
            if stock[product] <= 0:
                cached[product] = 0
                return STOCKOUT
            stock[product] -= 1
            cached[product] = stock[product]
            flags[i] = 1
            return SUCCESS
        if outcome == ABANDONED or not self.grace:
            return outcome
        fresh = now - self.cached_at[node][product] <= self.ttl
        if fresh and cached[product] > 0 and used[product] < self.grace:
            used[product] += 1
            cached[product] -= 1
            if stock[product] > 0:
                stock[product] -= 1
                flags[i] = 2
            else:
                self.oversold_now += 1
                flags[i] = 3
            return SUCCESS
        return outcome

    def release(self, product: int, flags: MutableSequence[int], i: int) -> None:
        """Give back order ``i``'s unit: its payment or recording failed, or it left."""
        flag = flags[i]
        if self.stock is None or flag == 0:
            return
        if flag == 3:
            self.oversold_now -= 1
        else:
            self.stock[product] += 1
        flags[i] = 0

    @property
    def units_left(self) -> int:
        return sum(self.stock) if self.stock is not None else 0
