"""The verdict of a tuning study: the selection stage's winner is adopted only when, on
fresh seeds it was not chosen on, its whole paired interval against the base lies beyond
δ (and it meets the constraints there). The winner was picked on other data, so this one
comparison needs no multiplicity correction; its one-sided error is α/2, the selection
stage's statements take the other α/2, so the study's claims hold together with
probability at least 1 − α."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.analysis.decision import Interval, Verdict
from sim.analysis.landscape import Landscape
from sim.analysis.objectives import DecisionSettings
from sim.analysis.stats import mean_ci
from sim.format import measured, quantity


@dataclass(frozen=True)
class StudyDecision:
    """What a study concludes: the verdict, the selection stage (its decision, landscape
    and region), the winner's fresh-seed difference with the base, and notes."""

    verdict: Verdict
    selection: Landscape
    winner: str | None  # the selection's best, a candidate name (possibly the base)
    difference: Interval | None  # tuned − base on fresh seeds, at level 1 − α
    fresh_replications: int
    notes: tuple[str, ...] = ()
    runs: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``decision`` in ``tune --json``."""
        d = self.selection.decision
        return {
            "verdict": self.verdict,
            "metric": d.metric,
            "direction": d.direction,
            "indifference": {"text": d.indifference.describe("the base"), "value": d.delta},
            "alpha": d.alpha,
            "winner": self.selection.values(self.winner),
            "winner_is_base": self.winner == d.base,
            "difference": None if self.difference is None else self.difference.as_dict(),
            "fresh_replications": self.fresh_replications,
            "equivalent": self.selection.settings(d.equivalent),
            "proven_equivalent": self.selection.settings(d.proven),
            "avoid": self.selection.settings(d.avoid),
            "region": self.selection.region.as_dict(),
            "selection": {
                "looks": d.looks,
                "replications": {s.candidate: s.replications for s in d.standings},
                "resolution": d.resolution,
            },
            "notes": list(self.notes),
        }


def conclude(
    selection: Landscape,
    fresh: pd.DataFrame | None,
    choice: DecisionSettings,
    fresh_replications: int,
) -> StudyDecision:
    """The verdict from the selection stage's landscape and the fresh rows (configuration
    ``base`` and ``tuned``, replication, metrics; None when there is no winner to test)."""
    d = selection.decision
    winner = d.best
    if winner is None:
        return StudyDecision("keep-base", selection, None, None, 0, ("no finalist may be chosen",))
    if winner == d.base or fresh is None:
        note = f"the base is the best of the selection stage (δ = {d.zone})"
        return StudyDecision("keep-base", selection, winner, None, 0, (note,))
    wide = fresh.pivot(index="replication", columns="configuration", values=choice.metric)
    mean, low, high = mean_ci(
        (wide["tuned"] - wide["base"]).to_numpy(dtype=float), 1 - choice.alpha
    )
    difference = Interval(mean, low, high)
    beyond = high < -d.delta if choice.direction == "minimize" else low > d.delta
    notes = []
    broken = [str(c) for c in choice.constraints if not _meets(fresh, "tuned", c)]
    if broken:
        notes.append("on fresh seeds the winner does not meet: " + ", ".join(broken))
    verdict: Verdict = "adopt" if beyond and not broken else "keep-base"
    if verdict == "keep-base" and not broken:
        better = high < 0 if choice.direction == "minimize" else low > 0
        if better:
            notes.append(
                f"on fresh seeds the winner is better than the base "
                f"({measured(mean, low, high, d.unit, sign=True, style='span')}) but not shown "
                f"to be by more than δ ({quantity(d.delta, d.unit)})"
            )
        else:
            notes.append(
                f"on fresh seeds the winner is not shown better than the base "
                f"({measured(mean, low, high, d.unit, sign=True, style='span')}): the search's "
                "gain was noise or too small to matter"
            )
    return StudyDecision(verdict, selection, winner, difference, fresh_replications, tuple(notes))


def _meets(rows: pd.DataFrame, name: str, limit: Any) -> bool:
    values = rows.loc[rows["configuration"] == name, limit.metric].to_numpy(dtype=float)
    _, low, high = mean_ci(values)
    return not math.isnan(low) and limit.violation(low) <= 0 and limit.violation(high) <= 0
