"""Pydantic's validation errors as one line each, in the user's words, at the line of the
YAML they are about: unknown fields with a "did you mean", missing fields, unknown tags."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sim.config.yamlio import LineMap
from sim.errors import ConfigError, ConfigErrors, quote

M = TypeVar("M", bound=BaseModel)


def validate(cls: type[M], data: Any, lines: LineMap) -> M:
    """``data`` as a ``cls``, or every problem as a ConfigError at its line (one error, or
    ConfigErrors holding them all)."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ConfigError(
            f"expected a mapping of fields at the top level, got {kind}", file=lines.file, line=1
        )
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raw = exc.errors(include_url=False)
    found: list[tuple[tuple[Any, ...], str]] = []
    for err in raw:
        loc = tuple(err["loc"])
        if err["type"] in ("union_tag_invalid", "union_tag_not_found") and (key := _tag_key(err)):
            loc = (*loc, key)
        found.append((loc, message_of(err, loc, cls)))
    # A misspelt required key gives "unknown 'horizn'" and "missing 'horizon'": keep the first.
    suggested = {
        (*loc[:-1], message.split("did you mean '")[1].split("'")[0])
        for loc, message in found
        if "did you mean '" in message
    }
    errors = [
        lines.error(message, loc)
        for loc, message in found
        if not (message == "required field is missing" and loc in suggested)
    ]
    raise_all(errors)
    raise AssertionError("unreachable")


def message_of(err: Any, loc: tuple[Any, ...], cls: type[BaseModel]) -> str:
    """One pydantic error in the user's words: an unknown field with the nearest known one,
    a missing field, an unknown tag (a fault's kind) with the known ones."""
    kind = err["type"]
    if kind == "extra_forbidden" and loc:
        known = fields_at(cls, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if hint:
            return f"unknown field {quote(loc[-1])}; did you mean {hint[0]!r}?"
        return f"unknown field {quote(loc[-1])}" + (f"; known: {', '.join(known)}" if known else "")
    if kind == "union_tag_not_found" and not isinstance(err.get("input"), dict):
        return f"expected a mapping, got {_kind_of(err.get('input'))}"
    if kind in ("missing", "union_tag_not_found"):
        return "required field is missing"
    if kind == "union_tag_invalid":
        expected = [t.strip(" '") for t in str(err["ctx"]["expected_tags"]).split(",")]
        return unknown(str(loc[-1]), str(err["ctx"]["tag"]), expected)
    if kind == "string_pattern_mismatch" and loc and loc[0] == "dependencies":
        return "a dependency's name may hold letters, digits, '_', '.' and '-' only"
    return str(err["msg"]).removeprefix("Value error, ")


def _tag_key(err: Any) -> str | None:
    """The key holding a tagged union's tag: the discriminator's field name, or for a
    callable discriminator (a breaker's ``preset``) the key whose value is the tag; none
    when the value is not a mapping at all."""
    given = err.get("input")
    if not isinstance(given, dict):
        return None
    discriminator = str(err["ctx"].get("discriminator", "")).strip("'")
    if not discriminator.endswith("()"):
        return discriminator
    tag = err["ctx"].get("tag")
    for key, value in given.items():
        if isinstance(key, str) and value == tag:
            return key
    return "preset"


def _kind_of(value: Any) -> str:
    """What a YAML value is, in YAML's words."""
    names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}
    if value is None:
        return "nothing (null)"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def fields_at(cls: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model reached by ``loc``, for "did you mean" hints.

    Inside a tagged union, pydantic puts the tag (a fault's kind) in the location: it picks
    the member whose ``kind`` is that tag.
    """
    candidates: list[type[BaseModel]] = [cls]
    for element in loc:
        if isinstance(element, int):
            continue
        by_tag = [c for c in candidates if _tag_of(c) == element]
        if by_tag:
            candidates = by_tag
            continue
        following = [
            _models_in(c.model_fields[element].annotation)
            for c in candidates
            if element in c.model_fields
        ]
        if following:
            candidates = [m for group in following for m in group]
    return list(candidates[0].model_fields) if len(candidates) == 1 else []


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("kind") or model.model_fields.get("preset")
    args: tuple[Any, ...] = getattr(field.annotation, "__args__", ()) if field else ()
    return str(args[0]) if len(args) == 1 else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The BaseModels inside ``X | None``, ``list[X]``, ``dict[str, X]`` or a union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found += _models_in(arg)
    return found


def unknown(kind: str, name: str, known: Any) -> str:
    """``unknown gateway 'x'; did you mean 'y'? (known: ...)``."""
    names = sorted(known)
    hint = difflib.get_close_matches(name, names, n=1)
    suffix = f"; did you mean {quote(hint[0])}?" if hint else ""
    return f"unknown {kind} {quote(name)}{suffix} (known: {', '.join(names)})"


def raise_all(errors: list[ConfigError]) -> None:
    """Raise the one error, or all of them together; nothing when there is none."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)
