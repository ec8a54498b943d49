"""Circuit breakers on simulated time, with the exact rules of the libraries they mimic.

One state machine, parameterised by a ``BreakerPolicy``: the window that holds recent
outcomes, the thresholds and when they are checked, how long the breaker stays open, and
how half-open decides. ``BreakerPolicy.preset(library, **that_library's_names)`` builds the
policy of resilience4j, Polly, Hystrix, pybreaker, circuitbreaker or Envoy (see presets.py).

Protocol used by the engine and by outside tools: ``allow(now)`` before a call,
``record(now, outcome, duration, generation)`` after it, ``state``. A result whose call was
permitted under an earlier state (its ``generation`` differs) is counted nowhere, so it can
never change the new state. Timer-driven transitions (Hystrix snapshots, automatic
half-open, Envoy sweeps, half-open max wait) are applied lazily, stamped with the instant
they were due.

The transitions calls and timers may make (``legal_transitions``; every one is checked
against it in ``_check``, and an illegal one is an InvariantError)::

                  trip                 open wait over
    closed ----------------> open ----------------------> half_open
      ^                       ^                               |
      |                       +-------- a probe fails --------+
      +----------------------- probes pass -------------------+

    Envoy (no half-open): closed --ejected--> open --next sweep after the ejection--> closed

``forced_open``, ``disabled`` and ``metrics_only`` are entered and left only by manual
control (``transition_to``, ``reset`` after a crash), which may move any state to any other.
opossum's and cockatiel's rules (nodebreakers.py) keep the same table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta
from typing import ClassVar

from sim.errors import InvariantError
from sim.resilience.outcomes import CANCELLED, DECLINED, FAILURE_CATEGORIES, SUCCESS
from sim.resilience.policy import BreakerPolicy
from sim.resilience.protocol import TransitionListener
from sim.resilience.windows import CountWindow, Window

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
FORCED_OPEN = "forced_open"
DISABLED = "disabled"
METRICS_ONLY = "metrics_only"
STATES = (CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED, METRICS_ONLY)

# Re-exported: the policy and the outcomes breakers classify are part of this API.
__all__ = [
    "CANCELLED",
    "DECLINED",
    "FAILURE_CATEGORIES",
    "STATES",
    "SUCCESS",
    "BreakerPolicy",
    "CircuitBreaker",
]
_MICROSECOND = timedelta(microseconds=1)

# The transition table of the diagram above, as (from, to) pairs.
CYCLE = frozenset({(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, OPEN), (HALF_OPEN, CLOSED)})
EJECTION = frozenset({(CLOSED, OPEN), (OPEN, CLOSED)})  # Envoy: no half-open
MANUAL_STATES = frozenset({FORCED_OPEN, DISABLED, METRICS_ONLY})


def legal_transitions(policy: BreakerPolicy) -> frozenset[tuple[str, str]]:
    """The transitions calls and timers may make under ``policy``: Envoy's ejections
    (a policy that never half-opens), or the cycle through half-open of every other."""
    return EJECTION if policy.half_open == "none" else CYCLE


class CircuitBreaker:
    """A breaker on simulated time: ``allow(now)`` before a call, ``record(...)`` after it."""

    # Libraries whose rules are a subclass of their own (nodebreakers.py registers
    # opossum's and cockatiel's, imported by sim/resilience/__init__.py).
    _rules: ClassVar[dict[str, type[CircuitBreaker]]] = {}

    def __init_subclass__(cls, library: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if library is not None:
            CircuitBreaker._rules[library] = cls

    def __new__(cls, policy: BreakerPolicy | None = None, **_: object) -> CircuitBreaker:
        # A library with rules of its own gets its class from CircuitBreaker(policy) too.
        if cls is CircuitBreaker and policy is not None:
            cls = CircuitBreaker._rules.get(policy.library, cls)
        return super().__new__(cls)

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        name: str = "",
        listeners: Iterable[TransitionListener] = (),
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self.name = name
        self.state = CLOSED
        self.generation = 0  # bumped on every transition; a call carries the one it began in
        self.trips = 0
        self.open_until = 0.0
        self._open_until_us = 0  # the same instant in whole microseconds (microsecond_clock)
        self.since = 0.0  # when the current state began
        self._listeners = list(listeners)
        self._window: Window = self.policy.new_window()
        self._permits: int | None = None
        self._successes = 0
        self._opens_in_a_row = 0  # resilience4j: wait grows with re-opens until a close
        self._ejections = 0  # Envoy: grows with ejections, decays per healthy interval
        self._decayed_at = 0.0
        self._next_snapshot = self.policy.bucket_duration
        self._manual = False  # inside transition_to or reset: any transition is allowed
        self._legal = legal_transitions(self.policy)
        self._rules_of(self.policy)

    def _rules_of(self, policy: BreakerPolicy) -> None:
        """What the hot path reads of ``policy``, worked out once per policy."""
        self._snapshots = policy.check == "snapshot"  # a timer runs even while closed
        self._minimum = policy.minimum_calls()
        self._kinds: dict[str, int] = {}  # outcome -> policy.classify(outcome)

    # -- protocol -------------------------------------------------------------------------
    def allow(self, now: float) -> bool:
        """Whether a call may start at ``now``; may move open to half-open (lazily)."""
        state = self.state
        if state == CLOSED and not self._snapshots:
            return True  # closed, and no timer can be due
        self._advance(now)
        state = self.state
        if state in (CLOSED, DISABLED, METRICS_ONLY):
            return True
        if state == OPEN:
            policy = self.policy
            if policy.automatic_transition or policy.half_open == "none":
                return False  # only timers leave open
            if not self._open_expired(now):
                return False
            self._transition(now, HALF_OPEN)
        if self.state == HALF_OPEN:
            if self._permits is None:
                return True
            if self._permits > 0:
                self._permits -= 1
                return True
        return False

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None:
        """Count one finished call. ``generation`` is ``self.generation`` read at ``allow``."""
        if self.state != CLOSED or self._snapshots:
            self._advance(now)  # closed without snapshots: no timer can be due
        if generation is not None and generation != self.generation:
            return  # permitted under an earlier state: must not change this one
        policy = self.policy
        kind = self._kinds.get(outcome)
        if kind is None:
            kind = self._kinds[outcome] = policy.classify(outcome)
        state = self.state
        if kind < 0:
            if state == HALF_OPEN and self._permits is not None:
                self._permits += 1  # an ignored call gives its permit back
            return
        failed = kind == 1
        slow = duration > policy.slow_call_duration_threshold
        if state == HALF_OPEN:
            self._record_half_open(now, failed, slow)
            return
        if state not in (CLOSED, METRICS_ONLY):
            return
        self._window.add(now, failed, slow)
        if state == METRICS_ONLY or policy.check == "snapshot":
            return
        if policy.check == "on_failure" and not failed:
            return
        if self._judge(now):
            self._trip(now)

    def metrics(self, now: float) -> tuple[int, int, int]:
        """(calls, failures, slow calls) the current window holds at ``now``."""
        return self._window.counts(now)

    def transition_to(self, now: float, state: str) -> None:
        """Manual control: force open, disable, metrics only, or back to closed."""
        if state not in STATES:
            raise ValueError(f"unknown breaker state {state!r}; expected one of {STATES}")
        self._manual = True
        try:
            if state == OPEN:
                self._trip(now)
            else:
                self._transition(now, state)
        finally:
            self._manual = False

    def reset(self, now: float) -> None:
        """A restarted process: closed with an empty window, past openings forgotten."""
        self._opens_in_a_row = 0
        self._ejections = 0
        self._decayed_at = now
        self._manual = True
        try:
            self._transition(now, CLOSED)
        finally:
            self._manual = False
        self._window = self.policy.new_window()

    def reconfigure(self, policy: BreakerPolicy) -> None:
        """New parameters at run time. The state stays; the window is kept when its shape
        is unchanged and starts empty otherwise (its old counts would mean other things)."""
        old = self.policy
        self.policy = policy
        # The new rules' transitions, and the old ones' to finish what they began (a
        # half-open breaker reconfigured as Envoy's may still close or re-open).
        self._legal = self._legal | legal_transitions(policy)
        self._rules_of(policy)
        shape = (old.window, old.sliding_window_size, old.window_duration, old.bucket_duration)
        if shape != (
            policy.window,
            policy.sliding_window_size,
            policy.window_duration,
            policy.bucket_duration,
        ) and self.state in (CLOSED, METRICS_ONLY):
            self._window = policy.new_window()

    def subscribe(self, listener: TransitionListener) -> None:
        """Call ``listener(now, old_state, new_state)`` on every transition."""
        self._listeners.append(listener)

    # -- rules ----------------------------------------------------------------------------
    def _judge(self, now: float) -> bool:
        calls, failures, slow = self._window.counts(now)
        return bool(self.policy.exceeded(calls, failures, slow, self._minimum))

    def _record_half_open(self, now: float, failed: bool, slow: bool) -> None:
        policy = self.policy
        mode = policy.half_open
        if mode == "rate":
            self._window.add(now, failed, slow)
            calls, failures, slow_calls = self._window.counts(now)
            verdict = policy.exceeded(calls, failures, slow_calls, policy.minimum_calls(True))
            if verdict is None:
                return
            if verdict:
                self._trip(now)
            else:
                self._transition(now, CLOSED)
        elif failed:
            self._trip(now)
        elif mode == "probe":
            self._transition(now, CLOSED)
        else:  # successes
            self._successes += 1
            if self._successes >= policy.success_threshold:
                self._transition(now, CLOSED)

    def _trip(self, now: float) -> None:
        policy = self.policy
        wait = policy.wait_duration_in_open_state
        if policy.open_backoff == "exponential":
            wait *= policy.open_backoff_multiplier**self._opens_in_a_row
        elif policy.open_backoff == "envoy":
            self._decay(now)
            self._ejections += 1
            wait *= self._ejections
        self._opens_in_a_row += 1
        wait = min(wait, policy.max_wait_duration_in_open_state)
        self.open_until = now + wait
        # In whole microseconds too, whatever this policy's clock: one reconfigured to a
        # microsecond clock while open must still find this opening's deadline.
        self._open_until_us = _micros(now) + _micros(wait)
        self.trips += 1
        self._transition(now, OPEN)

    def _open_expired(self, now: float) -> bool:
        """Whether the open wait is over at ``now`` (``>`` when strict, else ``>=``).

        With a microsecond clock, as pybreaker's ``datetime``: the instants and the wait are
        each rounded to whole microseconds first, so a call exactly at ``opened + wait`` is
        admitted even where the float sum lands a hair above it.
        """
        policy = self.policy
        if policy.microsecond_clock:
            now_us, until_us = _micros(now), self._open_until_us
            return now_us > until_us if policy.strict_open_expiry else now_us >= until_us
        until = self.open_until
        return now > until if policy.strict_open_expiry else now >= until

    def _decay(self, now: float) -> None:
        """Envoy: one ejection forgiven per sweep interval spent healthy (closed)."""
        interval = self.policy.sweep_interval
        if self.state == CLOSED and self._ejections:
            # Whole intervals, the last one ending exactly now included: floor division
            # of floats says 1 s is nine 100 ms intervals (1.0 // 0.1 == 9.0).
            healthy = math.floor((now - self._decayed_at) / interval + 1e-9)
            self._ejections = max(0, self._ejections - healthy)
        self._decayed_at = now

    def _advance(self, now: float) -> None:
        """Apply every timer-driven transition due by ``now``, stamped when it was due."""
        policy = self.policy
        if policy.check == "snapshot":
            while self._next_snapshot <= now:
                at = self._next_snapshot
                self._next_snapshot = at + policy.bucket_duration
                if self.state == CLOSED and self._judge(at):
                    self._trip(at)
        while True:  # timers can chain when time jumps: open -> half-open -> open ...
            generation = self.generation
            state = self.state
            if state == OPEN:
                if policy.half_open == "none":
                    # Envoy: the host returns at the first sweep after its ejection time.
                    interval = policy.sweep_interval
                    back = math.ceil(self.open_until / interval - 1e-9) * interval
                    if now >= back:
                        self._transition(back, CLOSED)
                elif policy.automatic_transition and now >= self.open_until:
                    self._transition(self.open_until, HALF_OPEN)
            elif state == HALF_OPEN and policy.max_wait_duration_in_half_open_state > 0:
                due = self.since + policy.max_wait_duration_in_half_open_state
                if now >= due:
                    if policy.half_open_timeout_state == "open":
                        self._trip(due)
                    else:
                        self._transition(due, CLOSED)
            if self.generation == generation:
                return

    def _check(self, old: str, new: str) -> None:
        """Every transition passes here: one calls or timers made must be in the table."""
        if not self._manual and (old, new) not in self._legal:
            raise InvariantError(
                f"breaker {self.name!r} ({self.policy.library}) went from {old} to {new}: "
                "not a transition its rules allow"
            )

    def _transition(self, now: float, state: str) -> None:
        old = self.state
        if old == state:
            return
        self._check(old, state)
        policy = self.policy
        if old == CLOSED and policy.open_backoff == "envoy":
            self._decay(now)
        self.state = state
        self.since = now
        self.generation += 1
        if state == HALF_OPEN:
            self._permits = policy.permitted_number_of_calls_in_half_open_state
            self._successes = 0
            permits = self._permits or 1
            self._window = CountWindow(permits)
        elif state in (CLOSED, METRICS_ONLY):
            self._window = policy.new_window()
            if state == CLOSED:
                self._opens_in_a_row = 0
                self._decayed_at = now
        for listener in self._listeners:
            listener(now, old, state)


def _micros(seconds: float) -> int:
    """``seconds`` in whole microseconds, rounded as ``timedelta(seconds=...)`` rounds."""
    if seconds == math.inf:
        return 2**62
    return timedelta(seconds=seconds) // _MICROSECOND
