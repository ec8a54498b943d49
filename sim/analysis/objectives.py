"""Objectives, constraints and the indifference zone of a decision, read from the command
line: what to optimise, what must hold, and the smallest difference worth acting on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sim.analysis.hypotheses import OPS
from sim.errors import ConfigError
from sim.units import parse_duration

Direction = Literal["minimize", "maximize"]
DEFAULT_INDIFFERENCE = "2%"
DEFAULT_METRIC = "revenue_lost"
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


@dataclass(frozen=True)
class Indifference:
    """The indifference zone δ: the smallest difference in a metric worth acting on. ``2%``
    is relative to the base configuration's mean; a bare number (``500``) or a duration
    (``200ms``, for ``*_s`` metrics) is absolute, in the metric's own unit."""

    amount: float
    relative: bool
    text: str

    @classmethod
    def parse(cls, text: str | float | None) -> Indifference:
        """``2%`` (relative), ``500`` or ``200ms`` (absolute); None gives the default."""
        raw = DEFAULT_INDIFFERENCE if text is None else text
        shown = str(raw).strip()
        try:
            if shown.endswith("%"):
                amount, relative = float(shown[:-1]) / 100, True
            else:
                amount, relative = parse_duration(raw), False
        except ValueError:
            raise ConfigError(
                f"cannot read {shown!r}: write a share of the base's mean such as '2%', or an "
                "absolute amount in the metric's unit such as 500 or 200ms",
                path="--indifference",
            ) from None
        if not amount >= 0 or amount == float("inf"):
            raise ConfigError(f"{shown!r} must be a finite amount >= 0", path="--indifference")
        return cls(amount, relative, shown)

    def resolve(self, base_mean: float) -> float:
        """δ in the metric's unit: the relative share of ``abs(base_mean)``, or the amount."""
        return self.amount * abs(base_mean) if self.relative else self.amount

    def describe(self, base: str = "the base") -> str:
        """``2% of no-breaker's mean``, or the absolute amount as written."""
        return f"{self.text} of {base}'s mean" if self.relative else self.text

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class DecisionSettings:
    """What a run, sweep or study decides on: the metric and its direction, δ, the
    constraints a pick must meet, and the error rate α."""

    metric: str = DEFAULT_METRIC
    direction: Direction = "minimize"
    indifference: Indifference = Indifference(0.02, True, DEFAULT_INDIFFERENCE)
    constraints: tuple[Constraint, ...] = ()
    alpha: float = 0.05

    def as_dict(self) -> dict[str, Any]:
        """For a run directory's settings (``from_dict`` reads it back)."""
        return {
            "metric": self.metric,
            "direction": self.direction,
            "indifference": self.indifference.text,
            "constraints": [str(c) for c in self.constraints],
            "alpha": self.alpha,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DecisionSettings:
        """From stored settings; the defaults for a directory written before them."""
        if not data:
            return cls()
        return cls(
            str(data.get("metric", DEFAULT_METRIC)),
            "maximize" if data.get("direction") == "maximize" else "minimize",
            Indifference.parse(data.get("indifference")),
            tuple(Constraint.parse(str(c)) for c in data.get("constraints", [])),
            float(data.get("alpha", 0.05)),
        )
