"""Bring your own breaker: load any breaker class by path, or run the real pybreaker.

``load_breaker("package.module:ClassName", args)`` imports a class, checks that it is one
with the breaker protocol's methods, instantiates it with ``**args`` and checks the
protocol the engine drives (``allow(now)``, ``record(now, outcome, duration, generation)``,
``state``). An object with only ``allow``, ``record`` and ``state`` is wrapped in
:class:`TrackedBreaker`, which adds ``generation``, ``trips`` and ``subscribe`` by watching
``state`` around every call.

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
import inspect
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from sim.errors import ConfigError
from sim.resilience import protocol
from sim.resilience.breaker import CLOSED, DECLINED, HALF_OPEN, OPEN, STATES, SUCCESS

if TYPE_CHECKING:
    import pybreaker

__all__ = [
    "EPOCH",
    "Breaker",
    "BreakerClassError",
    "PybreakerAdapter",
    "SimulatedFailure",
    "TrackedBreaker",
    "as_breaker",
    "breaker_class",
    "failure_exception",
    "load_breaker",
    "simulated_clock",
]

TransitionListener = Callable[[float, str, str], None]

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Simulated second 0 as pybreaker sees it."""

SUCCESS_OUTCOMES = frozenset({SUCCESS, DECLINED})
_PYBREAKER_STATES = {"closed": CLOSED, "open": OPEN, "half-open": HALF_OPEN}
_CLOCK_NAME = "datetime"  # the name pybreaker 1.4 reads its clock through
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class Breaker(protocol.Breaker, Protocol):
    """What an outside breaker offers the engine: the protocol of
    ``sim.resilience.breaker.CircuitBreaker``, with its trips and transition listeners."""

    @property
    def generation(self) -> int: ...

    @property
    def trips(self) -> int: ...

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None: ...

    def subscribe(self, listener: TransitionListener) -> None: ...


# --------------------------------------------------------------------------- loading


class BreakerClassError(ConfigError, ValueError):
    """A ``class:`` that names no usable breaker: the user's mistake (exit 2), never a bug;
    a ValueError too, for callers of the library API."""


def load_breaker(class_path: str, args: Mapping[str, Any] | None = None) -> Breaker:
    """Import ``"package.module:ClassName"``, build it with ``**args``, check the protocol.

    The named object must be a class with the protocol's methods before it is called (a
    function such as ``subprocess:getoutput`` is never run). An object with the full
    protocol is returned as it is; one with only ``allow``, ``record`` and ``state`` comes
    back wrapped in :class:`TrackedBreaker` so the engine can rely on ``generation``,
    ``trips`` and ``subscribe``. Every problem is a :class:`BreakerClassError`.
    """
    if args is None:
        args = {}
    if not isinstance(args, Mapping) or not all(isinstance(k, str) for k in args):
        raise BreakerClassError(
            f"breaker args for {class_path!r} must be a mapping of names to values"
        )
    cls = breaker_class(class_path)
    try:
        breaker = cls(**args)
    except TypeError as exc:
        raise BreakerClassError(
            f"cannot instantiate breaker {class_path!r} with arguments {sorted(args)}: {exc}"
        ) from None
    except Exception as exc:  # the user's constructor failed: their code, their message
        raise BreakerClassError(
            f"breaker {class_path!r} raised {type(exc).__name__} when built: {exc}"
        ) from None
    try:
        return as_breaker(breaker, where=class_path)
    except ValueError as exc:
        raise BreakerClassError(str(exc)) from None


def breaker_class(class_path: str) -> type:
    """The class ``"package.module:ClassName"`` names, once checked to be a class with the
    breaker protocol's ``allow`` and ``record`` methods: nothing is called or built."""
    if not isinstance(class_path, str) or not _PATH.match(class_path):
        raise BreakerClassError(
            f"breaker class path must look like 'package.module:ClassName', got {class_path!r}"
        )
    module_name, _, attribute = class_path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BreakerClassError(
            f"cannot import module {module_name!r} for breaker {class_path!r}: {exc}"
        ) from None
    found: Any = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise BreakerClassError(
                f"module {module_name!r} has no attribute {attribute!r} (breaker {class_path!r})"
            ) from None
    if not inspect.isclass(found):
        what = "a function" if callable(found) else f"an object of type {type(found).__name__}"
        raise BreakerClassError(
            f"{class_path!r} is {what}, not a class: a breaker is a class with allow(now), "
            "record(now, outcome, duration) and state"
        )
    missing = [m for m in ("allow", "record") if not callable(getattr(found, m, None))]
    if missing:
        raise BreakerClassError(
            f"breaker {class_path!r} lacks the breaker protocol: missing {', '.join(missing)} "
            "(needs allow(now) -> bool, record(now, outcome, duration, generation), state: str)"
        )
    return found


