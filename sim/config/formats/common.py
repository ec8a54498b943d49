"""What every production format shares: the source read with its lines, keys matched in
the format's own spelling (with a "did you mean" in that spelling), the keys breakerlab
does not simulate collected rather than dropped, and durations written back with units.

A format's importer turns its file into breakerlab stage blocks (plain dicts in
breakerlab's vocabulary, checked by ``StagePolicy``); its exporter turns a configuration's
stages back into the format, listing loudly what the format cannot say.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.config.yamlio import LineMap, format_path
from sim.errors import ConfigError
from sim.units import parse_duration

Block = dict[str, Any]  # one stage's settings in breakerlab's vocabulary
STAGES = ("inventory", "payment", "order_record", "fulfillment", "notification")
LAYERS = ("timeout", "retry", "breaker", "bulkhead", "rate_limiter", "hedging")


@dataclass
class Imported:
    """A production file read: one breakerlab stage block per instance (service, command,
    cluster...), the source's keys breakerlab does not simulate, and notes on what it
    approximates or on values that are legal but probably not meant."""

    format: str
    file: str
    blocks: dict[str, Block] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    instances: set[str] = field(default_factory=set)  # every instance the file holds

    def choose(
        self, source: Source, names: list[str], instance: str | None, loc: tuple[str | int, ...]
    ) -> list[str]:
        """Record ``names`` as the file's instances and return those to import: all, or
        ``instance`` alone (a "did you mean" when the file has no such instance)."""
        self.instances = set(names)
        if instance is None:
            return names
        if instance not in names:
            raise unknown_instance(source, instance, names, loc)
        return [instance]


@dataclass
class Exported:
    """A configuration in a production format: the text to paste, and what the format
    cannot express (left out, each named)."""

    format: str
    text: str
    unexpressed: list[str] = field(default_factory=list)  # "path: why", loud
    notes: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # the dotted paths left out


class Source:
    """A parsed production file: its data and where each key was written."""

    def __init__(self, data: Any, lines: LineMap, fmt: str) -> None:
        self.data = data
        self.lines = lines
        self.format = fmt
        self.file = lines.file

    def error(self, message: str, loc: Iterable[str | int]) -> ConfigError:
        return self.lines.error(message, tuple(loc))

    def where(self, loc: Iterable[str | int]) -> str:
        """``path (line N)`` for a note: the whole path, the line of its nearest key."""
        loc = tuple(loc)
        line, _ = self.lines.locate(loc)
        return f"{format_path(loc)} (line {line})"


def squash(key: str) -> str:
    """A key as Spring Boot's relaxed binding compares it: ``failure-rate-threshold``,
    ``failureRateThreshold`` and ``failure_rate_threshold`` are one key."""
    return key.replace("-", "").replace("_", "").lower()


def match_keys(
    source: Source,
    mapping: Mapping[str, Any],
    loc: tuple[str | int, ...],
    known: Iterable[str],
    not_simulated: Iterable[str] = (),
    *,
    relaxed: bool = False,
    lenient: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """The keys of ``mapping`` in their canonical spelling (``known``), and the paths of
    the keys breakerlab does not simulate (``not_simulated``, listed not dropped). An
    unknown key is a ConfigError with the nearest known name, in the format's spelling;
    ``lenient`` (a block inside a larger document: a cluster, a route) lists unknown keys
    as not simulated unless they are near a known one (a typo)."""
    names = list(known)
    skipped = list(not_simulated)
    norm = squash if relaxed else (lambda key: key)
    by_norm = {norm(name): name for name in [*names, *skipped]}
    found: dict[str, Any] = {}
    ignored: list[str] = []
    if not isinstance(mapping, Mapping):
        raise source.error(f"expected a mapping of settings, got {type(mapping).__name__}", loc)
    for key, value in mapping.items():
        name = by_norm.get(norm(str(key)))
        if name is None:
            cutoff = 0.8 if lenient else 0.6
            hint = difflib.get_close_matches(str(key), [*names, *skipped], n=1, cutoff=cutoff)
            if lenient and not hint:
                ignored.append(source.where((*loc, key)))  # the rest of a larger document
                continue
            suffix = f"; did you mean {hint[0]!r}?" if hint else ""
            raise source.error(f"unknown {source.format} setting {key!r}{suffix}", (*loc, key))
        if name in skipped:
            ignored.append(source.where((*loc, key)))
        else:
            found[name] = value
    return found, ignored


def seconds(source: Source, value: Any, loc: tuple[str | int, ...], bare: str = "s") -> float:
    """A duration as the format writes it: a bare number in ``bare`` units ("ms" or "s"),
    a string with a unit (``30s``, ``500ms``), or ISO-8601 (``PT30S``, as Spring reads)."""
    try:
        if isinstance(value, bool):
            raise ValueError(f"expected a duration, got {value!r}")
        if isinstance(value, int | float):
            return float(value) / (1000.0 if bare == "ms" else 1.0)
        text = str(value).strip()
        if text.upper().startswith("PT"):
            return _iso8601(text)
        try:
            return float(text) / (1000.0 if bare == "ms" else 1.0)
        except ValueError:
            pass
        if text.lower().endswith("ns") and text[:-2].strip().isdigit():
            return int(text[:-2]) / 1e9  # Spring's nanoseconds
        return parse_duration(text)
    except ValueError as exc:
        raise source.error(str(exc), loc) from None


def _iso8601(text: str) -> float:
    """``PT1H2M3.5S`` in seconds (the time part of a java.time.Duration)."""
    rest = text.upper().removeprefix("PT")
    total = 0.0
    number = ""
    units = {"H": 3600.0, "M": 60.0, "S": 1.0}
    for char in rest:
        if char in units and number:
            total += float(number) * units[char]
            number = ""
        elif char.isdigit() or char in ".-":
            number += char
        else:
            raise ValueError(f"expected an ISO-8601 duration like PT30S, got {text!r}")
    if number:
        raise ValueError(f"expected an ISO-8601 duration like PT30S, got {text!r}")
    return total


def duration_text(value: float) -> str:
    """A duration with the largest unit that writes it exactly (``30s``, ``500ms``, ``2m``);
    otherwise its exact decimal in seconds, so reading it back gives the same float."""
    if value == 0:
        return "0s"
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 0.001), ("us", 1e-6)):
        count = value / size
        if count >= 1 and count == round(count) and round(count) * size == value:
            return f"{round(count)}{unit}"
    return f"{value!r}s"


def spring_duration(value: float) -> str:
    """A duration as Spring Boot's simple format writes it: a whole number and a unit."""
    if value == 0:
        return "0ms"
    for unit, size in (
        ("d", 86400.0),
        ("h", 3600.0),
        ("m", 60.0),
        ("s", 1.0),
        ("ms", 1e-3),
        ("us", 1e-6),
    ):
        count = value / size
        if count == round(count) and round(count) * size == value:
            return f"{round(count)}{unit}"
    return f"{round(value * 1e9)}ns"


