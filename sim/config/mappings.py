"""Nested mappings laid one over another, as YAML overrides and scenario blocks over an
imported production configuration both mean it."""

from __future__ import annotations

from typing import Any


def laid_over(base: Any, over: dict[str, Any]) -> Any:
    """``over`` laid over ``base`` mapping by mapping: a key's mapping merges into the same
    key's mapping of ``base`` (one changed setting keeps the rest); lists and values
    replace. A ``base`` that is not a mapping is replaced whole."""
    if not isinstance(base, dict):
        return over
    merged = dict(base)
    for key, value in over.items():
        current = merged.get(key)
        merged[key] = laid_over(current, value) if isinstance(value, dict) else value
    return merged
