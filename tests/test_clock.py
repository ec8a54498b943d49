"""sim.engine.clock against SimPy itself: ``sleep`` orders events as ``env.timeout`` does,
``Clock.run`` stops where ``Environment.run`` stops, and ``Clock.now`` never goes stale."""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy

from sim.engine.clock import Clock, sleep

Log = list[tuple[float, int, int]]


def _trace(env: simpy.Environment, wait: Callable[[simpy.Environment, float], simpy.Event]) -> Log:
    """Processes that wait random (often equal) delays and log each wake-up; the log is
    the order in which events were processed."""
    rng = random.Random(7)
    log: Log = []

    def worker(k: int) -> Generator[simpy.Event, Any, None]:
        for step in range(30):
            yield wait(env, rng.choice([0.0, 0.5, 1.0, rng.random()]))
            log.append((env.now, k, step))

    for k in range(20):
        env.process(worker(k))
    env.run(until=6.0)  # a stop that lands on instants where events are due
    env.run(until=6.5)
    env.run()
    return log


def test_sleep_and_clock_process_events_in_simpys_order() -> None:
    reference = _trace(simpy.Environment(), lambda env, delay: env.timeout(delay))
    assert _trace(simpy.Environment(), sleep) == reference
    assert _trace(Clock(), sleep) == reference
    assert _trace(Clock(), lambda env, delay: env.timeout(delay)) == reference


@pytest.mark.parametrize("make", [simpy.Environment, Clock])
def test_events_at_the_stop_instant_wait_for_the_next_run(
    make: Callable[[], simpy.Environment],
) -> None:
    env = make()
    seen: list[float] = []
    sleep(env, 2.0).callbacks.append(lambda _: seen.append(env.now))
    env.run(until=2.0)
    assert seen == [] and env.now == 2.0
    env.run(until=3.0)
    assert seen == [2.0] and env.now == 3.0


def test_clock_now_follows_step_and_run_until_an_event() -> None:
    env = Clock()
    env.timeout(1.5)
    env.step()
    assert env.now == env._now == 1.5
    done = env.timeout(2.0, value="done")
    assert env.run(until=done) == "done"
    assert env.now == env._now == 3.5
    with pytest.raises(ValueError, match="greater than the current time"):
        env.run(until=3.0)


def test_a_sleep_is_an_ordinary_event() -> None:
    env = Clock()
    first = env.any_of([sleep(env, 1.0), env.timeout(2.0)])
    env.run(until=first)
    assert env.now == 1.0
    with pytest.raises(ValueError, match="negative delay"):
        sleep(env, -0.1)


def test_an_unhandled_failure_crashes_the_run_as_in_simpy() -> None:
    env = Clock()

    def broken() -> Generator[simpy.Event, Any, None]:
        yield sleep(env, 1.0)
        raise KeyError("boom")

    env.process(broken())
    with pytest.raises(KeyError, match="boom"):
        env.run(until=5.0)
