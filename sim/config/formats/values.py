"""Values as production files write them: numbers and booleans that may arrive as strings
(``.properties`` has nothing else), lists written comma-separated, exception class names
standing for breakerlab's failure categories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.config.formats.common import Source

Loc = tuple[str | int, ...]
CATEGORIES = ("timeout", "connection", "server_error", "rejected")

# Exception types per failure category, the first of each written on export; any listed
# name (or its last dotted part) is understood on import.
JAVA_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "timeout": ("java.util.concurrent.TimeoutException", "java.net.SocketTimeoutException"),
    "connection": ("java.net.ConnectException", "java.io.IOException"),
    "server_error": (
        "org.springframework.web.client.HttpServerErrorException",
        "org.springframework.web.reactive.function.client.WebClientResponseException",
    ),
    "rejected": (
        "io.github.resilience4j.bulkhead.BulkheadFullException",
        "io.github.resilience4j.ratelimiter.RequestNotPermitted",
    ),
}
PYTHON_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "timeout": ("TimeoutError", "requests.exceptions.Timeout", "httpx.TimeoutException"),
    "connection": ("ConnectionError", "requests.exceptions.ConnectionError", "httpx.ConnectError"),
    "server_error": ("requests.exceptions.HTTPError", "httpx.HTTPStatusError"),
    "rejected": ("pybreaker.CircuitBreakerError",),
}


def integer(source: Source, value: Any, loc: Loc) -> int:
    if isinstance(value, bool):
        raise source.error(f"expected a whole number, got {value!r}", loc)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise source.error(f"expected a whole number, got {value!r}", loc) from None
    if number != int(number):
        raise source.error(f"expected a whole number, got {value!r}", loc)
    return int(number)


def real(source: Source, value: Any, loc: Loc) -> float:
    if isinstance(value, bool):
        raise source.error(f"expected a number, got {value!r}", loc)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise source.error(f"expected a number, got {value!r}", loc) from None


def boolean(source: Source, value: Any, loc: Loc) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise source.error(f"expected true or false, got {value!r}", loc)


def choice(source: Source, value: Any, loc: Loc, options: tuple[str, ...]) -> str:
    """One of ``options``, compared without case (Java enums bind so)."""
    text = str(value).strip()
    for option in options:
        if text.upper() == option.upper():
            return option
    raise source.error(f"expected one of {', '.join(options)}, got {value!r}", loc)


def items(value: Any) -> list[Any]:
    """A list, or a comma-separated string of items (``.properties``)."""
    if isinstance(value, list):
        return [v for v in value if v is not None]
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


def categories(
    source: Source,
    value: Any,
    loc: Loc,
    table: dict[str, tuple[str, ...]],
    ignored: list[str],
) -> list[str] | None:
    """The failure categories a list of exception types stands for; types with no
    category are listed in ``ignored``. None when no type was understood."""
    found: list[str] = []
    for index, name in enumerate(items(value)):
        text = str(name).strip()
        category = _category_of(text, table)
        if category is None:
            ignored.append(
                f"{source.where((*loc, index) if isinstance(value, list) else loc)}: {text} "
                "(no breakerlab failure category)"
            )
        elif category not in found:
            found.append(category)
    return found or None


def _category_of(name: str, table: dict[str, tuple[str, ...]]) -> str | None:
    if name in CATEGORIES:
        return name
    short = name.rsplit(".", 1)[-1]
    for category, names in table.items():
        if name in names or short in {n.rsplit(".", 1)[-1] for n in names}:
            return category
    return None


def exception_names(chosen: Sequence[str], table: dict[str, tuple[str, ...]]) -> list[str]:
    """The exception types written for failure categories."""
    return [table[category][0] for category in CATEGORIES if category in chosen]
