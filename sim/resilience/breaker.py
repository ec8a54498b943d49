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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.resilience.windows import (
    AbsoluteWindow,
    ConsecutiveWindow,
    CountWindow,
    RollingWindow,
    SamplingWindow,
    TimeWindow,
    Window,
)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
FORCED_OPEN = "forced_open"
DISABLED = "disabled"
METRICS_ONLY = "metrics_only"
STATES = (CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED, METRICS_ONLY)

SUCCESS = "success"
DECLINED = "declined"
CANCELLED = "cancelled"  # a permit taken but not used: always ignored
FAILURE_CATEGORIES = ("timeout", "connection", "server_error", "rejected")

WindowKind = Literal["consecutive", "count", "time", "sampling", "rolling", "absolute"]
TransitionListener = Callable[[float, str, str], None]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """Everything that decides a breaker's behaviour. Rates are fractions, times seconds.

    Defaults are resilience4j's count-based breaker.
    """

    library: str = "resilience4j"
    # Window and thresholds.
    window: WindowKind = "count"
    sliding_window_size: int = 100  # calls (count), seconds (time)
    window_duration: float = 10.0  # seconds (sampling, rolling, absolute)
    bucket_duration: float = 0.5  # rolling buckets and snapshot interval (Hystrix)
    failure_rate_threshold: float | None = 0.5
    slow_call_rate_threshold: float = 1.0
    slow_call_duration_threshold: float = 60.0
    failure_count_threshold: int | None = None  # consecutive or absolute failures
    minimum_number_of_calls: int = 100
    truncate_rate: bool = False  # Hystrix: integer error percentage
    check: Literal["every_call", "on_failure", "snapshot"] = "every_call"
    # Open state.
    wait_duration_in_open_state: float = 60.0
    open_backoff: Literal["fixed", "exponential", "envoy"] = "fixed"
    open_backoff_multiplier: float = 2.0
    max_wait_duration_in_open_state: float = math.inf
    strict_open_expiry: bool = True  # leave open only when now > deadline (else >=)
    automatic_transition: bool = False  # half-open by timer rather than on the next call
    sweep_interval: float = 10.0  # Envoy: hosts return, and ejections decay, per interval
    # Half-open.
    half_open: Literal["rate", "probe", "successes", "none"] = "rate"
    permitted_number_of_calls_in_half_open_state: int | None = 10  # None: unlimited
    success_threshold: int = 1
    max_wait_duration_in_half_open_state: float = 0.0  # 0: off
    half_open_timeout_state: Literal["open", "closed"] = "open"
    # Outcome classification.
    record: frozenset[str] = field(default_factory=lambda: frozenset(FAILURE_CATEGORIES))
    ignore: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        rate = self.failure_rate_threshold
        if rate is not None and not 0 < rate <= 1:
            raise ValueError("failure_rate_threshold must lie in (0, 1]")
        if not 0 < self.slow_call_rate_threshold <= 1:
            raise ValueError("slow_call_rate_threshold must lie in (0, 1]")
        if rate is None and self.failure_count_threshold is None:
            raise ValueError("give a failure_rate_threshold or a failure_count_threshold")
        if self.failure_count_threshold is not None and self.failure_count_threshold < 1:
            raise ValueError("failure_count_threshold must be >= 1")
        if min(self.sliding_window_size, self.minimum_number_of_calls) < 1:
            raise ValueError("sliding_window_size and minimum_number_of_calls must be >= 1")
        permits = self.permitted_number_of_calls_in_half_open_state
        if permits is not None and permits < 1:
            raise ValueError("permitted_number_of_calls_in_half_open_state must be >= 1")
        if self.success_threshold < 1:
            raise ValueError("success_threshold must be >= 1")
        durations = (
            self.wait_duration_in_open_state,
            self.slow_call_duration_threshold,
            self.max_wait_duration_in_half_open_state,
        )
        if min(durations) < 0 or self.max_wait_duration_in_open_state < 0:
            raise ValueError("durations must be >= 0")
        if min(self.window_duration, self.bucket_duration, self.sweep_interval) <= 0:
            raise ValueError("window_duration, bucket_duration and sweep_interval must be > 0")
        if self.open_backoff_multiplier < 1:
            raise ValueError("open_backoff_multiplier must be >= 1")

    @classmethod
    def preset(cls, library: str, **overrides: Any) -> BreakerPolicy:
        """The policy of ``library`` with its defaults, overridden in its own names/units."""
        from sim.resilience.presets import build_preset

        return build_preset(library, overrides)

    def classify(self, outcome: str) -> int:
        """1 failure, 0 success, -1 ignored. Ignore wins over record; a decline is a success:
        the gateway answered, the customer's bank said no."""
        if outcome in self.ignore or outcome == CANCELLED:
            return -1
        if outcome == DECLINED:
            return 0
        return 1 if outcome in self.record else 0

    def new_window(self) -> Window:
        """An empty window of this policy's kind."""
        kind = self.window
        if kind == "count":
            return CountWindow(self.sliding_window_size)
        if kind == "consecutive":
            return ConsecutiveWindow()
        if kind == "time":
            return TimeWindow(self.sliding_window_size)
        if kind == "sampling":
            return SamplingWindow(self.window_duration)
        if kind == "rolling":
            return RollingWindow(self.window_duration, self.bucket_duration)
        return AbsoluteWindow(self.window_duration)

    def minimum_calls(self, half_open: bool = False) -> int:
        """Calls the window must hold before rates are judged (resilience4j caps it)."""
        if half_open:
            permits = self.permitted_number_of_calls_in_half_open_state or 1
            return min(self.minimum_number_of_calls, permits)
        if self.window == "count":
            return min(self.minimum_number_of_calls, self.sliding_window_size)
        return self.minimum_number_of_calls

    def exceeded(self, calls: int, failures: int, slow: int, minimum: int) -> bool | None:
        """None while the window holds fewer than ``minimum`` calls, else whether to trip."""
        if self.failure_count_threshold is not None and failures >= self.failure_count_threshold:
            return True
        if self.failure_rate_threshold is None:
            return False
        if calls < minimum or calls == 0:
            return None
        rate = self.failure_rate_threshold
        if self.truncate_rate:
            # Hystrix: (int) ((double) errorCount / totalCount * 100), double rounding included.
            return int(failures / calls * 100) >= round(rate * 100, 9)
        # Counts are integers; the epsilon keeps 30 % of 10 calls at exactly 3 despite floats.
        return (
            failures >= rate * calls - 1e-9 or slow >= self.slow_call_rate_threshold * calls - 1e-9
        )


