"""Bring your own breaker: loading by class path, the protocol wrapper, and real pybreaker
on simulated time.

pybreaker facts (1.4.1 source, docs/breaker-semantics.md): consecutive
failures >= fail_max trip; any success resets the counter; open -> half-open on the first
call with now >= opened_at + reset_timeout; in half-open, success_threshold successes close
and any failure re-opens; an excluded exception counts as a success.
"""

from __future__ import annotations

import importlib
import math
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pybreaker
import pytest

from sim.resilience.breaker import CLOSED, HALF_OPEN, OPEN
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
    failure_exception,
    simulated_clock,
)

ROOT = Path(__file__).resolve().parents[1]
HERE = "tests.test_external_breaker"


def loaded(name: str) -> Any:
    """``name`` as load_breaker sees it: pytest imports this file under another module name,
    so ``tests.test_external_breaker`` is a second copy with classes of its own."""
    return getattr(importlib.import_module(HERE), name)


# --------------------------------------------------------------------------- user classes


class Thing:
    """A user's minimal breaker: allow, record, state and nothing else."""

    def __init__(self, threshold: int = 2, wait: float = 10.0) -> None:
        self.threshold = threshold
        self.wait = wait
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.recorded: list[str] = []

    def allow(self, now: float) -> bool:
        if self.state == OPEN and now >= self.opened_at + self.wait:
            self.state = HALF_OPEN
        return self.state != OPEN

    def record(self, now: float, outcome: str, duration: float = 0.0) -> None:
        self.recorded.append(outcome)
        if outcome == "success":
            self.failures = 0
            self.state = CLOSED
            return
        self.failures += 1
        if self.state == HALF_OPEN or self.failures >= self.threshold:
            self.state = OPEN
            self.opened_at = now

    def force(self, state: str) -> None:
        self.state = state


class FullThing(Thing):
    """A user's breaker with the whole protocol: used as it is, never wrapped."""

    def __init__(self, threshold: int = 2, wait: float = 10.0) -> None:
        super().__init__(threshold, wait)
        self.generation = 0
        self.trips = 0
        self.listeners: list[Any] = []

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None:
        super().record(now, outcome, duration)

    def subscribe(self, listener: Any) -> None:
        self.listeners.append(listener)


class NoRecord:
    state = CLOSED

    def allow(self, now: float) -> bool:
        return True


class NoState:
    def allow(self, now: float) -> bool:
        return True

    def record(self, now: float, outcome: str, duration: float = 0.0) -> None:
        pass


class OddState(Thing):
    def __init__(self) -> None:
        super().__init__()
        self.state = "tripped"


class TwoArgRecord(Thing):
    def record(self, now: float, outcome: str) -> None:  # type: ignore[override]
        super().record(now, outcome)


class ZeroArgAllow(Thing):
    def allow(self) -> bool:  # type: ignore[override]
        return True


NOT_CALLABLE = 42


CALLED: list[int] = []


def make_thing(threshold: int = 3) -> Thing:
    """A factory function: load_breaker refuses it without calling it (a ``class:`` that
    named subprocess:getoutput used to run it)."""
    CALLED.append(threshold)
    return Thing(threshold=threshold)


# --------------------------------------------------------------------------- load_breaker


def test_load_by_class_path_wraps_a_minimal_breaker() -> None:
    breaker = load_breaker(f"{HERE}:Thing", {"threshold": 3, "wait": 5.0})
    assert isinstance(breaker, TrackedBreaker)
    assert isinstance(breaker.inner, loaded("Thing"))
    assert breaker.inner.threshold == 3 and breaker.inner.wait == 5.0
    assert breaker.state == CLOSED and breaker.generation == 0 and breaker.trips == 0


def test_load_without_args() -> None:
    assert isinstance(load_breaker(f"{HERE}:Thing").inner, loaded("Thing"))  # type: ignore[attr-defined]


def test_a_function_is_refused_without_being_called() -> None:
    with pytest.raises(BreakerClassError, match="is a function, not a class"):
        load_breaker(f"{HERE}:make_thing", {"threshold": 7})
    with pytest.raises(BreakerClassError, match="is a function, not a class"):
        load_breaker("subprocess:getoutput", {"cmd": "echo called"})
    assert loaded("CALLED") == []