def as_breaker(obj: Any, *, where: str = "") -> Breaker:
    """Check ``obj`` for the breaker protocol; wrap it in :class:`TrackedBreaker` if partial."""
    name = where or type(obj).__name__
    missing = [m for m in ("allow", "record") if not callable(getattr(obj, m, None))]
    if not hasattr(obj, "state"):
        missing.append("state")
    if missing:
        raise ValueError(
            f"breaker {name!r} lacks the breaker protocol: missing {', '.join(missing)} "
            "(needs allow(now) -> bool, record(now, outcome, duration, generation), state: str)"
        )
    _check_state(obj.state, name)
    full = (
        isinstance(getattr(obj, "generation", None), int)
        and isinstance(getattr(obj, "trips", None), int)
        and callable(getattr(obj, "subscribe", None))
    )
    _check_signature(obj.allow, (0.0,), "allow(now)", name)
    if full:
        _check_signature(
            obj.record, (0.0, SUCCESS, 0.0, 0), "record(now, outcome, duration, generation)", name
        )
        _check_signature(obj.subscribe, (_noop_listener,), "subscribe(listener)", name)
        return obj  # type: ignore[no-any-return]
    _check_signature(obj.record, (0.0, SUCCESS, 0.0), "record(now, outcome, duration)", name)
    return TrackedBreaker(obj)


def _noop_listener(now: float, old: str, new: str) -> None:
    """A listener used only to test that ``subscribe`` accepts one argument."""


def _check_state(state: object, name: str) -> None:
    if state not in STATES:
        raise ValueError(f"breaker {name!r} reports state {state!r}; expected one of {STATES}")


def _check_signature(method: Any, args: tuple[Any, ...], shape: str, name: str) -> None:
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return  # some builtins have no signature: trust them
    try:
        signature.bind(*args)
    except TypeError as exc:
        raise ValueError(
            f"breaker {name!r}: {method.__name__}{signature} does not accept {shape}: {exc}"
        ) from None


class TrackedBreaker:
    """Adds ``generation``, ``trips`` and transition events to an allow/record/state breaker.

    ``state`` is read before and after every ``allow`` and ``record``; each change bumps
    ``generation``, counts a trip if the new state is ``"open"`` and calls the listeners with
    ``(now, old, new)``. Several changes inside one call show as one event. A result whose
    ``generation`` is stale is not passed on: the engine's rule that a call permitted under an
    earlier state must not change the new one. Other attributes are read from the wrapped
    object.
    """

    def __init__(self, inner: Any, listeners: Iterable[TransitionListener] = ()) -> None:
        self.inner = inner
        self.generation = 0
        self.trips = 0
        self._listeners = list(listeners)
        self._last: str = inner.state
        _check_state(self._last, type(inner).__name__)

    @property
    def state(self) -> str:
        """The wrapped breaker's state, read live."""
        return str(self.inner.state)

    def allow(self, now: float) -> bool:
        """Ask the wrapped breaker, reporting any state change it makes."""
        self._observe(now)
        allowed = bool(self.inner.allow(now))
        self._observe(now)
        return allowed

    def record(
        self, now: float, outcome: str, duration: float = 0.0, generation: int | None = None
    ) -> None:
        """Pass a result on unless it belongs to an earlier generation, reporting changes."""
        self._observe(now)
        if generation is not None and generation != self.generation:
            return
        self.inner.record(now, outcome, duration)
        self._observe(now)

    def subscribe(self, listener: TransitionListener) -> None:
        """Call ``listener(now, old_state, new_state)`` on every observed transition."""
        self._listeners.append(listener)

    def _observe(self, now: float) -> None:
        state = self.inner.state
        old = self._last
        if state == old:
            return
        _check_state(state, type(self.inner).__name__)
        self._last = state
        self.generation += 1
        if state == OPEN:
            self.trips += 1
        for listener in self._listeners:
            listener(now, old, state)

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not yet set (copy, pickle): avoid recursing
            raise AttributeError(name)
        return getattr(self.inner, name)


# --------------------------------------------------------------------------- pybreaker clock


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


# --------------------------------------------------------------------------- pybreaker adapter


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
            if outcome in SUCCESS_OUTCOMES:
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
