"""Outside breakers, exactly: the messages that name what is wrong and where, which objects
get wrapped, what a wrapper passes on, the exception classes that stand for failure
categories, and the simulated clock pybreaker reads (inside and outside its window, in
another thread)."""

from __future__ import annotations

import copy
import threading
import time
import types
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from sim.resilience import pybreaker_adapter
from sim.resilience.breaker import CLOSED, HALF_OPEN, OPEN, STATES
from sim.resilience.plugins import (
    BreakerClassError,
    TrackedBreaker,
    as_breaker,
    load_breaker,
)
from sim.resilience.pybreaker_adapter import (
    EPOCH,
    PybreakerAdapter,
    SimulatedFailure,
    _SimulatedDatetime,
    failure_exception,
    simulated_clock,
)

PROTOCOL = "(needs allow(now) -> bool, record(now, outcome, duration, generation), state: str)"
HERE = __name__


class Partial:
    """allow, record and state only: gets wrapped."""

    def __init__(self, state: str = CLOSED) -> None:
        self.state = state
        self.calls: list[tuple[Any, ...]] = []

    def allow(self, now: float) -> bool:
        return True

    def record(self, now: float, outcome: str, duration: float = 0.0) -> None:
        self.calls.append((now, outcome, duration))
        if outcome == "trip":
            self.state = OPEN
        if outcome == "weird":
            self.state = "ajar"


class Full(Partial):
    """The whole protocol: returned as it is."""

    generation = 0
    trips = 0

    def record(  # type: ignore[override]
        self, now: float, outcome: str, duration: float = 0.0, generation: Any = None
    ) -> None:
        self.calls.append((now, outcome, duration))

    def subscribe(self, listener: Any) -> None:
        pass


class NoRecord:
    def allow(self, now: float) -> bool:
        return True


class Outer:
    class Inner(Partial):
        pass


class Boom(Partial):
    def __init__(self) -> None:
        raise RuntimeError("boom")


class BadState(Partial):
    def __init__(self) -> None:
        super().__init__("ajar")


# -- failure categories as exception classes ------------------------------------------------


def test_a_failure_category_is_one_named_exception_class() -> None:
    cls = failure_exception("server_error")
    assert cls is failure_exception("server_error")
    assert issubclass(cls, SimulatedFailure) and cls.category == "server_error"
    assert (cls.__name__, cls.__module__) == (
        "SimulatedFailure_server_error",
        pybreaker_adapter.__name__,
    )
    # A name never used before: the classes are cached, and a cached one proves nothing.
    fresh = f"gateway-5xx {uuid.uuid4().hex}"
    odd = failure_exception(fresh)
    assert odd.__name__ == "SimulatedFailure_gateway_5xx_" + fresh.split()[1]
    assert odd.category == fresh and odd.__module__ == pybreaker_adapter.__name__
    assert issubclass(odd, SimulatedFailure) and failure_exception(fresh) is odd


# -- what gets wrapped, and the messages ----------------------------------------------------


def test_a_partial_breaker_is_wrapped_and_a_full_one_is_not() -> None:
    assert isinstance(as_breaker(Partial()), TrackedBreaker)
    full = Full()
    assert as_breaker(full) is full


@pytest.mark.parametrize("missing", ["generation", "trips", "subscribe"])
def test_a_breaker_missing_any_tracking_part_is_wrapped(missing: str) -> None:
    obj = Partial()
    parts = {"generation": 0, "trips": 0, "subscribe": lambda listener: None}
    for name, value in parts.items():
        if name != missing:
            setattr(obj, name, value)
    assert isinstance(as_breaker(obj), TrackedBreaker)


def test_a_breaker_without_the_protocol_is_named() -> None:
    with pytest.raises(ValueError) as info:
        as_breaker(object())
    assert str(info.value) == (
        f"breaker 'object' lacks the breaker protocol: missing allow, record, state {PROTOCOL}"
    )
    with pytest.raises(ValueError) as info:
        as_breaker(NoRecord(), where="pkg:NoRecord")
    assert str(info.value) == (
        f"breaker 'pkg:NoRecord' lacks the breaker protocol: missing record, state {PROTOCOL}"
    )


def test_a_breaker_in_an_unknown_state_is_named() -> None:
    with pytest.raises(ValueError) as info:
        as_breaker(Partial("ajar"))
    assert str(info.value) == f"breaker 'Partial' reports state 'ajar'; expected one of {STATES}"
    with pytest.raises(ValueError) as info:
        TrackedBreaker(Partial("ajar"))
    assert str(info.value) == f"breaker 'Partial' reports state 'ajar'; expected one of {STATES}"