def test_a_full_protocol_breaker_is_returned_unwrapped() -> None:
    breaker = load_breaker(f"{HERE}:FullThing", {"threshold": 4})
    assert type(breaker) is loaded("FullThing")


def test_the_project_breaker_and_the_adapter_load_unwrapped() -> None:
    ours = load_breaker("sim.resilience.breaker:CircuitBreaker", {})
    assert type(ours).__name__ == "CircuitBreaker"
    adapter = load_breaker(
        "sim.resilience.pybreaker_adapter:PybreakerAdapter",
        {"fail_max": 2, "reset_timeout": 1.0, "exclude": ["connection"]},
    )
    assert isinstance(adapter, PybreakerAdapter)
    assert adapter.breaker.fail_max == 2 and adapter.breaker.reset_timeout == 1.0


@pytest.mark.parametrize(
    "path",
    [
        "Thing",
        "tests.test_external_breaker",
        "tests.test_external_breaker:",
        ":Thing",
        "tests.test_external_breaker::Thing",
        "tests/test_external_breaker.py:Thing",
        "tests.test_external_breaker:Thing()",
        "",
    ],
)
def test_a_malformed_path_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match=re.escape("must look like 'package.module:ClassName'")):
        load_breaker(path, {})


def test_a_missing_module_is_named() -> None:
    with pytest.raises(ValueError, match=re.escape("cannot import module 'tests.no_such_module'")):
        load_breaker("tests.no_such_module:Thing", {})


def test_a_missing_attribute_is_named() -> None:
    with pytest.raises(ValueError, match="has no attribute 'Nothing'"):
        load_breaker(f"{HERE}:Nothing", {})
    with pytest.raises(ValueError, match=re.escape("has no attribute 'Thing.Inner'")):
        load_breaker(f"{HERE}:Thing.Inner", {})


def test_something_not_callable_is_refused() -> None:
    with pytest.raises(ValueError, match="an object of type int, not a class"):
        load_breaker(f"{HERE}:NOT_CALLABLE", {})


def test_wrong_constructor_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"cannot instantiate .*\['colour'\]"):
        load_breaker(f"{HERE}:Thing", {"colour": "red"})


