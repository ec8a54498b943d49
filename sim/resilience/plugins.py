"""Bring your own breaker: load any breaker class by path (the real pybreaker runs through
``sim.resilience.pybreaker_adapter:PybreakerAdapter``).

``load_breaker("package.module:ClassName", args)`` imports a class, checks that it is one
with the breaker protocol's methods, instantiates it with ``**args`` and checks the
protocol the engine drives (``allow(now)``, ``record(now, outcome, duration, generation)``,
``state``). An object with only ``allow``, ``record`` and ``state`` is wrapped in
:class:`TrackedBreaker`, which adds ``generation``, ``trips`` and ``subscribe`` by watching
``state`` around every call.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sim.errors import ConfigError
from sim.resilience.breaker import OPEN, STATES, SUCCESS
from sim.resilience.protocol import TransitionListener, WatchedBreaker

__all__ = [
    "BreakerClassError",
    "TrackedBreaker",
    "as_breaker",
    "breaker_class",
    "load_breaker",
]

_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class BreakerClassError(ConfigError, ValueError):
    """A ``class:`` that names no usable breaker: the user's mistake (exit 2), never a bug;
    a ValueError too, for callers of the library API."""


def load_breaker(class_path: str, args: Mapping[str, Any] | None = None) -> WatchedBreaker:
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


def as_breaker(obj: Any, *, where: str = "") -> WatchedBreaker:
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