@pytest.mark.parametrize(
    ("attrs", "shape"),
    [
        ({"allow": lambda: True}, "allow(now)"),
        ({"record": lambda now: None}, "record(now, outcome, duration)"),
        (
            {"record": lambda now: None, "generation": 0, "trips": 0, "subscribe": lambda f: None},
            "record(now, outcome, duration, generation)",
        ),
        ({"subscribe": lambda: None}, "subscribe(listener)"),
    ],
)
def test_a_method_of_the_wrong_shape_is_named(attrs: dict[str, Any], shape: str) -> None:
    obj = Full() if "subscribe" in attrs else Partial()
    for name, value in attrs.items():
        setattr(obj, name, value)
    with pytest.raises(ValueError) as info:
        as_breaker(obj, where="pkg:Odd")
    assert str(info.value).startswith("breaker 'pkg:Odd': ")
    assert f"does not accept {shape}: " in str(info.value)


def test_load_breaker_messages() -> None:
    with pytest.raises(BreakerClassError) as info:
        load_breaker(f"{HERE}:Partial", {1: 2})  # type: ignore[dict-item]
    assert str(info.value) == (
        f"breaker args for '{HERE}:Partial' must be a mapping of names to values"
    )
    with pytest.raises(BreakerClassError) as info:
        load_breaker(f"{HERE}:Boom")
    assert str(info.value) == f"breaker '{HERE}:Boom' raised RuntimeError when built: boom"
    with pytest.raises(BreakerClassError) as info:
        load_breaker(f"{HERE}:BadState")
    assert str(info.value) == (
        f"breaker '{HERE}:BadState' reports state 'ajar'; expected one of {STATES}"
    )
    with pytest.raises(BreakerClassError) as info:
        load_breaker(f"{HERE}:NoRecord")
    assert str(info.value) == (
        f"breaker '{HERE}:NoRecord' lacks the breaker protocol: missing record {PROTOCOL}"
    )


def test_load_breaker_finds_a_nested_class() -> None:
    assert isinstance(load_breaker(f"{HERE}:Outer.Inner"), TrackedBreaker)


# -- TrackedBreaker -------------------------------------------------------------------------


def test_a_tracked_breaker_passes_results_on_and_reports_transitions_when_they_happen() -> None:
    inner = Partial()
    events: list[tuple[float, str, str]] = []
    tracked = TrackedBreaker(inner, listeners=[lambda *e: events.append(e)])
    tracked.record(1.0, "success")
    tracked.record(2.0, "timeout", 0.5)
    tracked.record(3.0, "trip", 0.1, 0)
    assert inner.calls == [(1.0, "success", 0.0), (2.0, "timeout", 0.5), (3.0, "trip", 0.1)]
    assert events == [(3.0, CLOSED, OPEN)] and tracked.trips == 1 and tracked.generation == 1
    tracked.record(4.0, "success", 0.0, 0)  # from before the trip: not passed on
    assert len(inner.calls) == 3


def test_a_tracked_breaker_refuses_a_state_that_turns_unknown() -> None:
    tracked = TrackedBreaker(Partial())
    with pytest.raises(ValueError) as info:
        tracked.record(1.0, "weird")
    assert str(info.value) == f"breaker 'Partial' reports state 'ajar'; expected one of {STATES}"


def test_a_tracked_breaker_copies_and_reads_through() -> None:
    tracked = TrackedBreaker(Partial())
    assert copy.copy(tracked).state == CLOSED
    assert tracked.calls == []  # read from the wrapped breaker
    bare = TrackedBreaker.__new__(TrackedBreaker)
    with pytest.raises(AttributeError) as info:
        _ = bare.inner
    assert str(info.value) == "inner"


# -- pybreaker: the import, the clock, the adapter -----------------------------------------


def test_without_pybreaker_the_adapter_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> types.ModuleType:
        raise ImportError(name)

    monkeypatch.setattr(pybreaker_adapter.importlib, "import_module", refuse)
    with pytest.raises(ImportError) as info:
        PybreakerAdapter()
    assert str(info.value) == (
        "PybreakerAdapter needs pybreaker>=1.4: pip install 'breakerlab[pybreaker]'"
    )


