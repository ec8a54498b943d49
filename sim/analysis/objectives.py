"""Objectives and constraints of a tuning study, read from the command line and applied
to per-metric intervals aggregated over several scenarios (mean or worst case)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sim.analysis.hypotheses import OPS
from sim.errors import ConfigError

Direction = Literal["minimize", "maximize"]
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(<=|>=|<|>)\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: Direction = "minimize"

    @classmethod
    def parse(cls, text: str) -> Objective:
        """``revenue_lost`` (minimised) or ``revenue_captured:max``."""
        metric, _, way = text.strip().partition(":")
        if way not in ("", "min", "max"):
            raise ConfigError(
                f"write METRIC, METRIC:min or METRIC:max, not {text!r}", path="--objective"
            )
        return cls(metric, "maximize" if way == "max" else "minimize")

    def worst(self, values: list[float]) -> float:
        return max(values) if self.direction == "minimize" else min(values)


@dataclass(frozen=True)
class Constraint:
    metric: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """``checkout_p99_s<2``; ``revenue_lost_pct <= 1``."""
        match = _CONSTRAINT.match(text)
        if not match:
            raise ConfigError(
                f"cannot read {text!r}: write METRIC<VALUE, e.g. checkout_p99_s<2",
                path="--constraint",
            )
        metric, op, bound = match.groups()
        return cls(metric, op, float(bound))

    def violation(self, value: float) -> float:
        """Optuna's convention: <= 0 when met, the amount it is missed by otherwise."""
        if OPS[self.op](value, self.bound):
            return min(0.0, -abs(self.bound - value))
        return abs(value - self.bound) or 1e-12

    def worst(self, values: list[float]) -> float:
        return max(values) if self.op in ("<", "<=") else min(values)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"