def test_args_must_be_a_mapping() -> None:
    with pytest.raises(ValueError, match="must be a mapping"):
        load_breaker(f"{HERE}:Thing", [("threshold", 2)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("NoRecord", "missing record"),
        ("NoState", "missing state"),
        ("OddState", "reports state 'tripped'"),
        ("TwoArgRecord", r"does not accept record\(now, outcome, duration\)"),
        ("ZeroArgAllow", r"does not accept allow\(now\)"),
    ],
)
def test_protocol_checks(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_breaker(f"{HERE}:{name}", {})


def test_object_missing_everything_lists_all_of_it() -> None:
    with pytest.raises(ValueError, match="missing allow, record, state"):
        as_breaker(object())


# --------------------------------------------------------------------------- TrackedBreaker


def tracked(threshold: int = 2, wait: float = 10.0) -> tuple[TrackedBreaker, list[Any]]:
    events: list[Any] = []
    breaker = load_breaker(f"{HERE}:Thing", {"threshold": threshold, "wait": wait})
    assert isinstance(breaker, TrackedBreaker)
    breaker.subscribe(lambda now, old, new: events.append((now, old, new)))
    return breaker, events


def test_wrapper_reports_each_transition_with_generation_and_trips() -> None:
    b, events = tracked(threshold=2, wait=10.0)
    assert b.allow(0.0)
    b.record(1.0, "timeout", 1.0, b.generation)
    assert events == [] and b.generation == 0
    b.record(2.0, "timeout", 1.0, b.generation)
    assert events == [(2.0, CLOSED, OPEN)]
    assert b.state == OPEN and b.generation == 1 and b.trips == 1
    assert not b.allow(11.9)
    assert b.allow(12.0)  # Thing's own rule: >= opened_at + wait
    assert events[-1] == (12.0, OPEN, HALF_OPEN) and b.generation == 2
    g = b.generation
    b.record(12.5, "timeout", 0.5, g)
    assert events[-1] == (12.5, HALF_OPEN, OPEN) and b.trips == 2
    assert b.allow(22.5)
    b.record(23.0, "success", 0.5, b.generation)
    assert events[-1] == (23.0, HALF_OPEN, CLOSED)
    assert [e[1:] for e in events] == [
        (CLOSED, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, CLOSED),
    ]
    assert b.generation == 5 and b.trips == 2


def test_wrapper_drops_results_of_calls_admitted_under_an_earlier_state() -> None:
    b, _ = tracked(threshold=1, wait=5.0)
    assert b.allow(0.0)
    early = b.generation
    assert b.allow(0.0)
    b.record(1.0, "timeout", 1.0, b.generation)  # trips
    assert b.state == OPEN
    assert b.allow(6.0) and b.state == HALF_OPEN
    b.record(6.5, "success", 6.5, early)  # began while closed: must not close half-open
    assert b.state == HALF_OPEN
    assert b.inner.recorded == ["timeout"]
    b.record(7.0, "success")  # no generation: always passed on
    assert b.state == CLOSED


def test_wrapper_notices_changes_made_outside_allow_and_record() -> None:
    b, events = tracked()
    b.inner.force(OPEN)
    assert b.state == OPEN  # read live
    assert not b.allow(3.0)
    assert events == [(3.0, CLOSED, OPEN)] and b.trips == 1


def test_wrapper_forwards_other_attributes_and_rejects_unknown_states() -> None:
    b, _ = tracked(threshold=9)
    assert b.threshold == 9
    b.force("sideways")
    with pytest.raises(ValueError, match="reports state 'sideways'"):
        b.allow(1.0)


# --------------------------------------------------------------------------- pybreaker adapter


def adapter(**kwargs: Any) -> tuple[PybreakerAdapter, list[Any]]:
    events: list[Any] = []
    a = PybreakerAdapter(**kwargs)
    a.subscribe(lambda now, old, new: events.append((now, old, new)))
    return a, events


def fail(a: PybreakerAdapter, now: float, n: int = 1, outcome: str = "timeout") -> None:
    for _ in range(n):
        assert a.allow(now)
        a.record(now, outcome, 0.0, a.generation)


def test_consecutive_failures_trip_and_any_success_resets_the_count() -> None:
    a, events = adapter(fail_max=3, reset_timeout=10.0)
    fail(a, 1.0, 2)
    assert a.allow(1.0)
    a.record(1.0, "success")
    fail(a, 2.0, 2)
    assert a.state == CLOSED and a.breaker.fail_counter == 2
    fail(a, 3.0)
    assert a.state == OPEN and a.trips == 1 and events == [(3.0, CLOSED, OPEN)]
    assert not a.allow(3.0)


def test_declined_counts_as_success() -> None:
    a, _ = adapter(fail_max=2)
    fail(a, 0.0)
    a.record(0.0, "declined")
    fail(a, 0.0)
    assert a.state == CLOSED and a.breaker.fail_counter == 1


def test_reset_timeout_boundary_is_non_strict_on_simulated_time() -> None:
    # An hour of reset timeout passes instantly: the breaker never sees the real clock.
    a, events = adapter(fail_max=1, reset_timeout=3600.0)
    fail(a, 100.0)
    assert a.state == OPEN
    assert a.breaker._state_storage.opened_at == EPOCH + timedelta(seconds=100)
    assert not a.allow(3699.999999)  # one microsecond early
    assert a.state == OPEN
    assert a.allow(3700.0)  # now == opened_at + reset_timeout: admitted (>=)
    assert a.state == HALF_OPEN
    assert events == [(100.0, CLOSED, OPEN), (3700.0, OPEN, HALF_OPEN)]


def test_timestamps_have_microsecond_resolution_like_the_real_clock() -> None:
    a, _ = adapter(fail_max=1, reset_timeout=5.0)
    fail(a, 10.0)
    assert not a.allow(14.9999994)  # rounds to 14.999999 s
    # Less than half a microsecond early rounds onto the deadline, as datetime does.
    assert a.allow(math.nextafter(15.0, 0.0))
    assert a.state == HALF_OPEN


def test_half_open_admits_every_call_and_needs_success_threshold_successes() -> None:
    a, events = adapter(fail_max=1, reset_timeout=5.0, success_threshold=3)
    fail(a, 0.0)
    assert a.allow(5.0)
    assert all(a.allow(5.0) for _ in range(10))  # pybreaker has no half-open permit limit
    for _ in range(2):
        a.record(5.5, "success", 0.5, a.generation)
    assert a.state == HALF_OPEN
    a.record(6.0, "success", 1.0, a.generation)
    assert a.state == CLOSED
    assert [e[1:] for e in events] == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]


