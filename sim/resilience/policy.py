"""What decides a breaker's behaviour: its window, thresholds, open state and half-open
rules, with resilience4j's count-based breaker as the default.

``BreakerPolicy.preset(library, **that_library's_names)`` builds the policy of
resilience4j, Polly, Hystrix, pybreaker, circuitbreaker, Envoy, opossum, cockatiel or the
paper's absolute rule from that library's own parameters (the translations live in
presets.py, which knows nothing of this class: it hands back field values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.config.fields import Strict
from sim.resilience.outcomes import CANCELLED, DECLINED, FAILURE_CATEGORIES
from sim.resilience.presets import fields_from_spec, preset_fields
from sim.resilience.windows import (
    AbsoluteWindow,
    CockatielSamplingWindow,
    ConsecutiveWindow,
    CountWindow,
    OpossumWindow,
    RollingWindow,
    SamplingWindow,
    TimeWindow,
    Window,
)

WindowKind = Literal[
    "consecutive", "count", "time", "sampling", "rolling", "absolute", "opossum", "cockatiel"
]


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
    # Compare open expiry in whole microseconds, as a library reading datetime does.
    microsecond_clock: bool = False
    automatic_transition: bool = False  # half-open by timer rather than on the next call
    sweep_interval: float = 10.0  # Envoy: hosts return, and ejections decay, per interval
    # Node.js libraries (sim/resilience/nodebreakers.py).
    bucket_count: int = 10  # opossum: rollingCountBuckets
    volume_threshold: int = 0  # opossum: calls made in the window before it may open
    warm_up: float = 0.0  # opossum allowWarmUp: no opening before this instant
    minimum_rps: float | None = None  # cockatiel SamplingBreaker; None: its 5/threshold rule
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
        """The policy of ``library`` with its defaults, overridden in its own names/units.

        ValueError names an unknown library or parameter (with the nearest known one) or a
        value the library would not take.
        """
        return cls(**preset_fields(library, overrides))

    @classmethod
    def from_spec(cls, spec: Strict) -> BreakerPolicy:
        """The policy of a validated preset spec from a configuration file."""
        return cls(**fields_from_spec(spec))

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
        if kind == "opossum":
            bucket_ms = math.floor(round(self.window_duration * 1000, 6) / self.bucket_count)
            return OpossumWindow(bucket_ms, self.bucket_count)
        if kind == "cockatiel":
            return CockatielSamplingWindow(round(self.window_duration * 1000, 6))
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
