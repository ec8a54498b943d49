"""Differential tests against the real Python libraries, as tests/test_pybreaker_differential.py
does for pybreaker: the ``circuitbreaker`` package against the "circuitbreaker" preset,
``purgatory`` against the same rules with a strict open expiry (purgatory half-opens when
``now > opened_at + ttl``, circuitbreaker at ``>=``), and the retry schedules of tenacity and
stamina against the matching backoff families, their random draws aligned.

Breakers run on simulated time (each library's clock patched), driven in lockstep with
overlapping calls; a result admitted under an earlier state is dropped on both sides (the
engine's rule, as the pybreaker adapter does), and after every operation the answer and the
state must agree.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from sim.resilience.backoff import RetryPolicy
from sim.resilience.breaker import BreakerPolicy, CircuitBreaker

circuitbreaker = pytest.importorskip("circuitbreaker")
purgatory_model = pytest.importorskip("purgatory.domain.model")
tenacity = pytest.importorskip("tenacity")
stamina = pytest.importorskip("stamina")

TRACES = 1_000
OPS = 80
TICK = 1 / 64  # exact in binary: deadlines are hit exactly
FAILURES = ("timeout", "connection", "server_error")
EXCEPTIONS: dict[str, type[Exception]] = {
    "timeout": TimeoutError,
    "connection": ConnectionError,
    "server_error": RuntimeError,
}
FIGURES: Counter[str] = Counter()  # traces, events compared, mismatches: docs/validation.md


class Clock:
    """Simulated time for a library that reads ``monotonic()`` or ``time()``."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class RealBreaker:
    """An unmodified circuitbreaker.CircuitBreaker or purgatory Context behind allow/record,
    with a generation bumped whenever its state changes."""

    def __init__(
        self, library: str, threshold: int, timeout: float, expected: tuple[str, ...], clock: Clock
    ) -> None:
        self.library = library
        self.clock = clock
        self.generation = 0
        errors = tuple(EXCEPTIONS[c] for c in expected)
        if library == "circuitbreaker":
            self.breaker = circuitbreaker.CircuitBreaker(
                failure_threshold=threshold, recovery_timeout=timeout, expected_exception=errors
            )
        else:
            excluded = [e for c, e in EXCEPTIONS.items() if c not in expected]
            self.breaker = purgatory_model.Context("dep", threshold, timeout, exclude=excluded)
        self._seen = self.state

    @property
    def state(self) -> str:
        state = str(self.breaker.state)
        return {"opened": "open", "half-opened": "half_open"}.get(state, state)

    def _observe(self) -> None:
        state = self.state
        if state != self._seen:
            self.generation += 1
            self._seen = state

    def allow(self, now: float) -> bool:
        self.clock.now = now
        self._observe()
        if self.library == "circuitbreaker":
            allowed = not self.breaker.opened
        else:
            try:
                self.breaker.handle_new_request()
                allowed = True
            except purgatory_model.OpenedState:
                allowed = False
        self._observe()
        return allowed

    def record(self, now: float, outcome: str, generation: int) -> None:
        self.clock.now = now
        self._observe()
        if generation != self.generation:
            return  # admitted under an earlier state
        error = EXCEPTIONS.get(outcome)
        if self.library == "circuitbreaker":
            self.breaker.__exit__(error, error(outcome) if error else None, None)
        elif error is None:
            self.breaker.handle_end_request()
        else:
            self.breaker.handle_exception(error(outcome))
        self._observe()


def preset_of(
    library: str, threshold: int, timeout: float, expected: tuple[str, ...]
) -> CircuitBreaker:
    policy = BreakerPolicy.preset(
        "circuitbreaker",
        failure_threshold=threshold,
        recovery_timeout=timeout,
        expected_exception=list(expected),
    )
    if library == "purgatory":
        policy = dataclasses.replace(policy, library="purgatory", strict_open_expiry=True)
    return CircuitBreaker(policy)


