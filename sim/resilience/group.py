"""Several breakers guarding one dependency, each watching its own failure category.

The paper keeps timeouts apart from connection errors apart from server errors: a call
passes only if every member allows it, and each member counts only its own category.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.resilience.breaker import CANCELLED, CLOSED, OPEN, CircuitBreaker


class BreakerGroup:
    """Members in order; the group's generation is the tuple of its members'."""

    def __init__(self, members: Sequence[CircuitBreaker], name: str = "") -> None:
        if not members:
            raise ValueError("a breaker group needs at least one member")
        self.members = list(members)
        self.name = name

    @property
    def generation(self) -> tuple[int, ...]:
        return tuple(m.generation for m in self.members)

    @property
    def state(self) -> str:
        """``open`` when any member refuses calls outright, else the first non-closed one."""
        states = [m.state for m in self.members]
        if OPEN in states:
            return OPEN
        return next((s for s in states if s != CLOSED), CLOSED)

    @property
    def trips(self) -> int:
        return sum(m.trips for m in self.members)

    def allow(self, now: float) -> bool:
        """All members must allow; permits taken from the others are handed back."""
        allowed: list[CircuitBreaker] = []
        for member in self.members:
            if not member.allow(now):
                for taken in allowed:
                    taken.record(now, CANCELLED, 0.0, taken.generation)
                return False
            allowed.append(member)
        return True

    def record(
        self,
        now: float,
        outcome: str,
        duration: float = 0.0,
        generation: tuple[int, ...] | None = None,
    ) -> None:
        """Every member sees the outcome; its own policy decides what it counts."""
        for i, member in enumerate(self.members):
            member.record(now, outcome, duration, None if generation is None else generation[i])
