"""What run, sweep and tune decide on, checked before anything runs (the objective and
its direction, δ, the constraints), and how parameters' values are shown."""

from __future__ import annotations

from collections.abc import Sequence

from sim.analysis.landscape import Formatter
from sim.analysis.metrics import unknown_metric
from sim.analysis.objectives import (
    DEFAULT_METRIC,
    Constraint,
    DecisionSettings,
    Indifference,
    Objective,
)
from sim.config import LoadedScenario
from sim.errors import ConfigError
from sim.experiment.params import Param
from sim.format import number
from sim.units import format_duration, parse_duration


def decision_settings(
    loaded: Sequence[LoadedScenario],
    objective: str | None,
    indifference: str | None,
    constraints: Sequence[str] = (),
) -> DecisionSettings:
    """The decision's settings from the options, each metric checked against every
    scenario: a ConfigError names the option that is wrong."""
    goal = Objective.parse(objective or DEFAULT_METRIC)
    limits = tuple(Constraint.parse(c) for c in constraints)
    for s in loaded:
        if problem := unknown_metric(goal.metric, s):
            raise ConfigError(problem, file=s.source, path="--objective")
        for limit in limits:
            if problem := unknown_metric(limit.metric, s):
                raise ConfigError(problem, file=s.source, path="--constraint")
    return DecisionSettings(goal.metric, goal.direction, Indifference.parse(indifference), limits)


def formats(params: Sequence[Param]) -> dict[str, Formatter]:
    """How to show each parameter's values: durations as ``30s``, percentages as ``52%``,
    others as numbers (three significant digits: ``2.99%``, never ``2.98806%``)."""
    shown: dict[str, Formatter] = {p.path: _duration for p in params if _is_duration(p)}
    shown |= {p.path: _percent(p) for p in params if p.unit == "%"}
    return shown


def _percent(p: Param) -> Formatter:
    """A percentage parameter's validated value as a percentage: a field that keeps
    percent (resilience4j's ``failure_rate_threshold``: 52.4) or a fraction (Polly's
    ``failure_ratio``: 0.524), told apart by the values the user wrote."""
    written = [abs(v) for v in (p.low, p.high) if v is not None]
    written += [abs(_number(v)) for v in p.values]
    largest = max(written, default=0.0)

    def show(value: float) -> str:
        fraction = largest > 1 and abs(value) <= 1 and abs(value) * 100 <= largest * 1.000001
        return f"{number(100 * value if fraction else value)}%"

    return show


def _number(value: object) -> float:
    """The number a written value starts with (``20%`` is 20); 0 when there is none."""
    try:
        return float(str(value).strip().rstrip("%"))
    except ValueError:
        return 0.0


def _duration(seconds: float) -> str:
    """A duration to three significant digits (``2.09s``, ``1.5m``)."""
    return format_duration(float(f"{seconds:.3g}"))


def _is_duration(p: Param) -> bool:
    """A parameter given with a duration unit (``2s:120s``, ``5s,30s``)."""
    if p.unit:
        try:
            parse_duration(f"1{p.unit}")
        except ValueError:
            return False
        return True
    texts = [v for v in p.values if isinstance(v, str)]
    try:
        return bool(texts) and all(parse_duration(t) >= 0 for t in texts)
    except ValueError:
        return False
