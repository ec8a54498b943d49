"""Differential test: the "pybreaker" preset against the real pybreaker on simulated time.

The same seeded random traces drive ``CircuitBreaker(BreakerPolicy.preset("pybreaker", ...))``
and an unmodified ``pybreaker.CircuitBreaker`` behind ``PybreakerAdapter``; after every
``allow`` and every ``record`` both must agree on the answer, the state, the generation and
the trip count. Instants sit on a 1/64 s grid, exact both as floats and as the microsecond
timedeltas pybreaker compares, and gaps of reset_timeout +- one tick are drawn on purpose so
the non-strict ``now >= opened_at + reset_timeout`` boundary is hit exactly, many times.
Calls overlap (up to four in flight), so results also arrive after the state that admitted
them has gone; those carry their generation and must change neither breaker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from sim.resilience.breaker import BreakerPolicy, CircuitBreaker
from sim.resilience.protocol import WatchedBreaker
from sim.resilience.pybreaker_adapter import PybreakerAdapter

pytest.importorskip("pybreaker")

SEED = 20_250_601
TRACES = 1_000
OPS = 80  # per trace
TICK = 1 / 64  # seconds; 15 625 microseconds, exact in binary and in timedelta
MAX_IN_FLIGHT = 4
OUTCOMES = ("success", "declined", "timeout", "connection", "server_error")
FAILURES = ("timeout", "connection", "server_error")


@dataclass(frozen=True)
class Params:
    fail_max: int
    reset_ticks: int
    success_threshold: int
    exclude: tuple[str, ...]

    @property
    def reset_timeout(self) -> float:
        return self.reset_ticks * TICK


def preset_breaker(p: Params) -> WatchedBreaker:
    """Ours: the project's breaker with the pybreaker preset."""
    policy = BreakerPolicy.preset(
        "pybreaker",
        fail_max=p.fail_max,
        reset_timeout=p.reset_timeout,
        success_threshold=p.success_threshold,
        exclude=list(p.exclude),
    )
    return CircuitBreaker(policy)


def real_pybreaker(p: Params) -> PybreakerAdapter:
    """Theirs: pybreaker 1.4 itself, on simulated time."""
    return PybreakerAdapter(
        fail_max=p.fail_max,
        reset_timeout=p.reset_timeout,
        success_threshold=p.success_threshold,
        exclude=p.exclude,
    )


class Lockstep:
    """Drives both breakers with the same operations and compares them after each one."""

    def __init__(
        self, p: Params, make_ours: Callable[[Params], WatchedBreaker], label: str
    ) -> None:
        self.p = p
        self.ours = make_ours(p)
        self.theirs = real_pybreaker(p)
        self.label = label
        self.log: list[tuple[Any, ...]] = []
        self.opened_at: float | None = None
        self.coverage: Counter[str] = Counter()
        self.theirs.subscribe(self._on_transition)

    def _on_transition(self, now: float, old: str, new: str) -> None:
        self.coverage[f"{old}->{new}"] += 1
        self.opened_at = now if new == "open" else None

    def allow(self, now: float) -> tuple[bool, int, int]:
        was_open, opened_at = self.theirs.state == "open", self.opened_at
        mine, real = self.ours.allow(now), self.theirs.allow(now)
        self.log.append(("allow", now, mine, real))
        if was_open and opened_at is not None:
            deadline = opened_at + self.p.reset_timeout
            if now == deadline:
                self.coverage["admitted exactly at the deadline"] += real
            elif now == deadline - TICK:
                self.coverage["refused one tick early"] += not real
        self._compare(mine, real)
        return real, self.ours.generation, self.theirs.generation

    def record(self, now: float, outcome: str, mine: int | None, real: int | None) -> None:
        stale = real is not None and real != self.theirs.generation
        self.coverage["stale results"] += stale
        self.ours.record(now, outcome, 0.0, mine)
        self.theirs.record(now, outcome, 0.0, real)
        self.log.append(("record", now, outcome, mine, real))
        self._compare()

    def _compare(self, mine: bool | None = None, real: bool | None = None) -> None:
        ours, theirs = self.ours, self.theirs
        got = (mine, ours.state, ours.generation, ours.trips)
        want = (real, theirs.state, theirs.generation, theirs.trips)
        if got != want:
            recent = "\n".join(f"  {op}" for op in self.log[-12:])
            pytest.fail(
                f"{self.label} {self.p}: preset diverged from pybreaker\n"
                f"  (allowed, state, generation, trips): preset {got} != pybreaker {want}\n"
                f"last operations (op, now, ...; generations preset/pybreaker):\n{recent}"
            )


