"""The two most used Node.js breakers, rule for rule from their sources: opossum 9
(lib/circuit.js, lib/status.js) and cockatiel 3 (CircuitBreakerPolicy.ts, breaker/*.ts).

``CircuitBreaker(policy)`` hands out these classes for ``policy.library`` "opossum" and
"cockatiel" (each registers itself by its ``library``), so the engine and the standalone
API need nothing else. Their transitions keep breaker.py's table. Both libraries run
on ``Date.now()``, whole milliseconds: instants are compared as such (``clock_ms``).

Unlike the other presets, neither library knows which state admitted a call, so a result
counts whenever it arrives, as the libraries count it:

- opossum: a success while half-open closes, a failure while half-open re-opens, whichever
  call it came from; rejected calls count as calls made ('fires') in the rolling window,
  and the window is never cleared by a transition.
- cockatiel: a result is judged by the state the call *started* in (a call admitted while
  closed feeds the breaker as a closed call, even after the circuit opened); the windows
  are cleared only by a successful probe. While its probe is out, cockatiel holds other
  calls until the probe's result and then runs them (closed) or refuses them (open); the
  simulated breaker refuses them at once, which is the one approximation here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sim.resilience.breaker import (
    CLOSED,
    DISABLED,
    FAILURE_CATEGORIES,
    HALF_OPEN,
    METRICS_ONLY,
    OPEN,
    CircuitBreaker,
)
from sim.resilience.outcomes import CANCELLED
from sim.resilience.policy import BreakerPolicy
from sim.resilience.protocol import TransitionListener
from sim.resilience.windows import CockatielSamplingWindow, ConsecutiveWindow, clock_ms

PASSING = (CLOSED, DISABLED, METRICS_ONLY)


def _ms(seconds: float) -> float:
    """A parameter in milliseconds, as the library was given it."""
    return round(seconds * 1000, 6)


class NodeBreaker(CircuitBreaker):
    """What both share: transitions that keep the window, and a probe flag."""

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        name: str = "",
        listeners: Iterable[TransitionListener] = (),
    ) -> None:
        self._probe_out = False
        self._open_until_ms = 0.0
        super().__init__(policy, name=name, listeners=listeners)

    def state_at(self, now: float) -> str:
        """The state at ``now``, timers due by then applied (opossum's reset timer)."""
        self._advance(now)
        return self.state

    def _advance(self, now: float) -> None:
        """cockatiel has no timers: it half-opens on a call."""

    def _transition(self, now: float, state: str) -> None:
        old = self.state
        if old == state:
            return
        self._check(old, state)
        self.state = state
        self.since = now
        self.generation += 1
        self._probe_out = False
        if state == CLOSED:
            self._opens_in_a_row = 0
        for listener in self._listeners:
            listener(now, old, state)


class OpossumBreaker(NodeBreaker, library="opossum"):
    """opossum: ``fire`` counts the call, an open circuit rejects, a timer half-opens it
    after ``resetTimeout``; the first call then goes through (``pendingClose``)."""

    def _rules_of(self, policy: BreakerPolicy) -> None:
        super()._rules_of(policy)
        assert policy.failure_rate_threshold is not None
        self._percent = round(policy.failure_rate_threshold * 100, 9)
        self._reset_ms = _ms(policy.wait_duration_in_open_state)
        self._warm_ms = _ms(policy.warm_up)

    def allow(self, now: float) -> bool:
        self._advance(now)
        self._window.fire(now)  # type: ignore[attr-defined]  # an OpossumWindow
        state = self.state
        if state in PASSING:
            return True
        if state == HALF_OPEN and not self._probe_out:
            self._probe_out = True  # opossum: pendingClose = false
            return True
        return False

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None:
        self._advance(now)
        kind = self._kinds.get(outcome)
        if kind is None:
            kind = self._kinds[outcome] = self.policy.classify(outcome)
        if kind < 0:
            if self.state == HALF_OPEN and generation == self.generation:
                self._probe_out = False  # a permit taken but not used
            return
        if kind == 0:
            if self.state == HALF_OPEN:
                self._transition(now, CLOSED)
            return
        self._window.add(now, True, False)
        self._judge_failure(now)

    def _judge_failure(self, now: float) -> None:
        """opossum's fail(): no opening in the warm-up; below volumeThreshold only a
        half-open circuit opens; else open when the error % is strictly above threshold."""
        if clock_ms(now) < self._warm_ms or self.state not in (CLOSED, HALF_OPEN):
            return
        fires, failures, _ = self._window.counts(now)
        half_open = self.state == HALF_OPEN
        if fires < self.policy.volume_threshold and not half_open:
            return
        rate = failures / fires * 100 if fires else math.inf  # JavaScript: x / 0 = Infinity
        if rate > self._percent or half_open:
            self._trip(now)

    def _trip(self, now: float) -> None:
        self._open_until_ms = clock_ms(now) + self._reset_ms
        self.open_until = self._open_until_ms / 1000
        self.trips += 1
        self._transition(now, OPEN)

    def _advance(self, now: float) -> None:
        if self.state == OPEN and clock_ms(now) >= self._open_until_ms:
            self._transition(self._open_until_ms / 1000, HALF_OPEN)


class CockatielBreaker(NodeBreaker, library="cockatiel"):
    """cockatiel: the breaker (consecutive or sampling) is fed with the state each call
    started in; an open circuit half-opens on the first call ``halfOpenAfter`` after it
    opened, and that call is the probe."""

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        name: str = "",
        listeners: Iterable[TransitionListener] = (),
    ) -> None:
        self._probes: set[int] = set()  # generations of the probes still out
        self._opened_ms = 0
        self._duration_ms = 0.0
        super().__init__(policy, name=name, listeners=listeners)

    def _rules_of(self, policy: BreakerPolicy) -> None:
        super()._rules_of(policy)
        self._base_ms = _ms(policy.wait_duration_in_open_state)
        self._max_ms = _ms(policy.max_wait_duration_in_open_state)
        self._exponential = policy.open_backoff == "exponential"
        threshold = policy.failure_rate_threshold
        self._threshold = threshold if threshold is not None else 0.0
        # SamplingBreaker: minimumRps / 1000, or enough calls for 5 failures a second.
        rps = policy.minimum_rps
        self._minimum_rpms = rps / 1000 if rps else 5 / (self._threshold * 1000 or math.inf)

    def allow(self, now: float) -> bool:
        state = self.state
        if state in PASSING:
            return True
        if state == OPEN:
            if clock_ms(now) - self._opened_ms < self._duration_ms:
                return False
            self._transition(now, HALF_OPEN)
        if self.state == HALF_OPEN and not self._probe_out:
            self._probe_out = True
            self._probes.add(self.generation)
            return True
        return False  # cockatiel would hold the call until the probe's result

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None:
        # Any probe's result settles whichever half-open state is current, even a later
        # one's: cockatiel closes or opens 'the' circuit, not the test's own.
        if generation is None:
            probe = self.state == HALF_OPEN and self._probe_out
        else:
            probe = generation in self._probes
            self._probes.discard(generation)
        kind = self._kinds.get(outcome)
        if kind is None:
            kind = self._kinds[outcome] = self.policy.classify(outcome)
        if kind < 0 or outcome == CANCELLED:
            if probe and self.state == HALF_OPEN:
                self._probe_out = False  # the probe never ran: the next call may probe
            return
        if kind == 0 and outcome in FAILURE_CATEGORIES:
            # Not handled by the policy: thrown through; a probe's closes the circuit.
            if probe:
                self._close(now)
            return
        if probe:
            self._probe_result(now, failed=kind == 1)
        elif kind == 1:
            if self._failure(now, closed=True):
                self._open(now)
        else:
            self._success(now, half_open=False)

    def _probe_result(self, now: float, failed: bool) -> None:
        if failed:
            self._failure(now, closed=False)
            self._open(now)  # cockatiel opens whatever the breaker said
        else:
            self._success(now, half_open=True)
            self._close(now)

    def _success(self, now: float, half_open: bool) -> None:
        window = self._window
        if isinstance(window, CockatielSamplingWindow) and half_open:
            window.reset()
        window.add(now, False, False)

    def _failure(self, now: float, closed: bool) -> bool:
        """IBreaker.failure(state): whether the breaker asks to open."""
        window = self._window
        window.add(now, True, False)
        if isinstance(window, ConsecutiveWindow):
            threshold = self.policy.failure_count_threshold or 1
            return window.failures >= threshold
        if not closed:
            return True
        assert isinstance(window, CockatielSamplingWindow)
        successes, failures = window.totals
        total = successes + failures
        if total < window.duration_ms * self._minimum_rpms:
            return False
        return failures > self._threshold * total

    def _close(self, now: float) -> None:
        if self.state == HALF_OPEN:
            self._transition(now, CLOSED)

    def _open(self, now: float) -> None:
        if self.state not in (CLOSED, HALF_OPEN):
            return  # open already, or under manual control (forced open, disabled, metrics only)
        self._trip(now)

    def _trip(self, now: float) -> None:
        # From half-open the backoff takes its next step; from closed it starts again.
        attempt = self._opens_in_a_row if self.state == HALF_OPEN else 0
        duration = self._base_ms
        if self._exponential:
            duration = min(self._max_ms, self._base_ms * 2**attempt)
        self._opens_in_a_row = attempt + 1
        self._opened_ms = clock_ms(now)
        self._duration_ms = duration
        self.open_until = (self._opened_ms + duration) / 1000
        self.trips += 1
        self._transition(now, OPEN)
