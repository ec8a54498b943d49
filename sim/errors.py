"""Errors users can act on. The CLI maps each class to an exit code.

Every message passes through :func:`sanitise` when rendered: whatever a message quotes
from an input (a key, a value, a line of a file that was never meant to be one) is shown
as a short fragment with control characters escaped, so an error can never copy a file
into a terminal or a CI log.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FRAGMENT = 40  # characters of a quoted key or value shown in a message
MESSAGE = 400  # characters of one message at most
SHOWN = 5  # problems listed before "and N more"

# A quoted fragment as repr() writes one, opening after a non-word character (so the
# apostrophe of "scenario's" never opens one).
_QUOTED = re.compile(r"""(?<!\w)(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")(?!\w)""")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def _shorten(match: re.Match[str]) -> str:
    text = match.group()
    if len(text) <= FRAGMENT + 2:
        return text
    return text[: FRAGMENT - 1] + "…" + text[0]


def sanitise(text: str, limit: int = MESSAGE) -> str:
    """``text`` with control (and bidirectional) characters escaped, quoted fragments
    cut to ``FRAGMENT`` characters, and at most ``limit`` characters in all."""
    text = _QUOTED.sub(_shorten, _CONTROL.sub(_escape, text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: Any, limit: int = FRAGMENT) -> str:
    """A key or value as a short, safe, quoted fragment for a message: ``'prim…'``."""
    shown = repr(value) if isinstance(value, str) else repr(str(value))
    shown = _CONTROL.sub(_escape, shown)
    return shown if len(shown) <= limit + 2 else shown[: limit - 1] + "…" + shown[0]


class BreakerlabError(Exception):
    """Base class of every error breakerlab reports without a traceback."""

    exit_code = 3


class ConfigError(BreakerlabError):
    """Bad input: names the file, the line and the field path so the user can fix it."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        path: str = "",
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.path = path
        super().__init__(self.render())

    def render(self) -> str:
        """``file:line: path: message``; without a file (a command-line option), just
        ``path: message``."""
        where = sanitise(self.file) if self.file else ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        field = sanitise(self.path, 120) if self.path else ""
        head = ": ".join(part for part in (where, field) if part)
        message = sanitise(self.message)
        return f"{head}: {message}" if head else message


class ConfigErrors(ConfigError):
    """Several problems in one file, reported together so the user fixes them in one pass;
    the first ``SHOWN``, then how many more."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, file=first.file, line=first.line, path=first.path)

    def render(self) -> str:
        errors = getattr(self, "errors", [])
        if not errors:
            return super().render()
        lines = [e.render() for e in errors[:SHOWN]]
        if len(errors) > SHOWN:
            where = f"{sanitise(errors[0].file)}: " if errors[0].file else ""
            lines.append(f"{where}and {len(errors) - SHOWN} more problems")
        return "\n".join(lines)


class InvariantError(BreakerlabError):
    """A run broke one of its own invariants: a bug in the engine, never the user's fault."""

    exit_code = 3


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice a mistyped ``word`` most likely meant, or None: a near spelling
    (``primry``), the same letters in another case or punctuation (``No_Breaker``), or an
    abbreviation, the start of a single choice (``nob`` for ``no-breaker``)."""
    options = [str(c) for c in choices]
    near = difflib.get_close_matches(word, options, n=1)
    if near:
        return near[0]

    def folded(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    key = folded(word)
    same = [c for c in options if folded(c) == key]
    starts = [c for c in options if key and folded(c).startswith(key)]
    if same:
        return same[0]
    return starts[0] if len(starts) == 1 else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for ``closest``, or nothing."""
    hint = closest(word, choices)
    return f"; did you mean {hint!r}?" if hint else ""
