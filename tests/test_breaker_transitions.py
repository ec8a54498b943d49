"""The breaker's transition table (sim/resilience/breaker.py: its diagram, CYCLE,
EJECTION, legal_transitions): on random traces of calls and results, every preset's
breaker, opossum's and cockatiel's rules included, makes only transitions in the table,
each from the state it was in; manual states are left only by manual control; and the one
place that checks a transition refuses one outside the table."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.breakers import PRESETS
from sim.errors import InvariantError
from sim.resilience.breaker import (
    CLOSED,
    CYCLE,
    DISABLED,
    EJECTION,
    FORCED_OPEN,
    HALF_OPEN,
    MANUAL_STATES,
    METRICS_ONLY,
    OPEN,
    BreakerPolicy,
    CircuitBreaker,
    legal_transitions,
)

# Small thresholds and short waits, so that short traces visit every state.
SMALL: dict[str, dict[str, object]] = {
    "resilience4j": {
        "sliding_window_size": 4,
        "minimum_number_of_calls": 2,
        "wait_duration_in_open_state": 1,
        "permitted_number_of_calls_in_half_open_state": 2,
    },
    "polly": {"minimum_throughput": 2, "sampling_duration": 2, "break_duration": 1},
    "hystrix": {
        "circuit_breaker_request_volume_threshold": 2,
        "circuit_breaker_sleep_window_in_milliseconds": 1000,
    },
    "pybreaker": {"fail_max": 2, "reset_timeout": 1},
    "circuitbreaker": {"failure_threshold": 2, "recovery_timeout": 1},
    "envoy": {"consecutive_5xx": 2, "interval": 1, "base_ejection_time": 1},
    "absolute": {"failure_count": 2, "time_window": 2, "open_duration": 1},
    "opossum": {"reset_timeout": 1000, "rolling_count_timeout": 2000},
    "cockatiel": {"breaker": "consecutive", "threshold": 2, "half_open_after": 1000},
}
OUTCOMES = ("success", "server_error", "timeout", "connection", "declined", "cancelled")
STEPS = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.001, 0.1, 0.5, 1.0, 2.5]),
        st.sampled_from(["allow", "finish", *OUTCOMES]),
    ),
    max_size=60,
)


def policy_of(library: str) -> BreakerPolicy:
    return BreakerPolicy.preset(library, **SMALL[library])


def drive(breaker: CircuitBreaker, steps: list[tuple[float, str]]) -> None:
    """Calls start (``allow``) and finish in order with a result (``finish`` is a failure);
    a bare outcome is a result recorded without a generation."""
    now = 0.0
    in_flight: list[int] = []
    for dt, action in steps:
        now += dt
        if action == "allow":
            if breaker.allow(now):
                in_flight.append(breaker.generation)
        elif action == "finish" and in_flight:
            breaker.record(now, "server_error", 0.0, in_flight.pop(0))
        elif action != "finish":
            breaker.record(now, action, 0.0)


def test_every_library_has_small_settings() -> None:
    assert set(SMALL) == set(PRESETS)


@pytest.mark.parametrize("library", sorted(SMALL))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_no_trace_makes_a_transition_outside_the_table(
    library: str, steps: list[tuple[float, str]]
) -> None:
    policy = policy_of(library)
    seen: list[tuple[str, str]] = []
    breaker = CircuitBreaker(policy, listeners=[lambda _now, old, new: seen.append((old, new))])
    drive(breaker, steps)
    state = CLOSED
    for old, new in seen:
        assert old == state and (old, new) in legal_transitions(policy)
        state = new
    assert state == breaker.state


@pytest.mark.parametrize("library", sorted(SMALL))
def test_the_table_is_the_cycle_or_envoys_ejections(library: str) -> None:
    expected = EJECTION if library == "envoy" else CYCLE
    assert legal_transitions(policy_of(library)) == expected
    seen: list[tuple[str, str]] = []
    breaker = CircuitBreaker(policy_of(library), listeners=[lambda *e: seen.append(e[1:])])
    drive(breaker, [(0.1, "allow"), (0.1, "finish")] * 6 + [(3.0, "allow"), (0.1, "success")])
    assert (CLOSED, OPEN) in seen  # the trace trips every preset: the table is exercised


@pytest.mark.parametrize("library", sorted(SMALL))
@pytest.mark.parametrize("manual", sorted(MANUAL_STATES))
def test_a_manual_state_is_left_by_manual_control_only(library: str, manual: str) -> None:
    breaker = CircuitBreaker(policy_of(library))
    breaker.transition_to(0.0, manual)
    drive(breaker, [(0.1, "allow"), (0.1, "finish"), (0.1, "server_error"), (2.0, "allow")] * 10)
    assert breaker.state == manual
    breaker.transition_to(30.0, CLOSED)
    assert breaker.state == CLOSED


@pytest.mark.parametrize("library", ["resilience4j", "envoy", "opossum", "cockatiel"])
def test_the_check_refuses_a_transition_outside_the_table(library: str) -> None:
    breaker = CircuitBreaker(policy_of(library))
    illegal = (CLOSED, HALF_OPEN)
    assert illegal not in legal_transitions(breaker.policy)
    with pytest.raises(InvariantError, match="from closed to half_open"):
        breaker._transition(0.0, HALF_OPEN)
    assert breaker.state == CLOSED


def test_manual_control_may_go_anywhere() -> None:
    breaker = CircuitBreaker(policy_of("resilience4j"))
    for state in (FORCED_OPEN, DISABLED, METRICS_ONLY, HALF_OPEN, OPEN, CLOSED, HALF_OPEN):
        breaker.transition_to(1.0, state)
        assert breaker.state == state
    breaker.reset(2.0)
    assert breaker.state == CLOSED


def test_the_refusal_names_the_breaker_its_rules_and_the_transition() -> None:
    breaker = CircuitBreaker(policy_of("pybreaker"), name="payment")
    with pytest.raises(InvariantError) as error:
        breaker._transition(0.0, HALF_OPEN)
    assert str(error.value) == (
        "breaker 'payment' (pybreaker) went from closed to half_open: not a transition its "
        "rules allow"
    )


def test_manual_control_and_reset_allow_anything_only_while_they_run() -> None:
    breaker = CircuitBreaker(policy_of("resilience4j"))
    breaker.transition_to(0.0, FORCED_OPEN)
    breaker.transition_to(0.0, CLOSED)
    with pytest.raises(InvariantError):
        breaker._transition(0.0, HALF_OPEN)
    breaker.reset(1.0)
    with pytest.raises(InvariantError):
        breaker._transition(1.0, HALF_OPEN)
    assert breaker.state == CLOSED


def test_a_half_open_breaker_reconfigured_as_envoys_may_still_close() -> None:
    """Envoy's table has no half-open; the breaker keeps the old rules' transitions to
    finish what they began: a passing probe closes it (half_open -> closed)."""
    breaker = CircuitBreaker(policy_of("resilience4j"))
    breaker.transition_to(0.0, OPEN)
    assert breaker.allow(1.5) and breaker.state == HALF_OPEN
    breaker.reconfigure(policy_of("envoy"))
    breaker.record(1.6, "success", 0.0, breaker.generation)
    assert breaker.state == CLOSED


def test_a_subclass_registers_its_rules_by_library_name() -> None:
    """CircuitBreaker(policy) hands out the class registered for policy.library (as
    opossum's and cockatiel's rules are); a subclass without a library registers nothing."""
    before = dict(CircuitBreaker._rules)

    class Plain(CircuitBreaker):
        pass

    assert CircuitBreaker._rules == before

    class Custom(CircuitBreaker, library="custom-rules"):
        pass

    try:
        assert CircuitBreaker._rules == {**before, "custom-rules": Custom}
        assert type(CircuitBreaker(BreakerPolicy(library="custom-rules"))) is Custom
        assert type(CircuitBreaker(BreakerPolicy())) is CircuitBreaker
        assert type(Plain(BreakerPolicy())) is Plain
    finally:
        del CircuitBreaker._rules["custom-rules"]