def test_any_failure_in_half_open_reopens_and_restarts_the_timeout() -> None:
    a, _ = adapter(fail_max=5, reset_timeout=5.0, success_threshold=2)
    fail(a, 0.0, 5)
    assert a.allow(5.0)
    a.record(5.0, "success", 0.0, a.generation)
    a.record(6.0, "server_error", 0.0, a.generation)
    assert a.state == OPEN and a.trips == 2
    assert not a.allow(10.999999)
    assert a.allow(11.0)


def test_excluded_categories_count_as_success() -> None:
    a, _ = adapter(fail_max=2, reset_timeout=5.0, exclude=["connection"])
    fail(a, 0.0)
    fail(a, 0.0, outcome="connection")
    assert a.breaker.fail_counter == 0
    fail(a, 1.0, 2)
    assert a.state == OPEN
    assert a.allow(6.0)
    a.record(6.0, "connection", 0.0, a.generation)  # a success: closes half-open
    assert a.state == CLOSED


def test_results_admitted_under_an_earlier_state_are_dropped() -> None:
    a, _ = adapter(fail_max=1, reset_timeout=5.0)
    assert a.allow(0.0)
    early = a.generation
    fail(a, 1.0)
    assert a.allow(6.0) and a.state == HALF_OPEN
    a.record(6.5, "success", 6.5, early)
    assert a.state == HALF_OPEN
    a.record(7.0, "success", 1.0, a.generation)
    assert a.state == CLOSED


def test_pybreaker_listeners_see_the_same_calls_as_on_the_real_clock() -> None:
    seen: list[str] = []

    class Spy(pybreaker.CircuitBreakerListener):
        def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
            seen.append("before")

        def success(self, cb: Any) -> None:
            seen.append("success")

        def failure(self, cb: Any, exc: BaseException) -> None:
            seen.append(f"failure:{type(exc).__name__}")

    a = PybreakerAdapter(fail_max=1, reset_timeout=1.0, exclude=["connection"])
    a.breaker.add_listener(Spy())
    fail(a, 0.0, outcome="connection")
    fail(a, 0.0)
    assert not a.allow(0.5)
    assert a.allow(1.0)
    assert seen == [
        "before",
        "success",
        "before",
        "failure:SimulatedFailure_timeout",
        "before",
    ]


def test_an_existing_pybreaker_breaker_keeps_its_settings() -> None:
    own = pybreaker.CircuitBreaker(
        fail_max=2, reset_timeout=3.0, exclude=[failure_exception("server_error")], name="pay"
    )
    a = PybreakerAdapter.from_breaker(own, exclude=["connection"])
    assert a.breaker is own and a.name == "pay"
    fail(a, 0.0, outcome="server_error")
    fail(a, 0.0, outcome="connection")
    assert own.fail_counter == 0
    fail(a, 0.0, 2, outcome="timeout")
    assert a.state == OPEN
    assert a.allow(3.0) and own.current_state == pybreaker.STATE_HALF_OPEN


def test_trip_without_new_error_behaves_the_same() -> None:
    own = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=2.0, throw_new_error_on_trip=False)
    a = PybreakerAdapter.from_breaker(own)
    fail(a, 0.0)
    assert a.state == OPEN and not a.allow(1.0) and a.allow(2.0)


