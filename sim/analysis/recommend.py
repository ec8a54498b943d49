"""What a run recommends: the configuration to pick against the baseline, by how much it
is better, which configurations tie with it, and what the run never exercised (a breaker
that never opened, a fallback never used), so a saving is credited to what caused it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.analysis.decision import Decision, Interval, decide
from sim.analysis.hypotheses import Verdict
from sim.analysis.objectives import DecisionSettings
from sim.config.scenario import Configuration, LoadedScenario
from sim.format import ends, measured, quantity, unit_of


@dataclass(frozen=True)
class Recommendation:
    """The configuration to pick (the best on ``adopt``, else the baseline), the ones tied
    with the best, and notes a reader must see before acting."""

    decision: Decision
    configuration: str
    tied: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def verdict(self) -> str:
        return self.decision.verdict

    def line(self) -> str:
        """One sentence for the terminal and the top of the report."""
        d = self.decision
        delta = f"δ = {d.zone}"
        ties = ", ".join(self.tied) or "none"
        diff = d.difference
        if len(d.standings) == 1:
            return f"keep {d.base}: the only configuration, nothing to compare it with"
        if d.verdict == "adopt" and diff is not None:
            way = "lower" if diff.mean < 0 else "higher"
            return (
                f"pick {self.configuration}: {d.metric} {quantity(abs(diff.mean), d.unit)} "
                f"{way} than {d.base} [{ends(diff.ci_low, diff.ci_high, d.unit)}], beyond "
                f"{delta}; tied with it: {ties}"
            )
        if d.best is None or d.best == d.base or diff is None:
            lead = f"keep {d.base}: it is the best on {d.metric}" if d.best else f"keep {d.base}"
            return f"{lead} ({delta}); tied with it: {ties}"
        return (
            f"keep {d.base}: no configuration is shown to beat it on {d.metric} by more than "
            f"{delta}; best by mean: {d.best}, {_span(diff, d.unit)}; cannot be told apart "
            f"from it: {ties}"
        )

    def as_dict(self) -> dict[str, Any]:
        """``recommendation`` in ``run --json``."""
        d = self.decision
        return {
            "configuration": self.configuration,
            "verdict": d.verdict,
            "metric": d.metric,
            "direction": d.direction,
            "indifference": {"text": d.indifference.describe(d.base), "value": d.delta},
            "difference": None if d.difference is None else d.difference.as_dict(),
            "baseline": d.base,
            "best": d.best,
            "tied": list(self.tied),
            "avoid": d.avoid,
            "alpha": d.alpha,
            "notes": list(self.notes),
        }


def recommend(
    loaded: LoadedScenario,
    summary: pd.DataFrame,
    baseline: str,
    verdicts: Iterable[Verdict] = (),
    settings: DecisionSettings | None = None,
) -> Recommendation:
    """The recommendation of a run: a configuration that fails one of its hypotheses is
    never picked; the decision is ``sim.analysis.decision.decide`` over the summary."""
    settings = settings or DecisionSettings()
    failed = {v.configuration: f"fails {v.check!r}" for v in verdicts if v.outcome == "fail"}
    decision = decide(
        summary, settings.metric, base=baseline, direction=settings.direction,
        indifference=settings.indifference, constraints=settings.constraints,
        excluded=failed, alpha=settings.alpha,
        unit=unit_of(settings.metric, loaded.shop.currency_code),
    )  # fmt: skip
    pick = decision.best if decision.verdict == "adopt" and decision.best else baseline
    tied = tuple(c for c in decision.equivalent if c != pick)
    notes = [*decision.notes, *unexercised(loaded, summary, baseline)]
    return Recommendation(decision, pick, tied, tuple(notes))


def unexercised(loaded: LoadedScenario, summary: pd.DataFrame, baseline: str) -> list[str]:
    """A note per configuration whose breakers never opened or whose payment fallback was
    never used in any replication: what sets it apart from the baseline is then something
    else, named here."""
    configurations = loaded.scenario.configurations
    base = configurations.get(baseline)
    notes = []
    for name, config in configurations.items():
        part = summary[summary["configuration"] == name]
        if part.empty:
            continue
        runs = f"in {len(part)} replication{'s' if len(part) != 1 else ''}"
        places = breaker_places(config)
        if places and _total(part, "breaker_trips") == 0:
            other = _other_settings(config, base) if base is not None and name != baseline else []
            why = (
                f"; what sets it apart from {baseline} is its other settings: " + ", ".join(other)
                if other
                else ""
            )
            notes.append(
                f"{name}: its breaker{'s' if len(places) > 1 else ''} ({', '.join(places)}) "
                f"never opened {runs}{why}"
            )
        fallback = config.payment.fallback or ("failover" if config.payment.failover else None)
        if fallback and _total(part, "failovers") == 0:
            notes.append(f"{name}: its payment fallback ({fallback}) was never used {runs}")
    return notes


def never_opened(loaded: LoadedScenario, summary: pd.DataFrame) -> dict[str, str]:
    """``breaker never opened`` (or ``breakers never opened``) by configuration, for each
    one with a breaker that opened in none of its replications: said wherever the
    configuration is compared, so its result is not credited to its breaker."""
    marks = {}
    for name, config in loaded.scenario.configurations.items():
        part = summary[summary["configuration"] == name]
        places = breaker_places(config)
        if places and not part.empty and _total(part, "breaker_trips") == 0:
            marks[name] = f"breaker{'s' if len(places) > 1 else ''} never opened"
    return marks


def breaker_places(config: Configuration) -> list[str]:
    """The dotted places of a configuration that hold a breaker (``payment``,
    ``notification.sms``...)."""
    return sorted(_paths_of(config.model_dump(mode="json"), "breaker"))


def _paths_of(data: Any, key: str, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(data, dict):
        for name, value in data.items():
            if name == key and value is not None:
                found.add(prefix or "(top)")
            elif isinstance(value, dict):
                found |= _paths_of(value, key, f"{prefix}.{name}" if prefix else name)
    return found


def _other_settings(config: Configuration, base: Configuration) -> list[str]:
    """The dotted settings that differ from the base's, breakers and descriptions aside."""
    mine = _flat(config.model_dump(mode="json", exclude={"description"}))
    theirs = _flat(base.model_dump(mode="json", exclude={"description"}))
    keys = sorted(set(mine) | set(theirs))
    return [k for k in keys if ".breaker" not in f".{k}" and mine.get(k) != theirs.get(k)]


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict's leaves by dotted path; a breaker is one leaf (its own settings
    are not "other settings")."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict) and name != "breaker" and value:
            out.update(_flat(value, path))
        else:
            out[path] = value
    return out


def _total(part: pd.DataFrame, column: str) -> float:
    if column not in part.columns:
        return math.nan
    return float(part[column].fillna(0).sum())


def _span(diff: Interval, unit: str) -> str:
    """A difference with its simultaneous interval, "to" between the ends (a comma would
    read as a thousands mark): ``-60,201 [-126,828 to +6,426] EUR``."""
    return measured(diff.mean, diff.ci_low, diff.ci_high, unit, sign=True, style="span")
