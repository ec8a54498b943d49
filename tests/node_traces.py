"""Seeded call traces for the differential tests of the Node.js presets, and their replay
through the presets (tests/test_node_differential.py replays them through the real npm
packages with tests/js/replay.js and compares the two event by event).

A trace is a library's options (in its own camelCase names, milliseconds) and events on a
whole-millisecond clock: ``[ms, "call", id]`` starts call ``id``; ``[ms, "settle", pick,
outcome]`` ends the running call at ``floor(pick x running)`` in the order they started
(none running: nothing happens). Calls overlap, so results arrive after the state that
admitted them is gone; gaps are drawn around each library's boundaries (reset
timeout +- 1 ms, bucket edges) so ``>=`` against ``>`` is hit exactly, many times.

An observation per event is ``[calls whose action ran, calls refused, state, openings]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.resilience.breaker import HALF_OPEN, BreakerPolicy, CircuitBreaker
from sim.resilience.nodebreakers import NodeBreaker

FAILURES = ("timeout", "connection", "server_error")
OUTCOMES = ("success", *FAILURES)
Trace = dict[str, Any]
Observation = list[Any]


def _subset(rng: np.random.Generator, share: float) -> list[str]:
    return [c for c in FAILURES if rng.random() < share]


def opossum_params(rng: np.random.Generator) -> dict[str, Any]:
    buckets = int(rng.integers(1, 11))
    return {
        "errorThresholdPercentage": float(
            rng.choice([10, 25, 33.3, 50, 50, 60, 66.6, 75, 90, int(rng.integers(1, 100))])
        ),
        "volumeThreshold": int(rng.integers(0, 7)),
        "resetTimeout": int(rng.integers(1, 1500)),
        "rollingCountTimeout": int(rng.integers(10 * buckets, 3000)),
        "rollingCountBuckets": buckets,
        "allowWarmUp": bool(rng.random() < 0.25),
        "errorFilter": _subset(rng, 0.15),
    }


def cockatiel_params(rng: np.random.Generator) -> dict[str, Any]:
    sampling = bool(rng.random() < 0.5)
    return {
        "breaker": "sampling" if sampling else "consecutive",
        "threshold": round(float(rng.uniform(0.1, 0.9)), 3)
        if sampling
        else int(rng.integers(1, 6)),
        "duration": int(rng.integers(100, 3000)),
        "minimumRps": None if rng.random() < 0.4 else round(float(rng.uniform(1, 40)), 2),
        "halfOpenAfter": int(rng.integers(0, 1500)),
        "backoff": "exponential" if rng.random() < 0.4 else "constant",
        "maxDelay": int(rng.integers(1, 6000)),
        "handle": list(FAILURES) if rng.random() < 0.7 else _subset(rng, 0.7),
    }


def preset_options(library: str, params: dict[str, Any]) -> dict[str, Any]:
    """The preset's parameters (snake_case, the same milliseconds) for ``params``."""
    if library == "opossum":
        return {
            "error_threshold_percentage": f"{params['errorThresholdPercentage']}%",
            "volume_threshold": params["volumeThreshold"],
            "reset_timeout": params["resetTimeout"],
            "rolling_count_timeout": params["rollingCountTimeout"],
            "rolling_count_buckets": params["rollingCountBuckets"],
            "allow_warm_up": params["allowWarmUp"],
            "error_filter": params["errorFilter"],
        }
    return {
        "breaker": params["breaker"],
        "threshold": params["threshold"],
        "duration": params["duration"],
        "minimum_rps": params["minimumRps"],
        "half_open_after": params["halfOpenAfter"],
        "half_open_backoff": params["backoff"],
        "half_open_max_delay": params["maxDelay"],
        "handle": params["handle"],
    }


def _boundaries(library: str, params: dict[str, Any]) -> list[int]:
    """Gaps (ms) that land events on the library's own edges."""
    if library == "opossum":
        reset, bucket = params["resetTimeout"], params["rollingCountTimeout"]
        bucket //= params["rollingCountBuckets"]
        return [reset - 1, reset, reset + 1, bucket, bucket - 1, params["rollingCountTimeout"]]
    delay = params["halfOpenAfter"]
    return [delay - 1, delay, delay + 1, 2 * delay, params["maxDelay"], params["duration"] // 5]


def make_trace(library: str, rng: np.random.Generator, events: int) -> Trace:
    """One random trace: options, gaps around the edges, overlapping calls, outcomes."""
    params = opossum_params(rng) if library == "opossum" else cockatiel_params(rng)
    edges = [max(0, gap) for gap in _boundaries(library, params)]
    failure_share = float(rng.uniform(0.2, 0.95))
    start_share = float(rng.uniform(0.4, 0.65))
    ms = int(rng.integers(0, 50))
    out: list[list[Any]] = []
    for call in range(events):
        pick = rng.random()
        if pick < 0.45:
            ms += 0 if rng.random() < 0.3 else int(rng.integers(1, 40))
        elif pick < 0.8:
            ms += int(rng.choice(edges))
        else:
            ms += int(rng.integers(0, 2 * max(edges) + 2))
        if rng.random() < start_share:
            out.append([ms, "call", call])
            continue
        failed = rng.random() < failure_share
        outcome = FAILURES[int(rng.integers(0, 3))] if failed else "success"
        out.append([ms, "settle", float(rng.random()), outcome])
    return {"params": params, "events": out}


class _Driver:
    """The preset driven as replay.js drives the real library. cockatiel holds a call that
    arrives while its probe is out until the probe's result; so does the driver."""

    def __init__(self, library: str, params: dict[str, Any]) -> None:
        breaker = CircuitBreaker(BreakerPolicy.preset(library, **preset_options(library, params)))
        assert isinstance(breaker, NodeBreaker)
        self.breaker = breaker
        self.holds = library == "cockatiel"
        self.generations: dict[int, int] = {}  # running call -> generation it began in
        self.held: dict[int, list[int]] = {}  # cockatiel: probe -> calls awaiting its result
        self.probe = -1
        self.ran: list[int] = []
        self.refused: list[int] = []

    def admit(self, now: float, call: int) -> None:
        breaker = self.breaker
        if self.holds and breaker.state == HALF_OPEN:
            self.held.setdefault(self.probe, []).append(call)
        elif breaker.allow(now):
            self.generations[call] = breaker.generation
            self.ran.append(call)
            if breaker.state == HALF_OPEN:
                self.probe = call
        else:
            self.refused.append(call)

    def settle(self, now: float, pick: float, outcome: str) -> None:
        running = list(self.generations)
        if not running:
            return
        call = running[int(pick * len(running))]
        self.breaker.record(now, outcome, 0.0, self.generations.pop(call))
        for waiting in self.held.pop(call, []):
            self.admit(now, waiting)

    def event(self, event: list[Any]) -> Observation:
        now = event[0] / 1000
        self.ran, self.refused = [], []
        if event[1] == "call":
            self.admit(now, event[2])
        else:
            self.settle(now, event[2], event[3])
        breaker = self.breaker
        return [self.ran, sorted(self.refused), breaker.state_at(now), breaker.trips]


def replay_preset(library: str, trace: Trace) -> list[Observation]:
    """The trace through ``BreakerPolicy.preset(library, ...)``, observed as replay.js
    observes the real library."""
    driver = _Driver(library, trace["params"])
    return [driver.event(event) for event in trace["events"]]
