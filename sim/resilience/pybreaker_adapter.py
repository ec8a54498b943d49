"""The real pybreaker on simulated time, as an outside breaker
(``class: sim.resilience.pybreaker_adapter:PybreakerAdapter``).

:class:`PybreakerAdapter` runs an unmodified ``pybreaker.CircuitBreaker`` on simulated
time. pybreaker 1.4 reads its clock as ``datetime.now(UTC)`` through the name ``datetime``
in its own module namespace (in ``CircuitBreaker.open`` and ``CircuitOpenState.before_call``).
:func:`simulated_clock` swaps that module global for :class:`_SimulatedDatetime` only for
the duration of one adapter call and puts the original back afterwards; the stand-in answers
with the simulated instant only in the thread that opened the window (any other thread still
reads the real clock), so real-time uses of pybreaker are unaffected.

How the protocol maps onto pybreaker (everything else is pybreaker's own code, unchanged):

- ``allow(now)`` is pybreaker's admission: ``breaker.call(fn)`` with a generator function.
  pybreaker runs the current state's ``call`` (for an open breaker: the reset-timeout check,
  ``CircuitBreakerError`` before ``opened_at + reset_timeout``, else ``half_open()``), calls
  the listeners' ``before_call``, calls ``fn`` and, because ``fn`` returned a generator,
  hands back ``state.generator_call(...)`` *unstarted*, without recording any result. That
  generator is dropped: an unstarted generator runs no code when collected.
- ``record(now, outcome, ...)`` is pybreaker's completion, the two calls ``generator_call``
  and ``call`` make on the state object that admitted the call: ``_handle_success()`` for
  ``success`` and ``declined`` (a decline is a business outcome), and
  ``_handle_error(exc, reraise=False)`` for any other outcome, with ``exc`` an instance of
  :func:`failure_exception` for that category. Categories given as ``exclude`` become
  pybreaker excluded exceptions, which pybreaker counts as successes.
- ``state`` maps pybreaker's ``"half-open"`` to ``"half_open"``; ``generation`` is bumped on
  every pybreaker ``state_change`` notification (a new state object), so a matching
  generation means the current state object is the one that admitted the call. A result
  whose generation is stale is dropped, as the engine's stale-result rule requires (pybreaker
  itself serialises calls under its lock, so it never meets one).

Timestamps are ``EPOCH + timedelta(seconds=now)``: microsecond resolution, as pybreaker has
on the real clock, so simulated instants on a microsecond grid compare exactly.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from sim.resilience.breaker import CLOSED, HALF_OPEN, OPEN
from sim.resilience.outcomes import ANSWERED
from sim.resilience.protocol import TransitionListener

if TYPE_CHECKING:
    import pybreaker

__all__ = [
    "EPOCH",
    "PybreakerAdapter",
    "SimulatedFailure",
    "failure_exception",
    "simulated_clock",
]

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Simulated second 0 as pybreaker sees it."""

_PYBREAKER_STATES = {"closed": CLOSED, "open": OPEN, "half-open": HALF_OPEN}
_CLOCK_NAME = "datetime"  # the name pybreaker 1.4 reads its clock through


def _pybreaker() -> ModuleType:
    try:
        return importlib.import_module("pybreaker")
    except ImportError as exc:
        raise ImportError(
            "PybreakerAdapter needs pybreaker>=1.4: pip install 'breakerlab[pybreaker]'"
        ) from exc


_local = threading.local()  # .instant: the simulated datetime of this thread's open window
_install_lock = threading.Lock()
_installed: dict[int, tuple[Any, int]] = {}  # id(module) -> (original clock, open windows)


class _SimulatedDatetime(datetime):
    """Stands in for ``datetime`` inside pybreaker: ``now()`` reads the simulated instant.

    Only in a thread with an open :func:`simulated_clock` window; elsewhere it is the real
    clock. Being a ``datetime`` subclass, constructing datetimes (redis storage) still works.
    """

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        instant: datetime | None = getattr(_local, "instant", None)
        if instant is None:
            return datetime.now(tz)
        if tz is None:
            return instant.replace(tzinfo=None)
        return instant.astimezone(tz)

    @classmethod
    def utcnow(cls) -> datetime:  # type: ignore[override]
        instant: datetime | None = getattr(_local, "instant", None)
        if instant is None:
            return datetime.now(UTC).replace(tzinfo=None)
        return instant.replace(tzinfo=None)


class simulated_clock:
    """Make pybreaker read ``EPOCH + now`` seconds in this thread until the block ends."""

    __slots__ = ("_instant", "_module", "_previous")

    def __init__(self, now: float, module: ModuleType | None = None) -> None:
        self._module = module if module is not None else _pybreaker()
        self._instant = EPOCH + timedelta(seconds=now)
        self._previous: datetime | None = None

    def __enter__(self) -> datetime:
        module = self._module
        with _install_lock:
            original, windows = _installed.get(id(module), (None, 0))
            if windows == 0:
                original = getattr(module, _CLOCK_NAME, None)
                if original is not datetime:
                    raise RuntimeError(
                        f"{module.__name__}.{_CLOCK_NAME} is {original!r}, not datetime.datetime: "
                        "this pybreaker reads its clock differently (the adapter needs 1.4.x)"
                    )
                setattr(module, _CLOCK_NAME, _SimulatedDatetime)
            _installed[id(module)] = (original, windows + 1)
        self._previous = getattr(_local, "instant", None)
        _local.instant = self._instant
        return self._instant

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _local.instant = self._previous
        module = self._module
        with _install_lock:
            original, windows = _installed[id(module)]
            if windows == 1:
                setattr(module, _CLOCK_NAME, original)
                del _installed[id(module)]
            else:
                _installed[id(module)] = (original, windows - 1)


