"""A node's cached view of a breaker whose state lives in a shared store.

Shops that run several checkout nodes either keep one breaker per node (each sees only its
own calls) or keep the breaker's state in a shared store (Redis, a config service) that
every node reads. Reading the store on every call is too slow, so each node keeps a copy
and re-reads it when the copy is older than ``read_delay``. Between reads a node decides
from its copy: it keeps sending calls to a dependency whose shared breaker has already
opened, or keeps refusing calls after it has closed. Results always go to the store.
"""

from __future__ import annotations

import math
from typing import Any

from sim.resilience.breaker import CLOSED, DISABLED, HALF_OPEN, METRICS_ONLY
from sim.resilience.protocol import Breaker

PASSING = frozenset({CLOSED, DISABLED, METRICS_ONLY})


class BreakerView:
    """One node's copy of a shared breaker: ``allow``/``record``/``state`` like a breaker."""

    __slots__ = ("decided", "read_at", "read_delay", "read_generation", "reads", "seen", "shared")

    def __init__(self, shared: Breaker, read_delay: float) -> None:
        if read_delay < 0:
            raise ValueError("read_delay must be >= 0")
        self.shared = shared
        self.read_delay = read_delay
        self.seen = CLOSED  # the state as of the last read
        self.read_at = -math.inf
        self.read_generation = shared.generation  # the store's generation at the last read
        self.decided = self.read_generation  # the generation the last decision was made in
        self.reads = 0  # reads of the store, for the curious

    @property
    def state(self) -> str:
        """The state this node believes (routing and hybrid mode act on it)."""
        return self.seen

    @property
    def generation(self) -> Any:
        """The generation of the state the last ``allow`` decided by: a call let through by
        a stale copy carries the generation last read, so if the store has moved on since
        (opened, or half-open with its permits handed out) its result is counted nowhere."""
        return self.decided

    def allow(self, now: float) -> bool:
        """A fresh read asks the store, which may also move open to half-open. A stale copy
        decides alone while it says closed or open; half-open permits are always taken from
        the store (an atomic counter), so a stale half-open copy asks it too."""
        if now - self.read_at >= self.read_delay:
            self.read_at = now
            self.reads += 1
            allowed = self.shared.allow(now)
            self.seen = self.shared.state
            self.read_generation = self.decided = self.shared.generation
            return allowed
        seen = self.seen
        if seen in PASSING:
            self.decided = self.read_generation
            return True
        if seen == HALF_OPEN:
            allowed = self.shared.allow(now)
            self.decided = self.shared.generation
            return allowed
        return False  # open or forced open, as far as this node knows

    def forget(self) -> None:
        """The node restarted: its next decision reads the store afresh."""
        self.seen = CLOSED
        self.read_at = -math.inf
        self.read_generation = self.decided = self.shared.generation

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: Any = None
    ) -> None:
        """Results are written to the store: its own rules decide what they count for."""
        self.shared.record(now, outcome, duration, generation)
