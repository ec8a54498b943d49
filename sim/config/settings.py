"""Configurations changed by dotted paths (``payment.breaker.failure_rate_threshold``):
the configuration is dumped, the keys set, and the result validated again, so units work
and a bad value is refused with the field's own message."""

from __future__ import annotations

from typing import Any

from sim.config.scenario import Configuration


def with_settings(base: Configuration, assignments: dict[str, Any]) -> Configuration:
    """``base`` with each dotted path set. Raises pydantic's ValidationError on bad values
    and ValueError when a path runs through a setting that is not a group."""
    data: dict[str, Any] = base.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for path, value in assignments.items():
        node = data
        keys = path.split(".")
        for key in keys[:-1]:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            elif not isinstance(child, dict):
                raise ValueError(f"{key!r} in {path!r} is not a group of settings")
            node = child
        node[keys[-1]] = value
    return Configuration.model_validate(data)