class SimulatedFailure(Exception):
    """Raised into pybreaker for a failed simulated call; ``category`` names the failure."""

    category = ""


_failure_classes: dict[str, type[SimulatedFailure]] = {}


def failure_exception(category: str) -> type[SimulatedFailure]:
    """The exception class standing for ``category``, one per name, for pybreaker's exclude."""
    cls = _failure_classes.get(category)
    if cls is None:
        name = "SimulatedFailure_" + re.sub(r"\W", "_", category)
        cls = type(name, (SimulatedFailure,), {"category": category, "__module__": __name__})
        _failure_classes[category] = cls
    return cls


def _make_state_listener(adapter: PybreakerAdapter) -> pybreaker.CircuitBreakerListener:
    """A pybreaker listener forwarding ``state_change`` to the adapter."""
    import pybreaker

    class _StateListener(pybreaker.CircuitBreakerListener):
        def state_change(
            self,
            cb: pybreaker.CircuitBreaker,
            old_state: pybreaker.CircuitBreakerState | None,
            new_state: pybreaker.CircuitBreakerState,
        ) -> None:
            adapter._on_state_change(old_state, new_state)

    return _StateListener()


class PybreakerAdapter:
    """An unmodified ``pybreaker.CircuitBreaker`` behind the engine's breaker protocol."""

    def __init__(
        self,
        fail_max: int = 5,
        reset_timeout: float = 60.0,
        success_threshold: int = 1,
        exclude: Iterable[str] = (),
        *,
        name: str = "",
        listeners: Iterable[TransitionListener] = (),
        breaker: pybreaker.CircuitBreaker | None = None,
    ) -> None:
        """Build a pybreaker breaker (or adopt ``breaker``); ``exclude`` lists categories."""
        module = _pybreaker()
        exclude = list(exclude)
        if breaker is None:
            breaker = module.CircuitBreaker(
                fail_max=fail_max,
                reset_timeout=reset_timeout,
                success_threshold=success_threshold,
                exclude=[failure_exception(c) for c in exclude],
                name=name or None,
            )
        else:
            breaker.add_excluded_exceptions(*(failure_exception(c) for c in exclude))
        self.breaker = breaker
        self.name = name or (breaker.name or "")
        self.generation = 0
        self.trips = 0
        self._module = module
        self._error = module.CircuitBreakerError
        self._now = 0.0
        self._listeners = list(listeners)
        breaker.add_listener(_make_state_listener(self))

    @classmethod
    def from_breaker(
        cls,
        breaker: pybreaker.CircuitBreaker,
        exclude: Iterable[str] = (),
        *,
        listeners: Iterable[TransitionListener] = (),
    ) -> PybreakerAdapter:
        """Adapt an existing pybreaker breaker, its own settings and listeners kept."""
        return cls(exclude=exclude, listeners=listeners, breaker=breaker)

    @property
    def state(self) -> str:
        """pybreaker's state in the engine's names: closed, open, half_open."""
        return _PYBREAKER_STATES[self.breaker.current_state]

    def allow(self, now: float) -> bool:
        """Whether pybreaker admits a call at ``now``; open moves to half-open at the timeout."""
        self._now = now
        with simulated_clock(now, self._module):
            try:
                # Returns generator_call(...) unstarted: admission only, no result recorded.
                self.breaker.call(_admitted)
            except self._error:
                return False
        return True

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None:
        """Feed one result through pybreaker's success or error handling (``duration`` unused)."""
        if generation is not None and generation != self.generation:
            return  # admitted by an earlier state object: must not change this one
        self._now = now
        with simulated_clock(now, self._module):
            state = self.breaker.state
            if outcome in ANSWERED:  # success, or a decline: the dependency did its job
                state._handle_success()
                return
            # A trip raises CircuitBreakerError (or the error itself): news for the caller only.
            with contextlib.suppress(self._error, SimulatedFailure):
                state._handle_error(failure_exception(outcome)(outcome), reraise=False)

    def transition_to(self, now: float, state: str) -> None:
        """Manual control through pybreaker's own ``close()``, ``open()``, ``half_open()``."""
        actions = {CLOSED: self.breaker.close, OPEN: self.breaker.open}
        actions[HALF_OPEN] = self.breaker.half_open
        if state not in actions:
            raise ValueError(f"pybreaker has no state {state!r}; expected one of {list(actions)}")
        self._now = now
        with simulated_clock(now, self._module):
            actions[state]()

    def subscribe(self, listener: TransitionListener) -> None:
        """Call ``listener(now, old_state, new_state)`` on every transition."""
        self._listeners.append(listener)

    def _on_state_change(
        self,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        self.generation += 1  # a new pybreaker state object: earlier admissions are stale
        old = _PYBREAKER_STATES[old_state.name] if old_state is not None else CLOSED
        new = _PYBREAKER_STATES[new_state.name]
        if old == new:
            return
        if new == OPEN:
            self.trips += 1
        for listener in self._listeners:
            listener(self._now, old, new)


def _admitted() -> Iterator[None]:
    """The guarded 'call' handed to pybreaker at admission; never started."""
    yield
