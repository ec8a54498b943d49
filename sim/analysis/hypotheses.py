"""Steady-state hypotheses judged on confidence intervals: pass when the whole interval
meets the check, fail when none of it does, inconclusive otherwise."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pandas as pd

from sim.config.experiment import Hypothesis
from sim.format import measured, unit_of

Outcome = Literal["pass", "fail", "inconclusive"]
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Verdict:
    check: str
    configuration: str
    metric: str
    op: str
    value: float
    mean: float
    ci_low: float
    ci_high: float
    replications: int
    outcome: Outcome
    unit: str = ""  # the metric's: "s", "%", a currency
    clipped: bool = False  # the interval was clipped at a bound (sim.analysis.bounds)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def interval(self) -> str:
        """``0.82 [0.31 to 1.33] %``, or why there is none (a metric without data, such as
        a latency percentile when no order completed)."""
        if math.isnan(self.mean):
            return "no data"
        return measured(
            self.mean, self.ci_low, self.ci_high, self.unit, clipped=self.clipped, style="span"
        )

    def describe(self) -> str:
        shown = "no data" if math.isnan(self.mean) else f"mean {self.interval} (95 %)"
        return (
            f"{self.outcome.upper():<12} {self.configuration}: {self.check} "
            f"({shown}, {self.replications} replications)"
        )


def judge_interval(op: str, value: float, low: float, high: float) -> Outcome:
    """The verdict on ``metric op value`` for a metric whose interval is [low, high]."""
    holds = OPS[op]
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    if holds(low, value) and holds(high, value):
        return "pass"
    if not holds(low, value) and not holds(high, value):
        return "fail"
    return "inconclusive"


def judge(hypotheses: Iterable[Hypothesis], ci: pd.DataFrame, currency: str = "") -> list[Verdict]:
    """Every hypothesis against each configuration it names (all of them by default), on
    the intervals of ``ci`` (bounded: ``sim.analysis.bounds``); ``currency`` names the
    unit of money metrics in the verdicts' text."""
    configurations = list(dict.fromkeys(ci["configuration"]))
    verdicts = []
    for hypothesis in hypotheses:
        for config in hypothesis.configurations or configurations:
            row = ci[(ci["configuration"] == config) & (ci["metric"] == hypothesis.metric)]
            if row.empty:
                continue
            mean, low, high = (float(row.iloc[0][k]) for k in ("mean", "ci_low", "ci_high"))
            verdicts.append(
                Verdict(
                    check=hypothesis.check.strip(),
                    configuration=str(config),
                    metric=hypothesis.metric,
                    op=hypothesis.op,
                    value=hypothesis.value,
                    mean=mean,
                    ci_low=low,
                    ci_high=high,
                    replications=int(row.iloc[0]["replications"]),
                    outcome=judge_interval(hypothesis.op, hypothesis.value, low, high),
                    unit=unit_of(hypothesis.metric, currency),
                    clipped=bool(row.iloc[0].get("clipped", False)),
                )
            )
    return verdicts
