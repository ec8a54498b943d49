"""Retry policy: how many attempts, which outcomes, how long to wait, within what deadline.

Pure Python on explicit inputs: the caller passes ``now`` and every uniform draw, so two
configurations fed the same stream see the same randomness (common random numbers).

Numbering. ``retry`` is 1-based: retry 1 is the second attempt, waited for after the first
failure (the engine calls ``delay(attempt - 1, u)``). Polly numbers the same wait with a
0-based ``attempt`` n = retry - 1; both forms are given for each family below.

Families (``backoff``), d = ``wait``, m = ``multiplier``, cap = ``max_wait``, u a uniform:

* ``fixed``       d.
* ``linear``      retry x d (Polly: (n+1) x d with 0-based n): d, 2d, 3d, ...
* ``exponential`` d x m**(retry-1) (Polly: d x 2**n with m = 2). m = 1 is ``fixed``, which is
  why this is the default: ``RetryPolicy(3, 0.5)`` keeps its old constant-wait behaviour.
* ``randomized``  resilience4j's randomized interval: the exponential curve (m = 1 is
  ``IntervalFunction.ofRandomized``, m > 1 ``ofExponentialRandomBackoff``) randomized by
  ``jitter`` > 0. ``jitter`` applies the same way to ``fixed``, ``linear`` and
  ``exponential``: uniform in [v(1-f), v(1+f)] as v(1 - f + 2fu), then capped: the cap comes
  after randomizing, as in resilience4j and Polly.
* ``full_jitter``  Brooker/AWS: U(0, min(cap, d x m**(retry-1))); Brooker's post uses m = 2.
* ``equal_jitter`` v/2 + U(0, v/2) with v = min(cap, d x m**(retry-1)).
* ``decorrelated_jitter`` Brooker: s = min(cap, U(d, 3 x s_prev)), s_prev starting at d, so
  the first wait is U(d, 3d). Stateful.
* ``polly_decorrelated_v2`` Polly v8's exponential-with-jitter (George Polevoy's formula from
  Polly.Contrib.WaitAndRetry, as in Polly.Core ``RetryHelper.DecorrelatedJitterBackoffV2``):
  t = n + u, next = 2**t x tanh(sqrt(4t)), wait = (next - prev) / 1.4 x d, prev = next
  (starting at 0); then capped. Medians for retries 1-5 are about 0.9d, 1.1d, 2d, 4d, 8d.
  Stateful.

Stateful families need the previous wait, so ``delay(retry, u)`` refuses them; use
``delays(uniforms)``, which works for every family and draws one uniform per retry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Literal, get_args

from sim.config.configuration import USES_JITTER, USES_MULTIPLIER
from sim.config.configuration import BackoffFamily as BackoffName  # one list of families

BACKOFFS: Final[frozenset[str]] = frozenset(get_args(BackoffName))
STATEFUL_BACKOFFS: Final[frozenset[str]] = frozenset(
    {"decorrelated_jitter", "polly_decorrelated_v2"}
)
# Families that use the multiplier as their growth factor, and those randomized by
# ``jitter``: one definition, shared with the configuration schema.
_USES_MULTIPLIER: Final = USES_MULTIPLIER
_USES_JITTER: Final = USES_JITTER

DEFAULT_RETRY_ON: Final[frozenset[str]] = frozenset(
    {"timeout", "connection", "server_error", "rejected"}
)
NEVER_RETRIED: Final[frozenset[str]] = frozenset({"success", "declined"})

POLLY_JITTER: Final = 0.25  # Polly v8 constant/linear jitter: +-25 %
_POLLY_P_FACTOR: Final = 4.0
_POLLY_RP_SCALING: Final = 1 / 1.4
_DECORRELATED_GROWTH: Final = 3.0


def _grow(wait: float, multiplier: float, steps: int) -> float:
    """``wait * multiplier**steps``, infinite instead of raising when it overflows."""
    try:
        return wait * multiplier**steps
    except OverflowError:
        return math.inf


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts include the first call, as in resilience4j's ``maxAttempts``.

    ``backoff`` picks the wait family (module docstring); ``retry_on`` the outcome categories
    worth retrying; ``deadline`` (seconds from the first attempt) bounds all attempts together.
    The positional order ``(max_attempts, wait, multiplier, max_wait, jitter)`` is the engine's.
    """

    max_attempts: int = 1
    wait: float = 0.5
    multiplier: float = 1.0
    max_wait: float | None = None
    jitter: float = 0.0
    backoff: BackoffName = "exponential"
    retry_on: frozenset[str] = DEFAULT_RETRY_ON
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts counts the first call, so it must be at least 1")
        if self.wait < 0 or self.multiplier < 1 or not 0 <= self.jitter <= 1:
            raise ValueError("wait >= 0, multiplier >= 1 and 0 <= jitter <= 1 are required")
        if self.max_wait is not None and self.max_wait < 0:
            raise ValueError("max_wait must be >= 0")
        if self.backoff not in BACKOFFS:
            raise ValueError(f"backoff must be one of {sorted(BACKOFFS)}, not {self.backoff!r}")
        if self.backoff not in _USES_MULTIPLIER and self.multiplier != 1:
            raise ValueError(f"backoff {self.backoff!r} has no multiplier: leave it at 1")
        if self.backoff not in _USES_JITTER and self.jitter != 0:
            raise ValueError(f"backoff {self.backoff!r} is randomized already: leave jitter at 0")
        if self.backoff == "randomized" and self.jitter == 0:
            raise ValueError("backoff 'randomized' needs a randomization factor: jitter > 0")
        if isinstance(self.retry_on, str):
            raise TypeError("retry_on is a collection of outcome categories, not one string")
        retry_on = frozenset(self.retry_on)
        if retry_on & NEVER_RETRIED:
            raise ValueError(f"{sorted(retry_on & NEVER_RETRIED)} must never be retried")
        object.__setattr__(self, "retry_on", retry_on)
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError("deadline must be > 0 seconds (or None for no deadline)")

    # -- builders with each library's conventions and defaults -------------------------------

    @classmethod
    def resilience4j(
        cls,
        max_attempts: int = 3,
        wait: float = 0.5,
        *,
        exponential: bool = False,
        multiplier: float = 1.5,
        randomized: bool = False,
        randomization_factor: float = 0.5,
        max_wait: float | None = None,
        retry_on: Iterable[str] = DEFAULT_RETRY_ON,
        deadline: float | None = None,
    ) -> RetryPolicy:
        """resilience4j Retry: ``max_attempts`` counts the first call (default 3, 500 ms).

        ``exponential`` enables ``wait x multiplier**(n-1)`` (1.5 by default; ignored when off,
        as in resilience4j); ``randomized`` the uniform ±``randomization_factor`` (0.5).
        """
        m = multiplier if exponential else 1.0
        backoff: BackoffName = "exponential" if exponential else "fixed"
        if randomized:
            backoff = "randomized"
        return cls(
            max_attempts=max_attempts,
            wait=wait,
            multiplier=m,
            max_wait=max_wait,
            jitter=randomization_factor if randomized else 0.0,
            backoff=backoff,
            retry_on=frozenset(retry_on),
            deadline=deadline,
        )

    @classmethod
    def polly(
        cls,
        max_retry_attempts: int = 3,
        delay: float = 2.0,
        *,
        backoff_type: Literal["constant", "linear", "exponential"] = "constant",
        use_jitter: bool = False,
        max_delay: float | None = None,
        retry_on: Iterable[str] = DEFAULT_RETRY_ON,
        deadline: float | None = None,
    ) -> RetryPolicy:
        """Polly v8 retry: ``max_retry_attempts`` does NOT count the first call (default 3, 2 s).

        Constant/linear jitter is ±25 %; exponential is ``delay x 2**n``, and with jitter it is
        Polly's decorrelated jitter V2. ``max_delay`` caps every wait, after jitter.
        """
        if max_retry_attempts < 0:
            raise ValueError("max_retry_attempts must be >= 0")
        jitter = POLLY_JITTER if use_jitter else 0.0
        multiplier = 1.0
        backoff: BackoffName
        if backoff_type == "constant":
            backoff = "fixed"
        elif backoff_type == "linear":
            backoff = "linear"
        elif backoff_type == "exponential":
            if use_jitter:
                backoff = "polly_decorrelated_v2"
                jitter = 0.0
            else:
                backoff = "exponential"
                multiplier = 2.0
        else:
            raise ValueError(f"unknown Polly backoff_type {backoff_type!r}")
        return cls(
            max_attempts=max_retry_attempts + 1,
            wait=delay,
            multiplier=multiplier,
            max_wait=max_delay,
            jitter=jitter,
            backoff=backoff,
            retry_on=frozenset(retry_on),
            deadline=deadline,
        )

    # -- what the engine asks --------------------------------------------------------------

    @property
    def retries(self) -> int:
        """Retries after the first call (Polly's ``MaxRetryAttempts``): ``max_attempts - 1``."""
        return self.max_attempts - 1

    @property
    def stateful(self) -> bool:
        """True when a wait depends on the previous one, so only ``delays`` can produce it."""
        return self.backoff in STATEFUL_BACKOFFS

    def should_retry(self, outcome: str) -> bool:
        """Whether a failed attempt with this outcome category is worth another attempt."""
        return outcome in self.retry_on

    def allows(self, attempt: int, started: float, now: float, next_delay: float = 0.0) -> bool:
        """May attempt number ``attempt`` (1 = first call) start ``next_delay`` after ``now``?

        No if it exceeds ``max_attempts``, or if it would start at or after the overall
        deadline ``started + deadline`` (``started``: when the first attempt began).
        """
        if attempt < 1:
            raise ValueError("attempt numbers start at 1 (the first call)")
        if attempt > self.max_attempts:
            return False
        return self.deadline is None or now + next_delay < started + self.deadline

    def delay(self, retry: int, u: float = 0.5) -> float:
        """Wait before retry number ``retry`` (1-based); ``u`` in [0, 1) drives the jitter.

        Stateless families only: the decorrelated ones raise, use ``delays`` for them.
        """
        if self.stateful:
            raise ValueError(
                f"backoff {self.backoff!r} depends on the previous wait: "
                "use RetryPolicy.delays(uniforms) for one call's sequence of waits"
            )
        return self._next(retry, u, 0.0)[0]

    def delays(self, uniforms: Iterable[float]) -> Iterator[float]:
        """Waits before retry 1, 2, ..., max_attempts - 1, one uniform drawn lazily per retry.

        Works for every family; start one sequence per call (it carries decorrelated state).
        """
        draws = iter(uniforms)
        state = 0.0
        for retry in range(1, self.max_attempts):
            u = next(draws, None)
            if u is None:
                raise ValueError(f"ran out of uniform draws before retry {retry}")
            wait, state = self._next(retry, u, state)
            yield wait

    # -- the families ----------------------------------------------------------------------

    def _cap(self, value: float) -> float:
        """The wait after the ``max_wait`` cap (applied last, after randomizing)."""
        if self.max_wait is not None and value > self.max_wait:
            return self.max_wait
        return value

    def _next(self, retry: int, u: float, state: float) -> tuple[float, float]:
        """Wait before ``retry`` and the state for the next one (previous wait or Polly's prev)."""
        if retry < 1:
            raise ValueError("retry numbers start at 1 (the wait after the first failure)")
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"u must be a uniform draw in [0, 1], not {u!r}")
        backoff = self.backoff
        d = self.wait
        if d == 0:
            return 0.0, state
        if backoff in _USES_JITTER:
            # linear, or the exponential curve (fixed has multiplier 1)
            base = retry * d if backoff == "linear" else _grow(d, self.multiplier, retry - 1)
            if self.jitter:
                factor = 1 - self.jitter + 2 * self.jitter * u
                base = base * factor if factor else 0.0
            return self._cap(base), state
        if backoff == "full_jitter":
            ceiling = self._cap(_grow(d, self.multiplier, retry - 1))
            return (ceiling * u if u else 0.0), state
        if backoff == "equal_jitter":
            half = self._cap(_grow(d, self.multiplier, retry - 1)) / 2
            return half + (half * u if u else 0.0), state
        if backoff == "decorrelated_jitter":
            previous = state if retry > 1 else d
            spread = _DECORRELATED_GROWTH * previous - d
            wait = self._cap(d + (u * spread if u else 0.0))
            return wait, wait
        # polly_decorrelated_v2: Polly's 0-based attempt n = retry - 1
        t = retry - 1 + u
        try:
            nxt = 2.0**t * math.tanh(math.sqrt(_POLLY_P_FACTOR * t))
        except OverflowError:
            nxt = math.inf
        if math.isinf(nxt):
            return self._cap(math.inf), nxt
        previous = state if retry > 1 else 0.0
        return self._cap((nxt - previous) * _POLLY_RP_SCALING * d), nxt
