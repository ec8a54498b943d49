"""A decision over parameter settings (a sweep's points, a study's finalists) as the rows
its tables and plots draw: each setting's values, mean, difference with the base and its
simultaneous interval, the difference the data support (0 inside the noise), standing; and
the region of settings equivalent to the best. Computed here, drawn in ``sim.report``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.analysis.decision import Decision
from sim.analysis.region import Region, region
from sim.format import measured, number

Value = int | float | str
Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Landscape:
    """``points``: one row per candidate: ``candidate``, the parameters' values,
    ``is_base``, ``mean``, ``vs_base_mean``/``_low``/``_high`` (simultaneous),
    ``supported`` (the difference with the base shrunk by its half-width: 0 when the
    interval holds 0), ``status``, ``best``, ``equivalent``, ``proven``, ``avoid``."""

    decision: Decision
    points: pd.DataFrame
    params: list[str]
    region: Region
    formats: Mapping[str, Formatter] = field(default_factory=dict)
    # What a candidate never exercised ("breaker never opened"), said wherever it is shown.
    unexercised: Mapping[str, str] = field(default_factory=dict)

    def values(self, candidate: str | None) -> dict[str, Value]:
        """A candidate's parameter values by path (empty for None)."""
        if candidate is None:
            return {}
        row = self.points[self.points["candidate"] == candidate].iloc[0]
        return {p: _plain_value(row[p]) for p in self.params}

    def settings(self, candidates: Sequence[str]) -> list[dict[str, Value]]:
        return [self.values(c) for c in candidates]

    def show(self, path: str, value: Any) -> str:
        """A parameter's value for people: its unit where it has one."""
        if isinstance(value, int | float) and math.isfinite(value):
            formatter = self.formats.get(path)
            return formatter(float(value)) if formatter else number(float(value))
        return str(value)

    def region_text(self) -> str:
        """``failure_rate_threshold 20–90, wait_duration_in_open_state 2s–2m``, or why
        there is no region."""
        if not self.region.bounds:
            return "none (no setting is equivalent to the best)"
        parts = []
        for path, bound in self.region.bounds.items():
            name = path.rsplit(".", 1)[-1]
            if len(bound) == 2 and all(isinstance(b, float) for b in bound):
                low, high = bound
                span = self.show(path, low)
                if high != low:
                    span += f"–{self.show(path, high)}"
                parts.append(f"{name} {span}")
            else:
                parts.append(f"{name} in {{{', '.join(self.show(path, v) for v in bound)}}}")
        text = ", ".join(parts)
        if self.region.left_out:
            text += f" ({len(self.region.left_out)} equivalent setting(s) outside this box)"
        return text

    def label(self, candidate: str) -> str:
        """A candidate as its parameter values (``threshold=20 wait=5s``)."""
        values = self.values(candidate)
        return " ".join(f"{p.rsplit('.', 1)[-1]}={self.show(p, v)}" for p, v in values.items())

    def as_dict(self) -> dict[str, Any]:
        """``decision`` in ``sweep --json``: settings instead of candidate names."""
        d = self.decision
        return {
            "verdict": d.verdict,
            "metric": d.metric,
            "direction": d.direction,
            "indifference": {"text": d.indifference.describe(d.base), "value": d.delta},
            "alpha": d.alpha,
            "base": self.values(d.base),
            "best": self.values(d.best),
            "difference": None if d.difference is None else d.difference.as_dict(),
            "equivalent": self.settings(d.equivalent),
            "proven_equivalent": self.settings(d.proven),
            "avoid": self.settings(d.avoid),
            "region": self.region.as_dict(),
            "resolution": d.resolution,
            "replications_to_resolve": d.replications_hint,
            "notes": list(d.notes),
        }

    def summary_lines(self) -> list[str]:
        """What to do, in a few lines, for the terminal and the report."""
        d = self.decision
        delta = f"δ = {d.zone}"
        lines = []
        if d.verdict == "adopt" and d.difference is not None and d.best is not None:
            diff = d.difference
            lines.append(
                f"adopt {self.label(d.best)}: {d.metric} "
                f"{measured(diff.mean, diff.ci_low, diff.ci_high, d.unit, sign=True, style='span')}"
                f" against the base, beyond {delta}"
            )
        else:
            best = f"; best by mean: {self.label(d.best)}" if d.best and d.best != d.base else ""
            lines.append(
                f"keep the base: no setting beats it on {d.metric} by more than {delta}{best}"
            )
        lines.append(
            f"equivalent region (cannot be told apart from the best within δ; "
            f"{len(d.proven)} of {len(d.equivalent)} shown within δ): {self.region_text()}"
        )
        if d.avoid:
            lines.append("avoid: " + "; ".join(self.label(c) for c in d.avoid))
        return lines + [f"note: {n}" for n in d.notes]


def landscape(
    decision: Decision,
    values: Mapping[str, Mapping[str, Value]],
    params: Sequence[str],
    formats: Mapping[str, Formatter] | None = None,
) -> Landscape:
    """The decision's rows with each candidate's parameter ``values`` (by candidate name,
    then path), and the region of the equivalent ones."""
    table = decision.table
    for path in params:
        table[path] = [values.get(c, {}).get(path, math.nan) for c in table["candidate"]]
    table["is_base"] = table["candidate"] == decision.base
    table["best"] = table["candidate"] == decision.best
    table["supported"] = [
        low if low > 0 else high if high < 0 else 0.0
        for low, high in zip(table["vs_base_low"], table["vs_base_high"], strict=True)
    ]
    area = region(table, list(params), decision.equivalent)
    return Landscape(decision, table, list(params), area, dict(formats or {}))


def _plain_value(value: Any) -> Value:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | float | str):
        return value
    return float(value)
