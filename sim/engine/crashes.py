"""Crashes of a checkout node or of the orchestrator, and recovery from the event log."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.engine.nodes import NODE_MARK
from sim.engine.pool import SlotPool
from sim.engine.records import FAILED
from sim.resilience.breaker import CircuitBreaker
from sim.resilience.view import BreakerView

if TYPE_CHECKING:
    from sim.engine.shop import Shop


def crash(shop: Shop, site: int | str) -> None:
    """A checkout node (int) or the orchestrator stops: its work stops at the next step."""
    shop.down[site] = True
    shop.any_down = True
    shop._restarts[site] = shop.env.event()
    if isinstance(site, int):
        shop.workers[site].set_capacity(0)


def restart(shop: Shop, site: int | str) -> None:
    """The site is back: the recovery coordinator settles what the crash interrupted."""
    shop.down[site] = False
    shop.any_down = any(shop.down.values())
    shop.restart_times.append(shop.env.now)
    if isinstance(site, int):
        shop.workers[site].set_capacity(shop.model.checkout.workers)
        forget_node_state(shop, site)
    shop._restarts[site].succeed()


def forget_node_state(shop: Shop, node: int) -> None:
    """A restarted node lost what it held in memory: its own breakers start closed with
    empty windows, and its copies of shared breaker state are read again."""
    now = shop.env.now
    mark = f"{NODE_MARK}{node}"
    for name, breaker in shop.breakers.items():
        if isinstance(breaker, CircuitBreaker) and name.split(":")[0].endswith(mark):
            breaker.reset(now)
    stack = shop.nodes[node]
    guards = [stack.inventory, stack.order_record, *(g.guarded for g in stack.payment.gateways)]
    for guarded in guards:
        if isinstance(guarded.breaker, BreakerView):
            guarded.breaker.forget()


def interrupted(
    shop: Shop, i: int, node: int, pool: SlotPool, logged: str, gateway: int, basket: float
) -> Generator[simpy.Event, Any, None]:
    """The node crashed after step ``logged`` of order ``i``: the customer's connection
    dies; on restart the coordinator reads the log and resumes a recorded order or
    compensates one that was not (void the authorisation, release the stock)."""
    env = shop.env
    shop.interrupted[i] = True
    shop.checkout_end[i] = env.now
    pool.release()
    yield shop._restarts[node]
    shop.restarted_at[i] = env.now
    if not shop.crash_recovery:
        shop._end(i, FAILED, "stuck_after_crash")  # reservations stay held
        shop.active -= 1
        return
    shop.recovered_at[i] = env.now
    if logged == "recorded":
        shop.resumed[i] = True
        shop._recorded(i, gateway, basket)  # a saga will stamp recovered_at again
        yield from shop._finish(i)
        return
    shop.compensated_after_crash[i] = True
    shop._end(i, FAILED, "crash")
    if shop.stock_flag[i]:
        shop.stock.release(shop.product[i], shop.stock_flag, i)
    shop.active -= 1