def test_the_simulated_clock_inside_and_outside_its_window() -> None:
    plus2 = timezone(timedelta(hours=2))
    outside = _SimulatedDatetime.now(UTC)
    assert outside.tzinfo is not None and outside.year >= 2024
    assert _SimulatedDatetime.utcnow().tzinfo is None
    assert _SimulatedDatetime.utcnow().year >= 2024
    with simulated_clock(90.0):
        assert _SimulatedDatetime.now(UTC) == EPOCH + timedelta(seconds=90)
        assert _SimulatedDatetime.now(plus2).utcoffset() == timedelta(hours=2)
        assert _SimulatedDatetime.now() == datetime(2000, 1, 1, 0, 1, 30)
        assert _SimulatedDatetime.utcnow() == datetime(2000, 1, 1, 0, 1, 30)


def test_the_simulated_clock_in_a_fresh_thread_and_nested() -> None:
    seen: list[Any] = []

    def run() -> None:
        with simulated_clock(5.0) as outer:
            with simulated_clock(7.0):
                seen.append(_SimulatedDatetime.now(UTC))
            seen.append(_SimulatedDatetime.now(UTC))
            seen.append(outer)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [EPOCH + timedelta(seconds=7), EPOCH + timedelta(seconds=5)] * 1 + [
        EPOCH + timedelta(seconds=5)
    ]


def test_a_pybreaker_that_reads_its_clock_otherwise_is_refused() -> None:
    module = types.ModuleType("fakebreaker")
    with pytest.raises(RuntimeError) as info, simulated_clock(1.0, module):
        pass
    assert str(info.value) == (
        "fakebreaker.datetime is None, not datetime.datetime: "
        "this pybreaker reads its clock differently (the adapter needs 1.4.x)"
    )


def test_the_adapter_builds_pybreakers_defaults_and_names() -> None:
    adapter = PybreakerAdapter()
    assert (adapter.breaker.fail_max, adapter.breaker.reset_timeout) == (5, 60)
    assert adapter.name == "" and adapter.breaker.name is None
    named = PybreakerAdapter(name="payment")
    assert named.name == "payment" and named.breaker.name == "payment"


def test_an_adopted_breaker_keeps_the_listeners_given() -> None:
    import pybreaker

    events: list[tuple[float, str, str]] = []
    adapter = PybreakerAdapter.from_breaker(
        pybreaker.CircuitBreaker(fail_max=1, reset_timeout=10),
        listeners=[lambda *e: events.append(e)],
    )
    adapter.record(3.0, "timeout")
    adapter.transition_to(4.0, HALF_OPEN)
    assert events == [(3.0, CLOSED, OPEN), (4.0, OPEN, HALF_OPEN)]


def test_a_path_to_something_that_is_not_a_class_is_named() -> None:
    with pytest.raises(BreakerClassError) as info:
        load_breaker("os.path:join")
    assert str(info.value) == (
        "'os.path:join' is a function, not a class: a breaker is a class with allow(now), "
        "record(now, outcome, duration) and state"
    )
    with pytest.raises(BreakerClassError) as info:
        load_breaker("os:sep")
    assert str(info.value).startswith("'os:sep' is an object of type str, not a class")


class Nothing:
    pass


def test_a_class_without_the_protocol_is_named() -> None:
    with pytest.raises(BreakerClassError) as info:
        load_breaker(f"{HERE}:Nothing")
    assert str(info.value) == (
        f"breaker '{HERE}:Nothing' lacks the breaker protocol: missing allow, record {PROTOCOL}"
    )


def test_a_change_between_calls_is_reported_at_the_next_call() -> None:
    inner = Partial()
    events: list[tuple[float, str, str]] = []
    tracked = TrackedBreaker(inner, listeners=[lambda *e: events.append(e)])
    inner.state = OPEN  # a timer of its own, say
    tracked.record(5.0, "success")
    assert events == [(5.0, CLOSED, OPEN)]


def test_utcnow_outside_a_window_is_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+5:30, no summer time
    time.tzset()
    try:
        gap = _SimulatedDatetime.utcnow() - datetime.now(UTC).replace(tzinfo=None)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert abs(gap) < timedelta(minutes=1)


def test_utcnow_in_a_thread_that_never_opened_a_window() -> None:
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(_SimulatedDatetime.utcnow()))
    thread.start()
    thread.join()
    assert len(seen) == 1 and seen[0].tzinfo is None