def test_manual_transitions_use_simulated_time() -> None:
    a, events = adapter(fail_max=5, reset_timeout=5.0)
    a.transition_to(50.0, OPEN)
    assert a.breaker._state_storage.opened_at == EPOCH + timedelta(seconds=50)
    assert not a.allow(54.0) and a.allow(55.0)
    a.transition_to(56.0, CLOSED)
    assert events[-1] == (56.0, HALF_OPEN, CLOSED)
    with pytest.raises(ValueError, match="no state 'forced_open'"):
        a.transition_to(57.0, "forced_open")


def test_failure_exceptions_are_one_class_per_category() -> None:
    assert failure_exception("timeout") is failure_exception("timeout")
    assert issubclass(failure_exception("timeout"), SimulatedFailure)
    assert failure_exception("timeout") is not failure_exception("connection")
    assert failure_exception("connection").category == "connection"


# --------------------------------------------------------------------------- the real clock


def pybreaker_clock() -> Any:
    """The ``datetime`` name pybreaker reads its clock through (not exported, so via vars)."""
    return vars(pybreaker)["datetime"]


def real_now() -> datetime:
    return datetime.now(UTC)


def test_the_real_clock_is_restored_after_every_call() -> None:
    a, _ = adapter(fail_max=1, reset_timeout=1.0)
    for now in (0.0, 0.5, 1.0):
        a.allow(now)
        assert pybreaker_clock() is datetime
        a.record(now, "timeout")
        assert pybreaker_clock() is datetime
    a.transition_to(5.0, CLOSED)
    assert pybreaker_clock() is datetime
    # A real-time breaker used afterwards stamps the real time.
    plain = pybreaker.CircuitBreaker(fail_max=1)
    before = real_now()
    plain.open()
    opened = plain._state_storage.opened_at
    assert opened is not None and before <= opened <= real_now()


def test_pybreaker_reads_simulated_time_only_inside_a_call() -> None:
    stamps: list[datetime] = []

    class Clock(pybreaker.CircuitBreakerListener):
        def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
            stamps.append(pybreaker_clock().now(UTC))

    a = PybreakerAdapter()
    a.breaker.add_listener(Clock())
    a.allow(42.25)
    assert stamps == [EPOCH + timedelta(seconds=42.25)]
    assert pybreaker_clock().now(UTC).year >= 2024


def test_the_clock_is_restored_when_a_call_raises() -> None:
    class Boom(pybreaker.CircuitBreakerListener):
        def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("listener failed")

    a = PybreakerAdapter()
    a.breaker.add_listener(Boom())
    with pytest.raises(RuntimeError, match="listener failed"):
        a.allow(1.0)
    assert pybreaker_clock() is datetime


def test_nested_windows_restore_in_order() -> None:
    with simulated_clock(1.0) as outer:
        assert pybreaker_clock().now(UTC) == outer == EPOCH + timedelta(seconds=1)
        with simulated_clock(2.0):
            assert pybreaker_clock().now(UTC) == EPOCH + timedelta(seconds=2)
        assert pybreaker_clock().now(UTC) == outer
        assert pybreaker_clock().now() == outer.replace(tzinfo=None)
    assert pybreaker_clock() is datetime


def test_other_threads_keep_the_real_clock_during_a_window() -> None:
    seen: list[datetime] = []
    with simulated_clock(1.0):
        worker = threading.Thread(target=lambda: seen.append(pybreaker_clock().now(UTC)))
        worker.start()
        worker.join()
    assert seen and seen[0].year >= 2024


def test_the_module_imports_without_pybreaker() -> None:
    code = (
        "import sys; sys.modules['pybreaker'] = None\n"
        "from sim.resilience.plugins import load_breaker\n"
        "from sim.resilience.pybreaker_adapter import PybreakerAdapter\n"
        "b = load_breaker('sim.resilience.breaker:CircuitBreaker', {})\n"
        "assert b.allow(0.0)\n"
        "try:\n"
        "    PybreakerAdapter()\n"
        "except ImportError as e:\n"
        "    assert 'breakerlab[pybreaker]' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('adapter built without pybreaker')\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_importing_the_modules_does_not_import_pybreaker() -> None:
    code = (
        "import sys, sim.resilience.plugins, sim.resilience.pybreaker_adapter\n"
        "print('pybreaker' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
