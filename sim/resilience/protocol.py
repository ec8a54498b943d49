"""The breaker protocol the engine drives: our ``CircuitBreaker``, a group of them, a node's
view of a shared one, or a user's own breaker."""

from __future__ import annotations

from typing import Any, Protocol


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
