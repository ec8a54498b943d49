"""Count-based circuit breaker with resilience4j semantics, boundaries included.

Closed: the last ``sliding_window_size`` outcomes sit in a ring; once it holds
``min(minimum_number_of_calls, sliding_window_size)`` outcomes, every recorded call checks
``failure rate >= threshold`` or ``slow-call rate >= threshold`` and trips to open.
Open: calls are refused until the first call with ``now`` *strictly after* the open
deadline, which moves the breaker to half-open. Half-open: a fixed number of permits; after
``min(minimum_number_of_calls, permits)`` results the same thresholds decide open or closed.
A result whose call was permitted under an earlier state is counted in no window, so it can
never change the new state. More windows and libraries arrive with the policy library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
FORCED_OPEN = "forced_open"
DISABLED = "disabled"
METRICS_ONLY = "metrics_only"
STATES = (CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED, METRICS_ONLY)

SUCCESS = "success"
DECLINED = "declined"
FAILURE_CATEGORIES = ("timeout", "connection", "server_error")

TransitionListener = Callable[[float, str, str], None]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """Parameters named as resilience4j names them; rates are fractions, durations seconds."""

    failure_rate_threshold: float = 0.5
    slow_call_rate_threshold: float = 1.0
    slow_call_duration_threshold: float = 60.0
    sliding_window_size: int = 100
    minimum_number_of_calls: int = 100
    wait_duration_in_open_state: float = 60.0
    permitted_number_of_calls_in_half_open_state: int = 10
    record: frozenset[str] = field(default_factory=lambda: frozenset(FAILURE_CATEGORIES))
    ignore: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not 0 < self.failure_rate_threshold <= 1 or not 0 < self.slow_call_rate_threshold <= 1:
            raise ValueError("rate thresholds must lie in (0, 1]")
        if min(self.sliding_window_size, self.minimum_number_of_calls) < 1:
            raise ValueError("sliding_window_size and minimum_number_of_calls must be >= 1")
        if self.permitted_number_of_calls_in_half_open_state < 1:
            raise ValueError("permitted_number_of_calls_in_half_open_state must be >= 1")
        if self.wait_duration_in_open_state < 0 or self.slow_call_duration_threshold < 0:
            raise ValueError("durations must be >= 0")

    def classify(self, outcome: str) -> int:
        """1 failure, 0 success, -1 ignored. Ignore wins over record; a decline is a success:
        the gateway answered, the customer's bank said no."""
        if outcome in self.ignore:
            return -1
        if outcome == DECLINED:
            return 0
        return 1 if outcome in self.record else 0


class _CountWindow:
    """Ring of the last ``size`` outcomes with running failure and slow counts."""

    __slots__ = ("_failed", "_pos", "_slow", "calls", "failures", "minimum", "size", "slow")

    def __init__(self, size: int, minimum: int) -> None:
        self.size = size
        self.minimum = min(minimum, size)
        self._failed = [False] * size
        self._slow = [False] * size
        self._pos = 0
        self.calls = 0
        self.failures = 0
        self.slow = 0

    def add(self, failed: bool, slow: bool) -> None:
        pos = self._pos
        if self.calls == self.size:
            self.failures -= self._failed[pos]
            self.slow -= self._slow[pos]
        else:
            self.calls += 1
        self._failed[pos] = failed
        self._slow[pos] = slow
        self.failures += failed
        self.slow += slow
        self._pos = (pos + 1) % self.size

    def exceeded(self, policy: BreakerPolicy) -> bool | None:
        """None below the minimum number of calls, else whether a threshold is reached."""
        if self.calls < self.minimum:
            return None
        # Counts are integers; the epsilon keeps 30 % of 10 calls at exactly 3 despite floats.
        calls = self.calls
        return (
            self.failures >= policy.failure_rate_threshold * calls - 1e-9
            or self.slow >= policy.slow_call_rate_threshold * calls - 1e-9
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
        self.open_until = 0.0
        self.trips = 0
        self._listeners = list(listeners)
        self._window = _CountWindow(
            self.policy.sliding_window_size, self.policy.minimum_number_of_calls
        )
        self._permits = 0

    def allow(self, now: float) -> bool:
        """Whether a call may start at ``now``; may move open to half-open (lazily)."""
        state = self.state
        if state == CLOSED:
            return True
        if state == OPEN:
            if now <= self.open_until:  # resilience4j: strictly after the deadline
                return False
            self._transition(now, HALF_OPEN)
        if self.state == HALF_OPEN:
            if self._permits > 0:
                self._permits -= 1
                return True
            return False
        return self.state in (DISABLED, METRICS_ONLY)

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None:
        """Count one finished call. ``generation`` is ``self.generation`` read at ``allow``."""
        if generation is not None and generation != self.generation:
            return  # permitted under an earlier state: must not change this one
        kind = self.policy.classify(outcome)
        state = self.state
        if kind < 0:
            if state == HALF_OPEN:
                self._permits += 1  # an ignored call gives its permit back
            return
        if state not in (CLOSED, HALF_OPEN, METRICS_ONLY):
            return
        window = self._window
        window.add(kind == 1, duration > self.policy.slow_call_duration_threshold)
        if state == METRICS_ONLY:
            return
        verdict = window.exceeded(self.policy)
        if verdict is None:
            return
        if verdict:
            self._transition(now, OPEN)
        elif state == HALF_OPEN:
            self._transition(now, CLOSED)

    def transition_to(self, now: float, state: str) -> None:
        """Manual control: force open, disable, metrics only, or back to closed."""
        if state not in STATES:
            raise ValueError(f"unknown breaker state {state!r}; expected one of {STATES}")
        self._transition(now, state)

    def subscribe(self, listener: TransitionListener) -> None:
        """Call ``listener(now, old_state, new_state)`` on every transition."""
        self._listeners.append(listener)

    def _transition(self, now: float, state: str) -> None:
        old = self.state
        if old == state:
            return
        self.state = state
        self.generation += 1
        policy = self.policy
        if state == OPEN:
            self.trips += 1
            self.open_until = now + policy.wait_duration_in_open_state
        elif state == HALF_OPEN:
            permits = policy.permitted_number_of_calls_in_half_open_state
            self._permits = permits
            self._window = _CountWindow(permits, policy.minimum_number_of_calls)
        elif state in (CLOSED, METRICS_ONLY):
            self._window = _CountWindow(policy.sliding_window_size, policy.minimum_number_of_calls)
        for listener in self._listeners:
            listener(now, old, state)
