"""The region of settings a decision allows: per parameter, the range in which every
evaluated setting is equivalent to the best, the answer a runbook wants when the landscape
is flat ("a threshold anywhere from 20 to 90 % does as well") rather than one point.

The region starts as the box around the equivalent settings and is shrunk until no
evaluated setting outside the equivalent set lies in it, each cut keeping as many
equivalent settings as it can. So every evaluated point inside the region is equivalent;
points between them were not evaluated, which the region's text says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

Bound = tuple[float, float] | tuple[Any, ...]


@dataclass(frozen=True)
class Region:
    """Per parameter: (low, high) for numbers, or the values allowed for others;
    ``members`` the equivalent candidates inside, ``left_out`` those a cut excluded."""

    bounds: dict[str, Bound]
    members: tuple[str, ...]
    left_out: tuple[str, ...]

    def as_dict(self) -> dict[str, list[Any]]:
        return {path: list(bound) for path, bound in self.bounds.items()}


def region(points: pd.DataFrame, params: Sequence[str], equivalent: Sequence[str]) -> Region:
    """``points``: one row per candidate (a ``candidate`` column and the parameters'
    values); ``equivalent``: the candidates equivalent to the best."""
    inside = points[points["candidate"].isin(list(equivalent))]
    outside = points[~points["candidate"].isin(list(equivalent))]
    if inside.empty:
        return Region({}, (), ())
    numeric = {p: pd.api.types.is_numeric_dtype(points[p]) for p in params}
    bounds: dict[str, Bound] = {p: _bound(inside[p], numeric[p]) for p in params}
    members = inside
    while not members.empty:
        caught = outside[_within(outside, bounds, numeric)]
        if caught.empty:
            break
        bounds, members = _best_cut(members, caught.iloc[0], bounds, numeric)
    left_out = sorted(set(inside["candidate"]) - set(members["candidate"]))
    return Region(bounds, tuple(members["candidate"]), tuple(left_out))


def _bound(values: pd.Series, numeric: bool) -> Bound:
    if numeric:
        return float(values.min()), float(values.max())
    return tuple(sorted(set(values), key=str))


def _within(frame: pd.DataFrame, bounds: dict[str, Bound], numeric: dict[str, bool]) -> pd.Series:
    """Rows of ``frame`` inside the box."""
    mask = pd.Series(True, index=frame.index)
    for path, bound in bounds.items():
        if numeric[path]:
            low, high = bound
            mask &= (frame[path] >= low) & (frame[path] <= high)
        else:
            mask &= frame[path].isin(list(bound))
    return mask


def _best_cut(
    members: pd.DataFrame, point: pd.Series, bounds: dict[str, Bound], numeric: dict[str, bool]
) -> tuple[dict[str, Bound], pd.DataFrame]:
    """The cut that excludes ``point`` while keeping the most members: raise a low end or
    lower a high end past it, or drop its value of a non-numeric parameter."""
    options = []
    for path, bound in bounds.items():
        value = point[path]
        if numeric[path]:
            above = members[members[path] > value]
            below = members[members[path] < value]
            if not above.empty:
                options.append((above, {**bounds, path: (float(above[path].min()), bound[1])}))
            if not below.empty:
                options.append((below, {**bounds, path: (bound[0], float(below[path].max()))}))
        else:
            rest = members[members[path] != value]
            if not rest.empty:
                kept = tuple(v for v in bound if v != value)
                options.append((rest, {**bounds, path: kept}))
    if not options:  # the point coincides with every member: nothing can separate them
        return {}, members.iloc[0:0]
    kept, cut = max(options, key=lambda option: len(option[0]))
    return cut, kept[_within(kept, cut, numeric)]