def proto_duration(value: float) -> str:
    """A protobuf Duration as Envoy and Istio write it: ``2s``, ``0.25s``."""
    return f"{number(value)}s"


def millis(value: float) -> int | float:
    """Seconds as a millisecond count, whole where it is whole."""
    ms = round(value * 1000, 6)
    return int(ms) if ms == int(ms) else ms


def number(value: float) -> int | float:
    """``3.0`` as ``3``: files read better without a trailing ``.0``."""
    return int(value) if math.isfinite(value) and value == int(value) else value


def percent_text(fraction: float) -> str:
    """A fraction as a breakerlab percentage string, exact when read back."""
    pct = round(fraction * 100, 9)
    return f"{number(pct)}%"


def unknown_instance(
    source: Source, name: str, known: list[str], loc: tuple[str | int, ...]
) -> ConfigError:
    hint = difflib.get_close_matches(name, known, n=1)
    suffix = f"; did you mean {hint[0]!r}?" if hint else ""
    listed = ", ".join(known) or "none"
    return source.error(f"no instance {name!r} in the file{suffix} (instances: {listed})", loc)


def timespan(source: Source, value: Any, loc: tuple[str | int, ...]) -> float:
    """A .NET TimeSpan as configuration binds it: ``[-][d.]hh:mm:ss[.fffffff]`` in seconds."""
    text = str(value).strip()
    try:
        days = 0.0
        first, colon, rest = text.partition(":")
        if "." in first:  # d.hh
            day_text, _, first = first.partition(".")
            days = float(day_text)
        parts = (first + colon + rest).split(":")
        if len(parts) != 3:
            raise ValueError
        hours, minutes, secs = float(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        raise source.error(
            f'expected a TimeSpan like "00:00:30" or "1.02:03:04.5", got {value!r}', loc
        ) from None
    return days * 86400 + hours * 3600 + minutes * 60 + secs


def timespan_text(value: float) -> str:
    """Seconds as a TimeSpan string, to the 100 ns tick."""
    ticks = round(value * 10_000_000)
    days, rest = divmod(ticks, 86400 * 10_000_000)
    hours, rest = divmod(rest, 3600 * 10_000_000)
    minutes, rest = divmod(rest, 60 * 10_000_000)
    secs, fraction = divmod(rest, 10_000_000)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if fraction:
        text += f".{fraction:07d}".rstrip("0")
    return f"{days}.{text}" if days else text
