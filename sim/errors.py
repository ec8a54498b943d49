"""Errors users can act on. The CLI maps each class to an exit code."""

from __future__ import annotations

from pathlib import Path


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
        where = self.file or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class ConfigErrors(ConfigError):
    """Several problems in one file, reported together so the user fixes them in one pass."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, file=first.file, line=first.line, path=first.path)

    def render(self) -> str:
        return "\n".join(e.render() for e in getattr(self, "errors", [])) or super().render()


class InvariantError(BreakerlabError):
    """A run broke one of its own invariants: a bug in the engine, never the user's fault."""

    exit_code = 3
