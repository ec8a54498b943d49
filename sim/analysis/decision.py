"""Deciding between candidates evaluated on common random numbers: the best, those that
cannot be told apart from it within an indifference zone δ, those to avoid, and whether the
best beats the base by more than δ.

The procedure is Hsu's multiple comparisons with the best (constrained MCB) in the
Bonferroni form that stays valid under common random numbers (``sim.analysis.mcb``), beside
simultaneous two-sided comparisons with the base (Bonferroni). The error rate α is split
equally between the two families and over the ``looks`` a sequential procedure takes
(``sim.analysis.selection``), so every statement of a decision holds together with
probability at least 1 − α. ``adopt`` needs the best's whole interval against the base to
lie beyond δ. docs/decisions.md explains it for users.

Pure functions over summary rows (configuration, replication, metrics...): nothing runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.analysis.mcb import (
    Paired,
    bonferroni,
    column_means,
    gap_interval,
    loss_matrix,
    may_be_best,
    paired,
    replications_for,
    sign,
)
from sim.analysis.objectives import Constraint, Direction, Indifference
from sim.analysis.stats import mean_ci
from sim.format import quantity

Verdict = Literal["adopt", "keep-base"]
PROCEDURE = (
    "Hsu's multiple comparisons with the best (constrained MCB, Bonferroni form for common "
    "random numbers) and Bonferroni comparisons with the base; every statement holds "
    "together with probability >= 1 - alpha"
)
# A candidate's standing against the best (MCB).
BEST = "best"
WITHIN = "within δ of the best"
MAYBE = "may be the best"
UNDECIDED = "not the best, maybe within δ"
WORSE = "worse than the best by more than δ"
INFEASIBLE = "may not be chosen"
NO_DATA = "no data"
EQUIVALENT = (BEST, WITHIN, MAYBE, UNDECIDED)


@dataclass(frozen=True)
class Interval:
    """A mean with the ends of its interval."""

    mean: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high}


@dataclass(frozen=True)
class Standing:
    """One candidate: its mean, the MCB interval of its gap to the best (how much worse
    than the best of the others, in the metric's unit, whatever the direction), its
    interval against the base (candidate − base, in the metric's own sign), and status."""

    candidate: str
    mean: float
    replications: int
    gap: tuple[float, float]
    vs_base: Interval
    status: str
    reason: str = ""
    avoid: bool = False
    contender: bool = False  # not shown to be worse than another candidate

    @property
    def equivalent(self) -> bool:
        """Cannot be told apart from the best within δ."""
        return self.status in EQUIVALENT

    def as_row(self, delta: float) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "mean": self.mean,
            "replications": self.replications,
            "gap_low": self.gap[0],
            "gap_high": self.gap[1],
            "vs_base_mean": self.vs_base.mean,
            "vs_base_low": self.vs_base.ci_low,
            "vs_base_high": self.vs_base.ci_high,
            "status": self.status,
            "equivalent": self.equivalent,
            "proven": self.status in (BEST, WITHIN) and self.gap[1] <= delta,
            "avoid": self.avoid,
            "contender": self.contender,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Decision:
    """What to do, and how sure we are (see the module's docstring)."""

    metric: str
    direction: Direction
    base: str
    indifference: Indifference
    delta: float
    alpha: float
    best: str | None
    verdict: Verdict
    difference: Interval | None  # best − base, simultaneous interval
    standings: tuple[Standing, ...]
    resolution: float  # median MCB half-width of the comparisons still open (0: none open)
    replications_hint: int | None = None  # per candidate, to resolve δ
    looks: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)
    unit: str = ""  # the metric's, for people: "s", "%", a currency

    @property
    def table(self) -> pd.DataFrame:
        """One row per candidate (``Standing.as_row``)."""
        return pd.DataFrame([s.as_row(self.delta) for s in self.standings])

    def _names(self, keep: Any) -> list[str]:
        return [s.candidate for s in self.standings if keep(s)]

    @property
    def equivalent(self) -> list[str]:
        """The candidates that cannot be told apart from the best within δ: shown within δ
        of it, or not shown to be worse than it at all (the best among them)."""
        return self._names(lambda s: s.equivalent)

    @property
    def proven(self) -> list[str]:
        """The candidates shown to be within δ of the best (a subset of ``equivalent``)."""
        return self._names(lambda s: s.status in (BEST, WITHIN) and s.gap[1] <= self.delta)

    @property
    def avoid(self) -> list[str]:
        """The candidates shown worse than the base by more than δ."""
        return self._names(lambda s: s.avoid)

    @property
    def zone(self) -> str:
        """δ as the reader set it and in the metric's unit: ``2% of base's mean = 253``."""
        written = self.indifference.describe("the base" if self.base == "base" else self.base)
        if self.indifference.relative:
            return f"{written} = {quantity(self.delta, self.unit)}"
        try:  # a bare number is in the metric's unit: show it, as the intervals do
            float(written)
        except ValueError:
            return written  # written with its unit (200ms)
        return quantity(self.delta, self.unit)

    @property
    def resolved(self) -> bool:
        """Whether the data resolve differences of δ (the comparisons with the best still
        open have a median half-width of at most δ)."""
        return self.resolution <= self.delta

    def as_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready values (NaN left for the caller's encoder)."""
        return {
            "verdict": self.verdict,
            "metric": self.metric,
            "direction": self.direction,
            "indifference": {"text": self.indifference.describe(self.base), "value": self.delta},
            "alpha": self.alpha,
            "procedure": PROCEDURE,
            "base": self.base,
            "best": self.best,
            "difference": None if self.difference is None else self.difference.as_dict(),
            "equivalent": self.equivalent,
            "proven_equivalent": self.proven,
            "avoid": self.avoid,
            "resolution": self.resolution,
            "replications_to_resolve": self.replications_hint,
            "notes": list(self.notes),
        }


def decide(
    summary: pd.DataFrame,
    metric: str,
    *,
    base: str,
    direction: Direction = "minimize",
    indifference: Indifference | None = None,
    constraints: Sequence[Constraint] = (),
    excluded: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    looks: int = 1,
    delta: float | None = None,
    unit: str = "",
) -> Decision:
    """The decision over the configurations of ``summary`` (rows: configuration,
    replication, metrics), paired on replication. ``excluded`` names candidates that may
    not be chosen and why (a failed hypothesis); ``constraints`` must hold on a candidate's
    whole 95 % interval for it to be chosen. ``looks``: how many times a sequential
    procedure looks at the data (α is split over them); ``delta``: δ already resolved (a
    sequential procedure fixes it at its first look), else from ``indifference``; ``unit``:
    the metric's, for the decision's sentences."""
    indifference = indifference or Indifference.parse(None)
    candidates = [str(c) for c in dict.fromkeys(summary["configuration"])]
    if base not in candidates:
        raise ValueError(f"the base {base!r} is not among the candidates")
    loss = loss_matrix(summary, metric, candidates, direction)
    means = column_means(loss)
    if delta is None:
        base_mean = means[candidates.index(base)]
        delta = indifference.resolve(base_mean) if math.isfinite(base_mean) else math.nan
    reasons = _reasons(summary, candidates, means, constraints, excluded or {})
    eligible = [i for i, c in enumerate(candidates) if c not in reasons]
    pairs = paired(loss)
    mcb_q = bonferroni(alpha / 2, len(eligible) - 1, sides=2, looks=looks)
    base_q = bonferroni(alpha / 2, len(candidates) - 1, sides=2, looks=looks)
    best = min(eligible, key=lambda i: means[i]) if eligible else None
    contenders = may_be_best(eligible, pairs, mcb_q)
    b = candidates.index(base)
    s = sign(direction)
    standings = []
    for i, name in enumerate(candidates):
        if i in eligible:
            gap = gap_interval(i, eligible, contenders, pairs, mcb_q)
        else:
            gap = (math.nan, math.nan)
        if i == b:
            vs_base = Interval(0.0, 0.0, 0.0)
        else:
            pair = pairs[(i, b)]
            w = pair.half_width(base_q)
            ends = sorted((s * (pair.mean - w), s * (pair.mean + w)))
            vs_base = Interval(s * pair.mean, ends[0], ends[1])
        worse = vs_base.ci_low > delta if s > 0 else vs_base.ci_high < -delta
        reason = reasons.get(name)
        standings.append(
            Standing(
                candidate=name,
                mean=s * means[i],
                replications=_count(loss, i),
                gap=gap,
                vs_base=vs_base,
                status=_status(i, best, i in contenders, gap, delta, reason),
                reason=reason or "",
                avoid=worse,
                contender=i in contenders,
            )
        )
    return _conclude(
        metric, direction, candidates[b], indifference, delta, alpha, looks,
        None if best is None else candidates[best], standings, pairs, candidates, mcb_q, unit,
    )  # fmt: skip


def _count(loss: Any, i: int) -> int:
    return int((~pd.isna(loss[:, i])).sum())


def _reasons(
    summary: pd.DataFrame,
    candidates: list[str],
    means: list[float],
    constraints: Sequence[Constraint],
    excluded: Mapping[str, str],
) -> dict[str, str]:
    """Why a candidate may not be chosen: excluded by the caller, no data, or a constraint
    not shown to hold."""
    reasons = dict(excluded)
    for name, mean in zip(candidates, means, strict=True):
        if math.isnan(mean):
            reasons[name] = NO_DATA
        for limit in constraints:
            if name not in reasons and not _meets(summary, name, limit):
                reasons[name] = f"{limit} not shown"
    return reasons


def _meets(summary: pd.DataFrame, name: str, limit: Constraint) -> bool:
    """Whether ``limit`` holds on the whole 95 % interval of the candidate's metric."""
    if limit.metric not in summary.columns:
        return False
    values = summary.loc[summary["configuration"] == name, limit.metric].to_numpy(dtype=float)
    _, low, high = mean_ci(values)
    if math.isnan(low):
        return False
    return limit.violation(low) <= 0 and limit.violation(high) <= 0


def _status(
    i: int,
    best: int | None,
    contender: bool,
    gap: tuple[float, float],
    delta: float,
    reason: str | None,
) -> str:
    if reason is not None:
        return NO_DATA if reason == NO_DATA else INFEASIBLE
    if i == best:
        return BEST
    if gap[1] <= delta:
        return WITHIN
    if gap[0] > delta:
        return WORSE
    return MAYBE if contender else UNDECIDED


def _conclude(
    metric: str,
    direction: Direction,
    base: str,
    indifference: Indifference,
    delta: float,
    alpha: float,
    looks: int,
    best: str | None,
    standings: list[Standing],
    pairs: dict[tuple[int, int], Paired],
    candidates: list[str],
    mcb_q: float,
    unit: str = "",
) -> Decision:
    """The verdict, the resolution, a replication hint and the notes."""
    difference = None
    verdict: Verdict = "keep-base"
    if best is not None and best != base:
        difference = next(s.vs_base for s in standings if s.candidate == best)
        beyond = (
            difference.ci_high < -delta if direction == "minimize" else difference.ci_low > delta
        )
        verdict = "adopt" if beyond else "keep-base"
    # The resolution is the typical half-width of the comparisons still open: the best
    # against the candidates neither shown within δ of it nor more than δ worse.
    open_ = [candidates.index(s.candidate) for s in standings if s.status in (MAYBE, UNDECIDED)]
    resolution, hint = 0.0, None
    if best is not None and open_:
        b = candidates.index(best)
        resolution = float(np.median([pairs[(b, j)].half_width(mcb_q) for j in open_]))
        spreads = [pairs[(b, j)].sd for j in open_ if math.isfinite(pairs[(b, j)].sd)]
        if spreads and not resolution <= delta:
            hint = replications_for(float(np.median(spreads)), delta, mcb_q)
    decision = Decision(
        metric, direction, base, indifference, delta, alpha, best, verdict, difference,
        tuple(standings), resolution, hint, looks, (), unit,
    )  # fmt: skip
    return replace(decision, notes=tuple(_notes(decision)))


def _notes(decision: Decision) -> list[str]:
    """What a reader must know to act on the decision."""
    notes = []
    if decision.best is None:
        notes.append("no candidate may be chosen")
    if not math.isfinite(decision.delta):
        notes.append(f"the base {decision.base!r} has no data on {decision.metric}")
    elif decision.delta == 0:
        notes.append("δ is 0 (the base's mean is 0): any shown improvement counts")
    if decision.best is not None and not decision.resolved:
        more = ""
        if decision.replications_hint:
            more = (
                f"; about {decision.replications_hint} replications per candidate would resolve δ"
            )
        unit = decision.unit
        notes.append(
            f"the intervals (±{quantity(decision.resolution, unit)}) are wider than δ "
            f"({quantity(decision.delta, unit)}): candidates not told apart from the best "
            f"may still differ from it by more than δ{more}"
        )
    for s in decision.standings:
        if s.reason and s.reason != NO_DATA:
            notes.append(f"{s.candidate} may not be chosen: {s.reason}")
    return notes
