"""YAML in with line numbers: ``safe_load`` for the data, the composed node tree for the
line of every key, so any error can point at file, line and field path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ConfigError

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class LineMap:
    """Line (1-based) of each field path in one YAML file."""

    file: str
    lines: dict[Loc, int]

    def locate(self, loc: tuple[Any, ...]) -> tuple[int | None, str]:
        """Line and dotted path for a pydantic-style location.

        Elements the YAML does not contain (union tags, validator names) are skipped; a
        trailing missing field name is kept so "field required" names the field.
        """
        matched: Loc = ()
        shown: list[str | int] = []
        for element in loc:
            candidate = (*matched, element)
            if candidate in self.lines:
                matched = candidate
                shown.append(element)
        if loc and loc[-1] not in shown and isinstance(loc[-1], str) and loc[-1].isidentifier():
            shown.append(loc[-1])
        return self.lines.get(matched, self.lines.get((), 1)), format_path(shown)

    def error(self, message: str, loc: tuple[Any, ...]) -> ConfigError:
        line, path = self.locate(loc)
        return ConfigError(message, file=self.file, line=line, path=path)


def format_path(loc: list[str | int] | tuple[str | int, ...]) -> str:
    """``faults[0].target`` from ``('faults', 0, 'target')``."""
    out = ""
    for element in loc:
        out += f"[{element}]" if isinstance(element, int) else (f".{element}" if out else element)
    return out


def read_input(path: Path, kind: str = "file") -> str:
    """The text of an input file, or a ConfigError naming it (``kind``: what it is)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{kind} not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {kind}: {exc}", file=str(path)) from None


def load_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse ``path`` with the safe loader; refuse duplicate keys, which YAML would hide."""
    file = str(path)
    text = read_input(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"malformed YAML: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"malformed YAML: {exc}", file=file) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines, file)
    return data, LineMap(file, lines)


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], file: str) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise ConfigError(
                    f"duplicate key {key!r}",
                    file=file,
                    line=key_node.start_mark.line + 1,
                    path=format_path((*loc, key)),
                )
            seen.add(key)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*loc, key), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _walk(item, (*loc, index), lines, file)
