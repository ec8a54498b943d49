"""Paired comparisons on common random numbers and Hsu's multiple comparisons with the best.

Candidates are compared on their loss (the metric, negated when larger is better), per
replication: replication r of every candidate saw the same customers and faults, so the
differences loss_i − loss_j pair up and their spread is far smaller than the candidates'
own. Intervals are Student t on those differences with a Bonferroni critical value, the
form of MCB that stays valid under common random numbers (Nelson & Matejcik 1995;
Goldsman & Nelson 1998): Hsu's exact critical values assume independent candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis.objectives import Direction


@dataclass(frozen=True)
class Paired:
    """The differences loss_i − loss_j on the replications both candidates have."""

    n: int
    mean: float
    sd: float

    def half_width(self, quantile: float) -> float:
        """t(quantile, n − 1) × sd / √n; infinite with fewer than two pairs."""
        if self.n < 2 or not math.isfinite(self.sd):
            return math.inf
        if self.sd == 0:
            return 0.0
        return t_quantile(quantile, self.n - 1) * self.sd / math.sqrt(self.n)


@lru_cache(maxsize=4096)
def t_quantile(quantile: float, df: int) -> float:
    """Student t's quantile (cached: a decision asks for the same few many times)."""
    return float(stats.t.ppf(quantile, df))


def sign(direction: Direction) -> float:
    """Loss = sign × metric, so that a lower loss is better in both directions."""
    return 1.0 if direction == "minimize" else -1.0


def loss_matrix(
    summary: pd.DataFrame, metric: str, candidates: list[str], direction: Direction
) -> np.ndarray:
    """Replications × candidates of the loss; NaN where a candidate has no such run."""
    if metric not in summary.columns:
        raise ValueError(f"the summary has no metric {metric!r}")
    reps = sorted(set(summary["replication"].tolist()))
    row = {r: i for i, r in enumerate(reps)}
    col = {c: j for j, c in enumerate(candidates)}
    out = np.full((len(reps), len(candidates)), math.nan)
    for c, r, v in zip(
        summary["configuration"], summary["replication"], summary[metric], strict=True
    ):
        if str(c) in col:
            out[row[r], col[str(c)]] = v
    return sign(direction) * out


def column_means(loss: np.ndarray) -> list[float]:
    """Each candidate's mean loss, NaN without data (and without numpy's warning)."""
    out = []
    for column in loss.T:
        known = column[~np.isnan(column)]
        out.append(float(known.mean()) if known.size else math.nan)
    return out


def paired(loss: np.ndarray) -> dict[tuple[int, int], Paired]:
    """Paired statistics for every ordered pair of candidates (columns)."""
    out: dict[tuple[int, int], Paired] = {}
    k = loss.shape[1]
    for i in range(k):
        for j in range(i + 1, k):
            both = ~np.isnan(loss[:, i]) & ~np.isnan(loss[:, j])
            diff = loss[both, i] - loss[both, j]
            n = int(diff.size)
            mean = float(diff.mean()) if n else math.nan
            sd = float(diff.std(ddof=1)) if n >= 2 else math.nan
            out[(i, j)] = Paired(n, mean, sd)
            out[(j, i)] = Paired(n, -mean, sd)
    return out


def bonferroni(alpha: float, comparisons: int, *, sides: int = 1, looks: int = 1) -> float:
    """The t quantile level for each of ``comparisons`` intervals (``sides`` ends each,
    at each of ``looks`` looks) to hold together with probability at least 1 − alpha."""
    return 1.0 - alpha / (max(comparisons, 1) * sides * max(looks, 1))


def may_be_best(
    eligible: list[int], pairs: dict[tuple[int, int], Paired], quantile: float
) -> list[int]:
    """The candidates not shown to be worse than another: i is shown not to be the best
    when some j beats it by more than their half-width. Contains the true best whenever
    the one-sided intervals against it hold (Hsu's MCB subset)."""
    return [
        i
        for i in eligible
        if all(pairs[(i, j)].mean - pairs[(i, j)].half_width(quantile) <= 0
               for j in eligible if j != i)
    ]  # fmt: skip


def gap_interval(
    i: int,
    eligible: list[int],
    maybe_best: list[int],
    pairs: dict[tuple[int, int], Paired],
    quantile: float,
) -> tuple[float, float]:
    """Bounds for gap_i = μ_i − min_{j≠i} μ_j (loss): how much worse candidate i is than
    the best of the others (negative for the best itself).

    High end: Hsu's constrained MCB bound, taken against the candidates that may be the
    best only (the true best is among them when the intervals hold), so a noisy candidate
    already shown worse does not widen everyone's bound. Low end: for a candidate shown
    not to be the best, the least of its lower bounds against those that may be; for one
    that may be, Hsu's constrained bound (at most 0). With two-sided intervals against the
    true best (``quantile`` Bonferroni over 2 × len(eligible − 1)), both hold together."""
    others = [j for j in eligible if j != i]
    if not others:
        return 0.0, 0.0
    rivals = [j for j in maybe_best if j != i]
    width = {j: pairs[(i, j)].half_width(quantile) for j in others}
    upper = max((pairs[(i, j)].mean + width[j] for j in rivals), default=0.0)
    if i in maybe_best:
        lower = min(0.0, max(pairs[(i, j)].mean - width[j] for j in others))
    else:
        lower = max(0.0, min(pairs[(i, j)].mean - width[j] for j in rivals))
    return lower, max(0.0, upper)


def replications_for(sd: float, target: float, quantile: float, cap: int = 10_000) -> int | None:
    """The fewest replications n with t(quantile, n − 1) × sd / √n <= target (None when
    not within ``cap``, or when nothing can be said)."""
    if not (math.isfinite(sd) and target > 0):
        return None
    for n in range(2, cap + 1):
        if t_quantile(quantile, n - 1) * sd / math.sqrt(n) <= target:
            return n
    return None
