"""Asynchronous capture, competing consumers, and the sync / async / hybrid modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import RunResult, simulate
from sim.engine.records import COMPLETED
from tests.conftest import MODEL, write_scenario

OUTAGE = [{"target": "primary", "kind": "outage", "start": "1m", "duration": "1m"}]
BREAKER = {
    "minimum_number_of_calls": 10,
    "sliding_window_size": 20,
    "wait_duration_in_open_state": "5s",
}


def run(
    tmp_path: Path,
    configuration: dict[str, Any],
    faults: list[dict[str, Any]],
    model: str | None = None,
    **kw: Any,
) -> RunResult:
    extra = {"model": model} if model else {}
    path = write_scenario(
        tmp_path, faults=faults, configurations={"c": configuration}, **extra, **kw
    )
    return simulate(load_scenario(path), "c", 0)


def test_async_checkout_answers_before_the_charge(tmp_path: Path) -> None:
    result = run(tmp_path, {"processing": {"mode": "async"}}, [])
    row = summary_row(result)
    assert int(row["queued"]) > 0.99 * int(row["orders"])  # all but inventory failures
    assert float(row["checkout_p95_s"]) < 0.3  # no gateway call while the customer waits
    assert float(row["final_confirmation_p95_s"]) > float(row["checkout_p95_s"])


def test_orders_accepted_while_payment_is_down_are_charged_later(tmp_path: Path) -> None:
    sync = summary_row(run(tmp_path, {}, OUTAGE))
    deferred = summary_row(run(tmp_path, {"processing": {"mode": "async"}}, OUTAGE))
    assert int(deferred["queue_max_depth"]) > 100
    assert float(deferred["drain_time_s"]) > 0
    assert int(deferred["deferred_captured"]) > 0.9 * int(deferred["queued"])
    assert float(deferred["revenue_lost"]) < 0.2 * float(sync["revenue_lost"])


def test_customers_who_wait_too_long_cancel(tmp_path: Path) -> None:
    traffic = {
        "rate": "15/s",
        "basket": {"constant": 50},
        "patience": {"constant": "1m"},
        "cancel_after": {"constant": "20s"},
    }
    row = summary_row(run(tmp_path, {"processing": {"mode": "async"}}, OUTAGE, traffic=traffic))
    assert int(row["deferred_failed"]) > 0
    assert float(row["revenue_lost_abandoned"]) > 0


def test_a_full_queue_rejects_orders(tmp_path: Path) -> None:
    config = {"processing": {"mode": "async", "queue_capacity": 50}}
    row = summary_row(run(tmp_path, config, OUTAGE))
    assert int(row["queue_rejected"]) > 0
    assert int(row["queue_max_depth"]) <= 50


def test_hybrid_mode_queues_exactly_while_the_primary_breaker_is_open(tmp_path: Path) -> None:
    config = {"processing": {"mode": "hybrid"}, "payment": {"timeout": "2s", "breaker": BREAKER}}
    result = run(tmp_path, config, OUTAGE)
    intervals, opened = [], None
    for time, name, _old, new in result.transitions:
        if name != "primary":
            continue
        if new == "open" and opened is None:
            opened = time
        elif new != "open" and opened is not None:
            intervals.append((opened, time))
            opened = None
    assert intervals
    queued_at = result.checkout_end[result.queued]
    assert queued_at.size > 0

    def inside(t: float) -> bool:
        return any(a <= t <= b + 1e-9 for a, b in intervals)

    # Queued orders passed inventory while the breaker was open (checkout ends right then).
    assert all(inside(t) for t in queued_at)
    assert int(np.count_nonzero(result.queued)) < result.orders / 2


def test_drain_rate_matches_the_consumer_count(tmp_path: Path) -> None:
    """c consumers and a charge of constant length L drain c / L orders per second."""
    model = yaml.safe_load(MODEL.read_text())
    model["dependencies"]["primary"].update(
        {"latency": {"constant": "500ms"}, "errors": {}, "decline_rate": 0, "capacity": None}
    )
    model["dependencies"]["orders_db"].update({"latency": {"constant": "0ms"}, "errors": {}})
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(model))
    for consumers in (2, 4):
        result = run(
            tmp_path, {"processing": {"mode": "async", "consumers": consumers}}, [], model=str(path)
        )
        done = np.sort(result.final_at[result.outcome == COMPLETED])
        window = done[(done > 60) & (done < 180)]  # the queue is never empty here
        rate = window.size / 120
        assert abs(rate - consumers / 0.5) < 0.05 * consumers / 0.5


def test_fifo_hands_items_out_as_a_simpy_store_does() -> None:
    """The capture queue's Fifo against simpy.Store: same takers, same items, same instants,
    same order, with takers waiting and items waiting in turn."""
    import random

    import simpy

    from sim.engine.capture import Fifo

    def trace(make: Any) -> list[tuple[float, int, int]]:
        env = simpy.Environment()
        queue = make(env)
        rng = random.Random(3)
        log: list[tuple[float, int, int]] = []

        def taker(k: int) -> Any:
            while True:
                item = yield queue.get()
                log.append((env.now, k, item))
                yield env.timeout(rng.choice([0.0, 0.3, 1.0]))

        def producer(first: int) -> Any:
            for item in range(first, first + 100):
                queue.put(item)
                yield env.timeout(rng.choice([0.0, 0.1, 0.5, 2.0]))

        for k in range(4):
            env.process(taker(k))
        env.process(producer(0))
        env.process(producer(100))
        env.run(until=300)
        return log

    expected = trace(simpy.Store)
    assert len(expected) == 200
    assert trace(Fifo) == expected
