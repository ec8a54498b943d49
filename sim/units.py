"""Quantities as people type them: ``250ms``, ``30s``, ``10m``, ``2h``; ``400/s``; ``2%``.

Each parser returns plain floats in SI base units (seconds, events per second, fractions)
and raises ``ValueError`` with a message that says what was expected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_DURATION_UNITS = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_RATE_UNITS = {"s": 1.0, "sec": 1.0, "m": 1 / 60, "min": 1 / 60, "h": 1 / 3600, "d": 1 / 86400}


def _any_case(words: Iterable[str]) -> str:
    """An ECMAScript-safe alternation matching each word in any letter case (JSON Schema
    patterns have no case-insensitive flag; the parsers lower-case their input)."""
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(
        "".join(f"[{c}{c.upper()}]" if c.isalpha() and c.isascii() else c for c in word)
        for word in ordered
    )


# The same grammar as JSON Schema patterns, for editors (sim/config/fields.py).
_PATTERN_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
DURATION_PATTERN = (
    rf"^\s*(?:{_PATTERN_NUMBER}\s*|(?:{_PATTERN_NUMBER}\s*(?:{_any_case(_DURATION_UNITS)})\s*)+)$"
)
RATE_PATTERN = rf"^\s*{_PATTERN_NUMBER}\s*(?:/\s*(?:{_any_case(_RATE_UNITS)}))?\s*$"
FRACTION_PATTERN = rf"^\s*{_PATTERN_NUMBER}\s*%?\s*$"
_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*([a-zµ]+)\s*$")
_COMPOUND_RE = re.compile(rf"({_NUMBER})\s*([a-zµ]+)")
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*/\s*([a-z]+)\s*$")
_PERCENT_RE = re.compile(rf"^\s*({_NUMBER})\s*%\s*$")


def _finite(value: float, text: object) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _bare_number(text: str) -> float | None:
    """``text`` as a plain number, or None when it is not one (a unit follows, say)."""
    try:
        return float(text)
    except ValueError:
        return None


def parse_duration(value: object) -> float:
    """Seconds from ``250ms``, ``30s``, ``1m30s``, ``2h`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '250ms' or '30s', got {value!r}")
    if isinstance(value, int | float):
        return _finite(float(value), value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like '250ms' or '30s', got {value!r}")
    text = value.strip().lower()
    if "/" in text or "%" in text:
        raise ValueError(f"expected a duration like '250ms' or '30s', got {value!r}")
    bare = _bare_number(text)
    if bare is not None:
        return _finite(bare, value)
    parts = _COMPOUND_RE.findall(text)
    if not parts or _COMPOUND_RE.sub("", text).strip():
        raise ValueError(f"expected a duration like '250ms', '30s', '10m' or '2h', got {value!r}")
    total = 0.0
    for number, unit in parts:
        if unit not in _DURATION_UNITS:
            known = ", ".join(sorted(_DURATION_UNITS))
            raise ValueError(f"unknown duration unit {unit!r} in {value!r} (use one of {known})")
        total += float(number) * _DURATION_UNITS[unit]
    return _finite(total, value)


def parse_rate(value: object) -> float:
    """Events per second from ``400/s``, ``1200/min``, ``50/h`` or a bare number per second."""
    if isinstance(value, bool):
        raise ValueError(f"expected a rate like '40/s' or '1200/min', got {value!r}")
    if isinstance(value, int | float):
        return _finite(float(value), value)
    if not isinstance(value, str):
        raise ValueError(f"expected a rate like '40/s' or '1200/min', got {value!r}")
    text = value.strip().lower()
    bare = _bare_number(text)
    if bare is not None:
        return _finite(bare, value)
    match = _RATE_RE.match(text)
    if not match:
        raise ValueError(f"expected a rate like '40/s', '1200/min' or '50/h', got {value!r}")
    number, unit = match.groups()
    if unit not in _RATE_UNITS:
        raise ValueError(f"unknown rate unit '/{unit}' in {value!r} (use /s, /min, /h or /d)")
    return _finite(float(number) * _RATE_UNITS[unit], value)


def parse_fraction(value: object) -> float:
    """A share in [0, 1] from ``2%`` or a bare fraction such as ``0.02``.

    A bare number above 1 is refused rather than guessed: ``50`` could mean 50 % or 5000 %.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage like '2%' or a fraction like 0.02, got {value!r}")
    if isinstance(value, int | float):
        fraction = float(value)
        if fraction > 1:
            raise ValueError(f"{value!r} is above 1: write '{value}%' for a percentage")
    elif isinstance(value, str):
        text = value.strip()
        match = _PERCENT_RE.match(text)
        if match:
            fraction = float(match.group(1)) / 100
        else:
            try:
                fraction = float(text)
            except ValueError:
                raise ValueError(
                    f"expected a percentage like '2%' or a fraction like 0.02, got {value!r}"
                ) from None
            if fraction > 1:
                raise ValueError(f"{value!r} is above 1: write '{text}%' for a percentage")
    else:
        raise ValueError(f"expected a percentage like '2%' or a fraction like 0.02, got {value!r}")
    _finite(fraction, value)
    if not 0 <= fraction <= 1:
        raise ValueError(f"{value!r} is outside 0%..100%")
    return fraction


def format_duration(seconds: float) -> str:
    """Shortest readable form of a duration, for tables and plot labels."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    if seconds >= 1:
        return f"{seconds:g}s"
    return f"{seconds * 1000:g}ms"