@contextmanager
def library_clock(library: str, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as patch:
        if library == "circuitbreaker":
            patch.setattr(circuitbreaker, "monotonic", clock)
        else:
            patch.setattr(purgatory_model.time, "time", clock)
        yield


def run_trace(library: str, rng: np.random.Generator, clock: Clock, coverage: Counter[str]) -> None:
    threshold = int(rng.integers(1, 6))
    timeout_ticks = int(rng.integers(1, 41))
    timeout = timeout_ticks * TICK
    expected = tuple(c for c in FAILURES if rng.random() < 0.8) or FAILURES
    ours = preset_of(library, threshold, timeout, expected)
    theirs = RealBreaker(library, threshold, timeout, expected, clock)
    ticks = int(rng.integers(0, 64))
    in_flight: list[tuple[int, int]] = []
    failure_share = rng.uniform(0.3, 0.9)
    for _ in range(OPS):
        gap = rng.choice(
            [
                0,
                1,
                timeout_ticks - 1,
                timeout_ticks,
                timeout_ticks + 1,
                int(rng.integers(0, 2 * timeout_ticks + 1)),
            ]
        )
        ticks += int(gap)
        now = ticks * TICK
        if not in_flight or (len(in_flight) < 4 and rng.random() < 0.55):
            mine, real = ours.allow(now), theirs.allow(now)
            FIGURES[f"{library} events"] += 1
            assert (mine, ours.state) == (real, theirs.state), (
                library,
                now,
                mine,
                real,
                ours.state,
                theirs.state,
            )
            if real:
                in_flight.append((ours.generation, theirs.generation))
            continue
        generation, real_generation = in_flight.pop(int(rng.integers(0, len(in_flight))))
        outcome = (
            str(rng.choice(FAILURES))
            if rng.random() < failure_share
            else str(rng.choice(["success", "declined"]))
        )
        before = ours.state
        ours.record(now, outcome, 0.0, generation)
        theirs.record(now, outcome, real_generation)
        FIGURES[f"{library} events"] += 1
        # circuitbreaker derives half-open from the clock; the preset moves there on the next
        # call (whose answer is compared above): the same rule, read at different moments.
        lazy = (ours.state, theirs.state) == ("open", "half_open") and now >= ours.open_until
        assert ours.state == theirs.state or lazy, (library, now, outcome, ours.state, theirs.state)
        if ours.state != before:
            coverage[f"{before}->{ours.state}"] += 1


@pytest.mark.slow
@pytest.mark.parametrize("library", ["circuitbreaker", "purgatory"])
def test_preset_matches_the_real_python_breaker(
    library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(20_261_207 if library == "circuitbreaker" else 20_261_208)
    clock = Clock()
    coverage: Counter[str] = Counter()
    with library_clock(library, clock, monkeypatch):
        for _ in range(TRACES):
            run_trace(library, rng, clock, coverage)
            FIGURES[f"{library} traces"] += 1
    for key in ("closed->open", "half_open->open", "half_open->closed"):
        assert coverage[key] >= 300, (key, dict(coverage))


def test_purgatory_half_opens_strictly_after_the_ttl_circuitbreaker_at_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for library, at_deadline in (("circuitbreaker", True), ("purgatory", False)):
        clock = Clock()
        with library_clock(library, clock, monkeypatch):
            theirs = RealBreaker(library, 1, 1.0, FAILURES, clock)
            ours = preset_of(library, 1, 1.0, FAILURES)
            for breaker in (theirs, ours):
                assert breaker.allow(0.0)
            theirs.record(0.0, "timeout", theirs.generation)
            ours.record(0.0, "timeout", 0.0, ours.generation)
            assert theirs.allow(1.0) is ours.allow(1.0) is at_deadline


# -- retry schedules ---------------------------------------------------------------------


class Draws:
    """``random.uniform`` and ``random.random`` fed from a list of uniforms, the ones
    RetryPolicy.delays takes."""

    def __init__(self, uniforms: list[float]) -> None:
        self.uniforms = iter(uniforms)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * next(self.uniforms)

    def random(self) -> float:
        return next(self.uniforms)


def tenacity_schedule(
    wait: Any,
    attempts: int,
    deadline: float | None,
    durations: list[float],
    uniforms: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[float], int]:
    """The waits tenacity sleeps and the attempts it makes for a call that always fails,
    each attempt taking ``durations[i]`` simulated seconds."""
    clock = Clock()
    slept: list[float] = []
    calls = iter(durations)

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    def failing() -> None:
        clock.now += next(calls)
        raise TimeoutError

    stop = tenacity.stop_after_attempt(attempts)
    if deadline is not None:
        stop = stop | tenacity.stop_before_delay(deadline)
    with monkeypatch.context() as patch:
        patch.setattr(tenacity.time, "monotonic", clock)
        patch.setattr(tenacity.wait, "random", Draws(uniforms))
        retrying = tenacity.Retrying(wait=wait, stop=stop, sleep=sleep, reraise=True)
        with pytest.raises(TimeoutError):
            retrying(failing)
    return slept, retrying.statistics["attempt_number"]


def breakerlab_schedule(
    policy: RetryPolicy, durations: list[float], uniforms: list[float]
) -> tuple[list[float], int]:
    """What the engine does with the same policy: wait, then ask ``allows`` with it."""
    now, attempt, slept = durations[0], 1, []
    waits = policy.delays(uniforms)
    while attempt < policy.max_attempts:
        wait = next(waits)
        if not policy.allows(attempt + 1, 0.0, now, wait):
            break
        slept.append(wait)
        attempt += 1
        now += wait + durations[attempt - 1]
    return slept, attempt


FAMILIES: dict[str, Callable[[np.random.Generator], tuple[Any, dict[str, Any]]]] = {
    "fixed": lambda r: (lambda d: (tenacity.wait_fixed(d), {"backoff": "fixed", "wait": d}))(
        float(r.uniform(0.01, 2))
    ),
    "exponential": lambda r: (
        lambda d, m, cap: (
            tenacity.wait_exponential(multiplier=d, exp_base=m, max=cap),
            {"backoff": "exponential", "wait": d, "multiplier": m, "max_wait": cap},
        )
    )(float(r.uniform(0.01, 1)), float(r.choice([1.5, 2, 3])), float(r.uniform(0.5, 20))),
    "full_jitter": lambda r: (
        lambda d, cap: (
            tenacity.wait_random_exponential(multiplier=d, max=cap),
            {"backoff": "full_jitter", "wait": d, "multiplier": 2, "max_wait": cap},
        )
    )(float(r.uniform(0.01, 1)), float(r.uniform(0.5, 20))),
    "linear": lambda r: (
        lambda d: (
            tenacity.wait_incrementing(start=d, increment=d),
            {"backoff": "linear", "wait": d},
        )
    )(float(r.uniform(0.01, 2))),
    "fixed with jitter": lambda r: (
        lambda lo, hi: (
            tenacity.wait_random(lo, hi),
            {"backoff": "fixed", "wait": (lo + hi) / 2, "jitter": (hi - lo) / (hi + lo)},
        )
    )(float(r.uniform(0.01, 1)), float(r.uniform(1, 3))),
}
SCHEDULES = 2_000


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_tenacity_schedules_match_the_backoff_family(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(20_261_209 + list(FAMILIES).index(family))
    stopped_by_deadline = 0
    for _ in range(SCHEDULES):
        wait, fields = FAMILIES[family](rng)
        attempts = int(rng.integers(1, 9))
        deadline = float(rng.uniform(0.5, 30)) if rng.random() < 0.5 else None
        policy = RetryPolicy(max_attempts=attempts, deadline=deadline, **fields)
        durations = [float(x) for x in rng.uniform(0, 2, attempts)]
        uniforms = [float(u) for u in rng.random(attempts)]
        theirs = tenacity_schedule(wait, attempts, deadline, durations, uniforms, monkeypatch)
        ours = breakerlab_schedule(policy, durations, uniforms)
        assert ours[1] == theirs[1], (family, fields, attempts, deadline, ours, theirs)
        assert ours[0] == pytest.approx(theirs[0], rel=1e-12, abs=1e-15), (
            family,
            fields,
            ours,
            theirs,
        )
        stopped_by_deadline += ours[1] < attempts
        FIGURES["tenacity schedules"] += 1
        FIGURES["tenacity waits compared"] += len(theirs[0])
    assert stopped_by_deadline >= 100  # the deadline rule was exercised, not only the count


def test_stamina_schedules_match_the_exponential_family(monkeypatch: pytest.MonkeyPatch) -> None:
    """stamina without jitter is the exponential family with a cap; its additive jitter
    (U(0, wait_jitter) seconds on top) has no breakerlab family."""
    rng = np.random.default_rng(20_261_215)
    hooks = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([])  # no log line per retry
    try:
        _stamina_schedules(rng, monkeypatch)
    finally:
        stamina.instrumentation.set_on_retry_hooks(hooks)


def _stamina_schedules(rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(500):
        initial, base, cap = (
            float(rng.uniform(0.01, 1)),
            float(rng.choice([1.5, 2, 3])),
            float(rng.uniform(0.5, 20)),
        )
        attempts = int(rng.integers(2, 9))
        slept: list[float] = []
        with monkeypatch.context() as patch:
            patch.setattr(time, "sleep", slept.append)
            with pytest.raises(TimeoutError):
                for attempt in stamina.retry_context(
                    on=TimeoutError,
                    attempts=attempts,
                    timeout=None,
                    wait_initial=initial,
                    wait_max=cap,
                    wait_jitter=0,
                    wait_exp_base=base,
                ):
                    with attempt:
                        raise TimeoutError
        policy = RetryPolicy(
            max_attempts=attempts,
            wait=initial,
            multiplier=base,
            max_wait=cap,
            backoff="exponential",
        )
        assert slept == pytest.approx(list(policy.delays([0.5] * attempts)), rel=1e-12)
        FIGURES["stamina schedules"] += 1
        FIGURES["stamina waits compared"] += len(slept)


def figures() -> dict[str, int]:
    """The published figures (docs/validation.md): ``python tests/test_python_differential.py``."""
    patch = pytest.MonkeyPatch()
    try:
        for library in ("circuitbreaker", "purgatory"):
            test_preset_matches_the_real_python_breaker(library, patch)
        for family in FAMILIES:
            test_tenacity_schedules_match_the_backoff_family(family, patch)
        test_stamina_schedules_match_the_exponential_family(patch)
    finally:
        patch.undo()
    return dict(FIGURES)


if __name__ == "__main__":
    print(figures())