def run_trace(
    rng: np.random.Generator, index: int, make_ours: Callable[[Params], WatchedBreaker]
) -> Counter[str]:
    """One random trace: parameters, gaps, overlapping calls, outcomes."""
    p = Params(
        fail_max=int(rng.integers(1, 6)),
        reset_ticks=int(rng.integers(1, 41)),
        success_threshold=int(rng.integers(1, 4)),
        exclude=tuple(c for c in FAILURES if rng.random() < 0.25),
    )
    run = Lockstep(p, make_ours, f"trace {index}")
    failure_share = rng.uniform(0.3, 0.9)
    r = p.reset_ticks
    gap_choices = np.array([0, 1, r - 1, r, r + 1, 0])
    gaps = gap_choices[rng.integers(0, 6, OPS)]
    wide = rng.integers(0, 2 * r + 1, OPS)
    gaps = np.where(gaps == 0, np.where(rng.random(OPS) < 0.5, 0, wide), gaps)
    starts = rng.random(OPS)
    picks = rng.random(OPS)
    fails = rng.random(OPS) < failure_share
    failure_kind = rng.integers(0, len(FAILURES), OPS)
    success_kind = rng.integers(0, 2, OPS)
    no_generation = rng.random(OPS) < 0.1
    in_flight: list[tuple[int, int]] = []
    ticks = int(rng.integers(0, 64))
    for i in range(OPS):
        ticks += int(gaps[i])
        now = ticks * TICK
        start = not in_flight or (len(in_flight) < MAX_IN_FLIGHT and starts[i] < 0.55)
        if start:
            allowed, mine, real = run.allow(now)
            if allowed:
                in_flight.append((mine, real))
            continue
        mine, real = in_flight.pop(int(picks[i] * len(in_flight)))
        outcome = FAILURES[failure_kind[i]] if fails[i] else OUTCOMES[success_kind[i]]
        if no_generation[i]:
            run.record(now, outcome, None, None)
        else:
            run.record(now, outcome, mine, real)
    return run.coverage


def test_preset_matches_pybreaker_on_random_traces() -> None:
    rng = np.random.default_rng(SEED)
    coverage: Counter[str] = Counter()
    for index in range(TRACES):
        coverage += run_trace(rng, index, preset_breaker)
    # The traces must reach every corner, or agreement would mean little.
    for key, least in {
        "closed->open": 1_000,
        "open->half_open": 1_000,
        "half_open->open": 300,
        "half_open->closed": 300,
        "admitted exactly at the deadline": 200,
        "refused one tick early": 200,
        "stale results": 200,
    }.items():
        assert coverage[key] >= least, (key, dict(coverage))


def scripted(p: Params) -> Lockstep:
    return Lockstep(p, preset_breaker, "scripted")


def test_reset_timeout_boundary_is_non_strict_in_both() -> None:
    run = scripted(Params(fail_max=2, reset_ticks=64, success_threshold=1, exclude=()))
    for _ in range(2):
        _, mine, real = run.allow(1.0)
        run.record(1.0, "timeout", mine, real)
    assert run.theirs.state == "open"
    assert not run.allow(2.0 - TICK)[0]
    assert run.allow(2.0)[0]
    assert run.theirs.state == "half_open"


def test_excluded_and_declined_count_as_success_in_both() -> None:
    run = scripted(Params(fail_max=2, reset_ticks=64, success_threshold=2, exclude=("connection",)))
    for outcome in ("timeout", "connection", "timeout", "declined", "timeout", "timeout"):
        _, mine, real = run.allow(0.0)
        run.record(0.0, outcome, mine, real)
    assert run.theirs.state == "open"
    for outcome in ("connection", "declined"):
        _, mine, real = run.allow(1.0)
        run.record(1.0, outcome, mine, real)
    assert run.theirs.state == "closed"


@pytest.mark.parametrize(
    ("opened", "reset_timeout"), [(0.1, 0.2), (1.1, 2.2), (0.2, 0.4), (1799.9, 30.2)]
)
def test_admitted_exactly_at_the_deadline_where_the_float_sum_overshoots(
    opened: float, reset_timeout: float
) -> None:
    """pybreaker compares datetimes, whole microseconds: a call at ``opened + reset_timeout``
    (as a decimal instant) is admitted even where the float sum lands a hair above it."""
    deadline = round(opened + reset_timeout, 6)
    assert opened + reset_timeout > deadline  # the case: float rounding overshoots
    ours = CircuitBreaker(
        BreakerPolicy.preset("pybreaker", fail_max=1, reset_timeout=reset_timeout)
    )
    theirs = real_pybreaker(Params(1, 0, 1, ()))
    theirs.breaker.reset_timeout = reset_timeout
    for breaker in (ours, theirs):
        assert breaker.allow(opened)
        breaker.record(opened, "timeout", 0.0, breaker.generation)
        assert breaker.state == "open"
        assert not breaker.allow(deadline - 1e-6)  # one microsecond early: refused
        assert breaker.allow(deadline)
        assert breaker.state == "half_open"
