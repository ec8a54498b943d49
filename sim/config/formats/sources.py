"""Reading production files with a line for every key: YAML and JSON through the project's
line-aware loader, Java ``.properties`` (Spring Boot, Hystrix) into the same nested
mapping, so every format reports ``file:line: path: message``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sim.config.formats.common import Source
from sim.config.yamlio import LineMap, Loc, load_yaml, load_yaml_stream, read_input
from sim.errors import ConfigError

_INDEX = re.compile(r"^(.*?)\[(\d+)\]$")


def read_source(path: Path, fmt: str) -> Source:
    """``path`` parsed by its suffix: ``.properties``, ``.json`` or YAML (JSON is YAML)."""
    if path.suffix.lower() == ".properties":
        data, lines = read_properties(path)
    elif path.suffix.lower() == ".json":
        data, lines = _read_json(path)
    else:
        data, lines = load_yaml(path)
    return Source(data, lines, fmt)


def _read_json(path: Path) -> tuple[Any, LineMap]:
    """JSON through the YAML loader (a JSON document is YAML) for its line map; a file
    YAML cannot read is reported with json's own message and position."""
    try:
        return load_yaml(path)
    except ConfigError:
        text = read_input(path)
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"malformed JSON: {exc.msg}", file=str(path), line=exc.lineno
            ) from None
        raise


def read_properties(path: Path) -> tuple[dict[str, Any], LineMap]:
    """A ``.properties`` file as nested mappings (``a.b[0]=x`` -> ``{a: {b: [x]}}``), values
    as strings (a comma-separated value stays one string: the format decides)."""
    text = read_input(path)
    data: dict[str, Any] = {}
    lines: dict[Loc, int] = {(): 1}
    logical = _logical_lines(text)
    for number, line in logical:
        key, value = _split(line)
        loc: list[str | int] = []
        for part in key.split("."):
            match = _INDEX.match(part)
            if match:
                loc += [match.group(1), int(match.group(2))]
            else:
                loc.append(part)
        _put(data, loc, value, path, number)
        for depth in range(1, len(loc) + 1):
            lines.setdefault(tuple(loc[:depth]), number)
    return data, LineMap(str(path), lines)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of each setting: comments and blanks skipped, a trailing
    backslash continuing the line."""
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip() if not pending else raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        if not pending:
            start = number
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending += line[:-1]
            continue
        out.append((start, pending + line))
        pending = ""
    if pending:
        out.append((start, pending))
    return out


def _split(line: str) -> tuple[str, str]:
    """key and value at the first unescaped ``=`` or ``:`` (or whitespace)."""
    for index, char in enumerate(line):
        if char in "=:" and (index == 0 or line[index - 1] != "\\"):
            return line[:index].strip(), line[index + 1 :].strip()
        if char.isspace():
            rest = line[index:].lstrip()
            if rest[:1] in ("=", ":"):
                rest = rest[1:]
            return line[:index].strip(), rest.strip()
    return line.strip(), ""


def _put(data: dict[str, Any], loc: list[str | int], value: str, path: Path, line: int) -> None:
    node: Any = data
    for here, following in zip(loc, [*loc[1:], None], strict=True):
        if following is None:
            _assign(node, here, value, path, line, loc)
            return
        child = node.get(here) if isinstance(node, dict) else _item(node, here)
        if child is None:
            child = [] if isinstance(following, int) else {}
            _assign(node, here, child, path, line, loc)
        elif not isinstance(child, dict | list):
            where = ".".join(str(p) for p in loc)
            raise ConfigError(
                f"{where}: a value and a group of settings at once", file=str(path), line=line
            )
        node = child


def _item(node: list[Any], index: str | int) -> Any:
    if isinstance(index, int) and index < len(node):
        return node[index]
    return None


def _assign(
    node: Any, key: str | int, value: Any, path: Path, line: int, loc: list[str | int]
) -> None:
    if isinstance(node, dict):
        node[key] = value
        return
    if not isinstance(key, int):
        raise ConfigError(
            f"{'.'.join(map(str, loc))}: mixes a list and names", file=str(path), line=line
        )
    while len(node) <= key:
        node.append(None)
    node[key] = value


def read_documents(path: Path, fmt: str) -> Source:
    """A YAML stream of one or more documents (``---``), as Kubernetes manifests come: the
    data is the list of documents, each key's line under its document's index (read within
    the limits every input YAML has: sim.config.yamlio)."""
    documents, lines = load_yaml_stream(path)
    return Source(documents, lines, fmt)


def read_text(path: Path, fmt: str) -> Source:
    """A file read as text (Python for pybreaker), with no line map of keys."""
    return Source(read_input(path), LineMap(str(path), {(): 1}), fmt)
