"""What a breaker group and a node's view pass on to the breakers behind them, watched
through a spy breaker: the arguments of every call, the permits handed back, and the state
and generation they report."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sim.resilience.breaker import CANCELLED, CLOSED, FORCED_OPEN, HALF_OPEN, OPEN
from sim.resilience.group import BreakerGroup
from sim.resilience.view import BreakerView


class Spy:
    """A breaker that answers as told and writes down every call."""

    def __init__(self, state: str = CLOSED, allows: bool = True, generation: Any = 0) -> None:
        self.state = state
        self.allows = allows
        self.generation = generation
        self.trips = 0
        self.calls: list[tuple[Any, ...]] = []

    def allow(self, now: float) -> bool:
        self.calls.append(("allow", now))
        return self.allows

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: Any = None
    ) -> None:
        self.calls.append(("record", now, outcome, duration, generation))


def group(*members: Spy, name: str = "") -> BreakerGroup:
    return BreakerGroup(list(members), name=name)  # type: ignore[arg-type]


# -- BreakerGroup ---------------------------------------------------------------------------


def test_a_group_needs_a_member() -> None:
    with pytest.raises(ValueError) as info:
        BreakerGroup([])
    assert str(info.value) == "a breaker group needs at least one member"


def test_a_group_keeps_its_name_and_reports_its_members() -> None:
    a, b = Spy(generation=3), Spy(generation=7)
    a.trips, b.trips = 2, 5
    g = group(a, b, name="payment")
    assert g.name == "payment" and BreakerGroup([a]).name == ""  # type: ignore[list-item]
    assert g.generation == (3, 7)
    assert g.trips == 7


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((CLOSED, CLOSED), CLOSED),
        ((CLOSED, HALF_OPEN), HALF_OPEN),
        ((HALF_OPEN, OPEN), OPEN),  # open wins over an earlier half-open
        ((FORCED_OPEN, HALF_OPEN), FORCED_OPEN),  # else the first that is not closed
    ],
)
def test_a_groups_state(states: tuple[str, str], expected: str) -> None:
    assert group(*(Spy(state=s) for s in states)).state == expected


def test_a_group_allows_when_every_member_allows() -> None:
    a, b = Spy(), Spy()
    assert group(a, b).allow(4.0) is True
    assert a.calls == [("allow", 4.0)] and b.calls == [("allow", 4.0)]


def test_a_refusal_hands_back_the_permits_already_taken() -> None:
    a, b, c, d = Spy(generation=1), Spy(generation=2), Spy(allows=False), Spy()
    assert group(a, b, c, d).allow(4.0) is False
    assert a.calls == [("allow", 4.0), ("record", 4.0, CANCELLED, 0.0, 1)]
    assert b.calls == [("allow", 4.0), ("record", 4.0, CANCELLED, 0.0, 2)]
    assert c.calls == [("allow", 4.0)]
    assert d.calls == []  # never asked


def test_a_group_records_to_every_member_with_its_own_generation() -> None:
    a, b = Spy(), Spy()
    g = group(a, b)
    g.record(5.0, "timeout", 1.5, (3, 9))
    g.record(6.0, "success")
    assert a.calls == [("record", 5.0, "timeout", 1.5, 3), ("record", 6.0, "success", 0.0, None)]
    assert b.calls == [("record", 5.0, "timeout", 1.5, 9), ("record", 6.0, "success", 0.0, None)]


# -- BreakerView ----------------------------------------------------------------------------


def test_a_view_refuses_a_negative_delay() -> None:
    with pytest.raises(ValueError) as info:
        BreakerView(Spy(), -0.1)  # type: ignore[arg-type]
    assert str(info.value) == "read_delay must be >= 0"


def test_a_new_view_believes_closed_in_the_stores_generation() -> None:
    view = BreakerView(Spy(state=OPEN, generation=4), 1.0)  # type: ignore[arg-type]
    assert view.state == CLOSED and view.generation == 4
    assert (view.read_generation, view.reads, view.read_at) == (4, 0, -math.inf)


def test_a_view_asks_the_store_at_its_own_instant() -> None:
    shared = Spy(generation=2)
    view = BreakerView(shared, 1.0)  # type: ignore[arg-type]
    assert view.allow(3.0)
    assert shared.calls == [("allow", 3.0)] and view.reads == 1


def test_a_stale_half_open_copy_takes_its_permit_from_the_store() -> None:
    shared = Spy(state=HALF_OPEN, generation=5)
    view = BreakerView(shared, 10.0)  # type: ignore[arg-type]
    assert view.allow(1.0) and view.state == HALF_OPEN and view.generation == 5
    shared.generation = 6  # the store moved on (another node's probe)
    shared.allows = False
    assert not view.allow(2.0)  # a stale copy, yet the store is asked
    assert shared.calls[-1] == ("allow", 2.0)
    assert view.generation == 6 and view.read_generation == 5


def test_forget_makes_the_next_decision_read_the_store() -> None:
    shared = Spy(state=OPEN, allows=False, generation=1)
    view = BreakerView(shared, 100.0)  # type: ignore[arg-type]
    assert not view.allow(0.0) and view.state == OPEN
    shared.state, shared.allows, shared.generation = CLOSED, True, 2
    assert not view.allow(1.0)  # a stale copy that says open
    view.forget()
    assert view.state == CLOSED and view.generation == 2 and view.read_generation == 2
    assert view.allow(2.0) and view.reads == 2  # read afresh at once


def test_a_view_writes_results_to_the_store_as_given() -> None:
    shared = Spy()
    view = BreakerView(shared, 1.0)  # type: ignore[arg-type]
    view.record(7.0, "timeout", 2.0, 3)
    view.record(8.0, "success")
    assert shared.calls == [
        ("record", 7.0, "timeout", 2.0, 3),
        ("record", 8.0, "success", 0.0, None),
    ]
