"""YAML in with line numbers, bounded before anything is built: a file size limit, a
nesting depth limit and a limit on nodes once aliases are expanded, so a billion-laughs
file, a recursive alias or ten thousand ``[`` is refused in one line instead of filling
memory or the stack. Only regular files are read (never a device, a FIFO or a socket).

``safe_load`` semantics for the data; the composed node tree gives the line of every key,
so any error can point at file, line and field path.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ConfigError, quote

Loc = tuple[str | int, ...]

MAX_BYTES = 4 * 1024 * 1024  # an input file (hand-written: a few kB)
MAX_DEPTH = 64  # nesting, aliases followed
MAX_NODES = 250_000  # values once aliases are expanded (an empirical list of 200k samples fits)
_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
}


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

    def matched(self, loc: tuple[Any, ...]) -> Loc:
        """The longest prefix of ``loc`` (skipping elements it lacks) this file holds."""
        found: Loc = ()
        for element in loc:
            if (*found, element) in self.lines:
                found = (*found, element)
        return found

    def error(self, message: str, loc: tuple[Any, ...]) -> ConfigError:
        line, path = self.locate(loc)
        return ConfigError(message, file=self.file, line=line, path=path)


def format_path(loc: list[str | int] | tuple[str | int, ...]) -> str:
    """``faults[0].target`` from ``('faults', 0, 'target')``; a key that is not a plain
    name is shown as a short quoted fragment."""
    out = ""
    for element in loc:
        if isinstance(element, int):
            out += f"[{element}]"
            continue
        name = element if _plain(element) else quote(element, 24)
        out += f".{name}" if out else name
    return out


def _plain(key: str) -> bool:
    """Shown as written: short, printable ASCII, no spaces or quotes."""
    return 0 < len(key) <= 64 and key.isascii() and key.isprintable() and not set(key) & set(" '\"")


def read_input(path: Path, kind: str = "file", limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, or a ConfigError
    naming it (``kind``: what it is) that says why not."""
    raw = read_bytes(path, kind, limit)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"cannot read {kind}: not UTF-8 text (byte {exc.start + 1} cannot be decoded)",
            file=str(path),
        ) from None


def read_bytes(path: Path, kind: str = "file", limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. A device, FIFO, socket or
    directory is refused without being read (a FIFO is opened non-blocking, so a pipe with
    no writer never hangs the caller); so is a larger file, or a symlink loop."""
    file = str(path)
    try:
        _regular(os.stat(path).st_mode, kind, file)
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ConfigError(f"{kind} not found", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {kind}: {exc.strerror or exc}", file=file) from None
    try:
        info = os.fstat(handle)
        _regular(info.st_mode, kind, file)  # it may have been replaced since the stat
        if info.st_size > limit:
            raise ConfigError(_too_large(kind, info.st_size, limit), file=file)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(handle, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ConfigError(_too_large(kind, size, limit), file=file)
        return b"".join(chunks)
    except OSError as exc:
        raise ConfigError(f"cannot read {kind}: {exc.strerror or exc}", file=file) from None
    finally:
        os.close(handle)


def _regular(mode: int, kind: str, file: str) -> None:
    if not stat.S_ISREG(mode):
        what = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise ConfigError(f"cannot read {kind}: it is {what}, not a regular file", file=file)


def _too_large(kind: str, size: int, limit: int) -> str:
    return f"cannot read {kind}: too large, {size:,} bytes (at most {limit:,})"


def load_yaml(path: Path, kind: str = "file") -> tuple[Any, LineMap]:
    """Parse ``path`` (``kind``: what it is, for messages) with the safe loader, within
    the limits above; refuse duplicate keys, which YAML would hide."""
    documents, lines = _load(path, kind, stream=False)
    return documents[0], lines


def load_yaml_stream(path: Path, kind: str = "file") -> tuple[list[Any], LineMap]:
    """Every document of a YAML stream (``---``, as Kubernetes manifests come), within the
    same limits; each key's line is under its document's index."""
    return _load(path, kind, stream=True)


def _load(path: Path, kind: str, *, stream: bool) -> tuple[list[Any], LineMap]:
    file = str(path)
    text = read_input(path, kind)
    try:
        loader = _BoundedLoader(text, file)
    except yaml.reader.ReaderError as exc:  # the reader checks every character at once
        at = text.count("\n", 0, max(exc.position, 0)) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        raise ConfigError(
            f"malformed YAML: character #x{code:04x} is not allowed in YAML", file=file, line=at
        ) from None
    lines: dict[Loc, int] = {(): 1} if stream else {}
    documents: list[Any] = []
    try:
        nodes = _nodes(loader) if stream else [loader.get_single_node()]
        values = 0
        for node in nodes:
            if node is None:
                documents.append(None)
                continue
            values += _check_size(node, file, MAX_NODES - values)
            loc: Loc = (len(documents),) if stream else ()
            _walk(node, loc, lines, file)  # before constructing: merge keys rewrite the tree
            documents.append(loader.construct_document(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"malformed YAML: {problem}", file=file, line=line) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # e.g. an integer of more digits than Python converts
        raise ConfigError(f"malformed YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    return documents, LineMap(file, lines)


def _nodes(loader: yaml.SafeLoader) -> Any:
    """The composed document nodes of a stream, one at a time."""
    while loader.check_node():
        yield loader.get_node()


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than ``MAX_DEPTH`` while it composes (the
    composer recurses once per level, so ten thousand ``[`` would exhaust the stack)."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self._file = file
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ConfigError(
                    f"nested more than {MAX_DEPTH} levels deep", file=self._file, line=mark.line + 1
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _check_size(root: yaml.Node, file: str, allowed: int = MAX_NODES) -> int:
    """Refuse a tree that, aliases expanded, holds more than ``MAX_NODES`` values or nests
    deeper than ``MAX_DEPTH``, or an alias inside the node it names (a recursive
    structure). Each node is measured once, so a billion laughs costs a few steps."""
    measured: dict[int, tuple[int, int]] = {}  # id -> (values, height)
    open_nodes: set[int] = set()

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in open_nodes:
            raise ConfigError(
                "an alias refers to a node that contains it (a recursive structure)",
                file=file,
                line=node.start_mark.line + 1,
            )
        known = measured.get(key)
        if known is None:
            open_nodes.add(key)
            values, height = 1, 0
            children: list[yaml.Node] = []
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            for child in children:
                child_values, child_height = measure(child, depth + 1)
                values = min(values + child_values, MAX_NODES + 1)
                height = max(height, child_height + 1)
            open_nodes.discard(key)
            known = measured[key] = (values, height)
        if depth + known[1] > MAX_DEPTH:
            raise ConfigError(
                f"nested more than {MAX_DEPTH} levels deep once aliases are expanded",
                file=file,
                line=node.start_mark.line + 1,
            )
        return known

    values, _ = measure(root, 1)
    if values > allowed:
        raise ConfigError(
            f"more than {MAX_NODES:,} values once aliases are expanded "
            "(an alias bomb?); write the data out instead",
            file=file,
        )
    return values


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], file: str) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise ConfigError(
                    f"duplicate key {quote(key)}",
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