class CircuitBreaker:
    """A breaker on simulated time: ``allow(now)`` before a call, ``record(...)`` after it."""

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
        self.since = 0.0  # when the current state began
        self._listeners = list(listeners)
        self._window: Window = self.policy.new_window()
        self._permits: int | None = None
        self._successes = 0
        self._opens_in_a_row = 0  # resilience4j: wait grows with re-opens until a close
        self._ejections = 0  # Envoy: grows with ejections, decays per healthy interval
        self._decayed_at = 0.0
        self._next_snapshot = self.policy.bucket_duration

    # -- protocol -------------------------------------------------------------------------
    def allow(self, now: float) -> bool:
        """Whether a call may start at ``now``; may move open to half-open (lazily)."""
        self._advance(now)
        state = self.state
        if state in (CLOSED, DISABLED, METRICS_ONLY):
            return True
        if state == OPEN:
            policy = self.policy
            if policy.automatic_transition or policy.half_open == "none":
                return False  # only timers leave open
            due = now > self.open_until if policy.strict_open_expiry else now >= self.open_until
            if not due:
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
        self._advance(now)
        if generation is not None and generation != self.generation:
            return  # permitted under an earlier state: must not change this one
        policy = self.policy
        kind = policy.classify(outcome)
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
        if state == OPEN:
            self._trip(now)
        else:
            self._transition(now, state)

    def reset(self, now: float) -> None:
        """A restarted process: closed with an empty window, past openings forgotten."""
        self._opens_in_a_row = 0
        self._ejections = 0
        self._decayed_at = now
        self._transition(now, CLOSED)
        self._window = self.policy.new_window()

    def reconfigure(self, policy: BreakerPolicy) -> None:
        """New parameters at run time. The state stays; the window is kept when its shape
        is unchanged and starts empty otherwise (its old counts would mean other things)."""
        old = self.policy
        self.policy = policy
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
        return bool(self.policy.exceeded(calls, failures, slow, self.policy.minimum_calls()))

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
        self.open_until = now + min(wait, policy.max_wait_duration_in_open_state)
        self.trips += 1
        self._transition(now, OPEN)

    def _decay(self, now: float) -> None:
        """Envoy: one ejection forgiven per sweep interval spent healthy (closed)."""
        interval = self.policy.sweep_interval
        if self.state == CLOSED and self._ejections:
            healthy = int((now - self._decayed_at) // interval)
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

    def _transition(self, now: float, state: str) -> None:
        old = self.state
        if old == state:
            return
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
