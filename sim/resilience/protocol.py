"""The breaker protocol the engine drives: our ``CircuitBreaker``, a group of them, a node's
view of a shared one, or a user's own breaker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

TransitionListener = Callable[[float, str, str], None]  # listener(now, old_state, new_state)


class Breaker(Protocol):
    """``allow(now)`` before a call, ``record(...)`` after it with the ``generation`` read
    right after ``allow``; ``state`` for routing and monitoring."""

    @property
    def state(self) -> str: ...

    @property
    def generation(self) -> Any: ...

    def allow(self, now: float) -> bool: ...

    def record(
        self, now: float, outcome: str, duration: float = ..., generation: Any = ...
    ) -> None: ...


class WatchedBreaker(Breaker, Protocol):
    """A breaker the engine can watch as it watches ``CircuitBreaker``: it counts its trips
    and tells listeners of every transition. An outside breaker is one once loaded
    (``sim.resilience.plugins.load_breaker`` wraps one that is not)."""

    @property
    def generation(self) -> int: ...

    @property
    def trips(self) -> int: ...

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None: ...

    def subscribe(self, listener: TransitionListener) -> None: ...
