"""A checkout node's cached view of a breaker whose state lives in a shared store."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.resilience.breaker import (
    CLOSED,
    FORCED_OPEN,
    HALF_OPEN,
    OPEN,
    BreakerPolicy,
    CircuitBreaker,
)
from sim.resilience.view import BreakerView

EPS = 1e-9


def policy(permits: int = 3, wait: float = 10.0) -> BreakerPolicy:
    """Trips on 3 failures in a row, stays open ``wait`` s, then ``permits`` trial calls."""
    return BreakerPolicy(
        window="consecutive",
        failure_rate_threshold=None,
        failure_count_threshold=3,
        wait_duration_in_open_state=wait,
        permitted_number_of_calls_in_half_open_state=permits,
    )


class Counting:
    """A shared breaker that counts how often the views ask it."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self.breaker = breaker
        self.allows = 0
        self.records = 0

    @property
    def state(self) -> str:
        return self.breaker.state

    @property
    def generation(self) -> Any:
        return self.breaker.generation

    def allow(self, now: float) -> bool:
        self.allows += 1
        return self.breaker.allow(now)

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: Any = None
    ) -> None:
        self.records += 1
        self.breaker.record(now, outcome, duration, generation)


def trip(breaker: CircuitBreaker, now: float) -> None:
    for _ in range(3):
        assert breaker.allow(now)
        breaker.record(now, "timeout", 0.0, breaker.generation)
    assert breaker.state == OPEN


# -- read_delay 0: the view is the shared breaker ------------------------------------------

OPERATION = st.tuples(
    st.floats(min_value=0.0, max_value=8.0, allow_nan=False),  # time step
    st.sampled_from(["allow", "success", "timeout", "declined", "server_error"]),
    st.booleans(),  # record with the generation read at the last allow (else None)
)


@settings(max_examples=150, deadline=None)
@given(st.lists(OPERATION, max_size=60), st.integers(min_value=1, max_value=4))
def test_a_view_without_read_delay_is_the_shared_breaker(
    operations: list[tuple[float, str, bool]], permits: int
) -> None:
    alone = CircuitBreaker(policy(permits, wait=5.0))
    store = CircuitBreaker(policy(permits, wait=5.0))
    view = BreakerView(store, 0.0)
    now = 0.0
    gen_alone: int | None = None
    gen_view: int | None = None
    for step, op, carry in operations:
        now += step
        if op == "allow":
            assert view.allow(now) == alone.allow(now)
            gen_alone, gen_view = alone.generation, view.generation
            assert gen_view == gen_alone  # the generation the decision was made in
            assert view.state == alone.state  # what the node believes, just read
        else:
            view.record(now, op, 0.0, gen_view if carry else None)
            alone.record(now, op, 0.0, gen_alone if carry else None)
        assert store.state == alone.state
        assert store.generation == alone.generation
        assert store.trips == alone.trips
        assert store.open_until == alone.open_until
    assert view.reads == sum(op == "allow" for _, op, _ in operations)


# -- a stale copy ---------------------------------------------------------------------------


def test_a_stale_closed_copy_allows_until_exactly_read_at_plus_read_delay() -> None:
    store = Counting(CircuitBreaker(policy()))
    view = BreakerView(store, 5.0)
    assert view.allow(2.0) and view.read_at == 2.0 and view.state == CLOSED
    trip(store.breaker, 3.0)  # other nodes' failures open the shared breaker
    asked = store.allows
    for now in (3.0, 4.5, 6.999, 7.0 - EPS):
        assert view.allow(now), now  # the copy still says closed
    assert store.allows == asked and view.reads == 1 and view.state == CLOSED
    assert not view.allow(7.0)  # 7.0 - 2.0 >= 5.0: a fresh read
    assert view.reads == 2 and view.read_at == 7.0 and view.state == OPEN
    assert store.allows == asked + 1
    assert not view.allow(9.0)  # now the stale copy says open
    assert store.allows == asked + 1


