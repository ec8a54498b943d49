"""A selection stage that adds replications where they change the decision: racing with
the statistics of ``sim.analysis.decision``.

All candidates get ``first`` replications on common random numbers; at each of at most
``most`` pre-planned looks, a candidate shown not to be the best (Hsu's MCB) or shown to
break a constraint is dropped, and the survivors get more replications. The race stops when
one candidate is left, when every survivor is shown within δ of the best (more data would
not change what to do), or at the last look, which the budget fixes in advance. α is
split equally over the planned looks (Bonferroni), so the intervals of every look, the
last one included, hold together with probability at least 1 − α whatever the race did:
dropping a candidate never costs the guarantee (racing as in F-race / irace, with the
family-wise error of MCB). Pure functions: the caller runs the replications.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sim.analysis.decision import BEST, INFEASIBLE, WITHIN, Decision, decide
from sim.analysis.objectives import Constraint, Direction, Indifference
from sim.analysis.stats import mean_ci

SEPARATED = "one candidate left"
EQUIVALENT = "every survivor is within δ of the best"
LAST_LOOK = "the budget is spent"


@dataclass(frozen=True)
class Plan:
    """Replications per candidate at each look (cumulative, increasing)."""

    counts: tuple[int, ...]
    candidates: int

    @property
    def looks(self) -> int:
        return len(self.counts)

    @property
    def most_runs(self) -> int:
        """Runs if nothing is ever dropped: the budget the plan was made for, at most."""
        return self.counts[-1] * self.candidates


def plan_looks(budget: int, candidates: int, *, first: int = 5, most: int = 3) -> Plan:
    """Looks for ``candidates`` within ``budget`` runs: ``first`` replications each (fewer
    when the budget is small, never under 2), then the rest of the budget in equal steps
    over at most ``most`` looks in all. Raises ValueError when not even 2 each fit."""
    if candidates < 1 or budget < 2 * candidates:
        raise ValueError(
            f"a budget of {budget} runs cannot give {candidates} candidates 2 replications each"
        )
    start = max(2, min(first, budget // candidates))
    extra = (budget - start * candidates) // candidates
    steps = max(1, most - 1)
    counts = [start] + [start + math.ceil(extra * s / steps) for s in range(1, steps + 1)]
    counts = [c for c in counts if c * candidates <= budget]
    return Plan(tuple(sorted(set(counts))), candidates)


@dataclass(frozen=True)
class Look:
    """The race after one look: the decision over every candidate's data so far, who is
    still running, and why the race stopped (None: it goes on)."""

    decision: Decision
    alive: tuple[str, ...]
    dropped: tuple[str, ...]
    stop: str | None


def look(
    summary: pd.DataFrame,
    alive: Sequence[str],
    metric: str,
    *,
    base: str,
    plan: Plan,
    index: int,
    direction: Direction = "minimize",
    indifference: Indifference | None = None,
    constraints: Sequence[Constraint] = (),
    alpha: float = 0.05,
    delta: float | None = None,
    unit: str = "",
) -> Look:
    """Look ``index`` (0-based) of ``plan`` at ``summary`` (every run so far, of every
    candidate, paired on replication): the decision, the survivors, whether to stop.
    ``delta`` fixes δ after the first look (resolve it there from ``indifference``);
    ``unit`` is the metric's, for the decision's sentences."""
    decision = decide(
        summary, metric, base=base, direction=direction, indifference=indifference,
        constraints=constraints, alpha=alpha, looks=plan.looks, delta=delta, unit=unit,
    )  # fmt: skip
    status = {s.candidate: s.status for s in decision.standings}
    contender = {s.candidate: s.contender for s in decision.standings}
    # A constraint not yet shown to hold keeps a candidate from being chosen, and so from
    # MCB's judgement, but not from the race: it is dropped once shown to break it.
    unsettled = {s.candidate for s in decision.standings if s.status == INFEASIBLE}
    dropped = tuple(
        name
        for name in alive
        if _breaks(summary, name, constraints)
        or not (contender.get(name, False) or name in unsettled)
    )
    survivors = tuple(name for name in alive if name not in dropped)
    stop = None
    if len(survivors) <= 1:
        stop = SEPARATED
    elif all(status.get(name) in (BEST, WITHIN) for name in survivors):
        stop = EQUIVALENT
    elif index >= plan.looks - 1:
        stop = LAST_LOOK
    return Look(decision, survivors, dropped, stop)


def _breaks(summary: pd.DataFrame, name: str, constraints: Sequence[Constraint]) -> bool:
    """Whether the candidate's whole 95 % interval breaks one of the constraints."""
    part = summary[summary["configuration"] == name]
    for limit in constraints:
        if limit.metric not in part.columns:
            continue
        _, low, high = mean_ci(part[limit.metric].to_numpy(dtype=float))
        if not math.isnan(low) and limit.violation(low) > 0 and limit.violation(high) > 0:
            return True
    return False