def test_a_stale_open_copy_refuses_after_the_store_went_half_open_and_closed() -> None:
    store = Counting(CircuitBreaker(policy(permits=1, wait=10.0)))
    view = BreakerView(store, 5.0)
    trip(store.breaker, 0.0)  # open until 10.0
    assert not view.allow(9.0) and view.state == OPEN  # read at 9.0, stale until 14.0
    # Another node's call at 10.5 moves the store to half-open and takes the only permit.
    assert store.breaker.allow(10.5) and store.breaker.state == HALF_OPEN
    assert not view.allow(11.0)
    assert store.breaker._permits == 0
    # The trial succeeds: the store closes; this node's copy still says open.
    store.breaker.record(11.5, "success", 0.0, store.breaker.generation)
    assert store.breaker.state == CLOSED
    asked = store.allows
    assert not view.allow(12.0)
    assert not view.allow(14.0 - EPS)
    assert store.allows == asked and view.state == OPEN
    assert view.allow(14.0)  # the next read
    assert view.state == CLOSED and view.reads == 2


def test_a_stale_forced_open_copy_refuses_until_the_next_read() -> None:
    store = CircuitBreaker(policy())
    view = BreakerView(store, 3.0)
    store.transition_to(0.0, FORCED_OPEN)
    assert not view.allow(1.0) and view.state == FORCED_OPEN
    store.transition_to(1.5, CLOSED)
    assert not view.allow(4.0 - EPS)
    assert view.allow(4.0) and view.state == CLOSED


@pytest.mark.parametrize("permits", [1, 3, 7])
def test_half_open_permits_are_shared_by_every_view_of_the_store(permits: int) -> None:
    store = CircuitBreaker(policy(permits, wait=10.0))
    a, b = BreakerView(store, 30.0), BreakerView(store, 30.0)
    trip(store, 0.0)
    now = 10.5  # past the open wait: the first fresh read moves the store to half-open
    granted = 0
    for k in range(4 * permits):
        view = a if k % 2 == 0 else b
        granted += view.allow(now + 0.01 * k)
    assert store.state == HALF_OPEN
    assert a.state == b.state == HALF_OPEN  # each read once, then asked the store
    assert a.reads == b.reads == 1
    assert granted == permits


def test_records_from_a_stale_view_after_the_store_opened_leave_it_open() -> None:
    store = CircuitBreaker(policy(wait=10.0))
    view = BreakerView(store, 5.0)
    assert view.allow(0.0)
    trip(store, 1.0)  # open until 11.0
    generation, until, trips = store.generation, store.open_until, store.trips
    for k in range(20):  # the stale copy keeps sending calls; all fail or succeed
        now = 1.0 + 0.2 * k
        assert view.allow(now)
        view.record(now + 0.1, "success" if k % 2 else "timeout", 0.05, view.generation)
        view.record(now + 0.1, "timeout", 0.05, None)
    assert store.state == OPEN
    assert (store.generation, store.open_until, store.trips) == (generation, until, trips)


def test_a_record_of_a_call_begun_before_the_store_opened_is_not_counted() -> None:
    store = CircuitBreaker(policy(wait=10.0))
    view = BreakerView(store, 5.0)
    assert view.allow(0.0)
    before = view.generation
    trip(store, 1.0)
    store.allow(11.5)  # half-open now, a new generation
    assert store.state == HALF_OPEN
    view.record(12.0, "timeout", 0.0, before)  # permitted back when it was closed
    assert store.state == HALF_OPEN and store.trips == 1


def test_a_stale_closed_copy_is_no_trial_call_of_a_half_open_store() -> None:
    """Half-open permits are atomic in the store: a call a stale "closed" copy let through
    carries the generation it last read, so its result neither closes the store nor uses
    up the probe another node holds."""
    store = CircuitBreaker(policy(permits=1, wait=10.0))
    stale, prober = BreakerView(store, 30.0), BreakerView(store, 0.0)
    assert stale.allow(0.0)  # read at 0: closed
    trip(store, 1.0)
    assert prober.allow(11.5) and store.state == HALF_OPEN  # the one probe
    probe = prober.generation
    assert stale.allow(12.0) and stale.state == CLOSED  # still its copy from 0 s
    stale.record(12.5, "success", 0.1, stale.generation)
    assert store.state == HALF_OPEN  # not counted: permitted under the closed state
    prober.record(13.0, "success", 0.1, probe)
    assert store.state == CLOSED  # the real probe decided


@pytest.mark.parametrize("delay", [-1.0, -EPS, -math.inf])
def test_a_negative_read_delay_is_refused(delay: float) -> None:
    with pytest.raises(ValueError, match="read_delay"):
        BreakerView(CircuitBreaker(policy()), delay)
