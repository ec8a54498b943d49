"""The statistics of the decision layer (sim.analysis.mcb), worked out by hand: Student t
quantiles from the printed tables and scipy.stats, Bonferroni levels as docs/decisions.md
states them (α/2 over the 2(k − 1) one-sided statements against the best, α/2 over the
k − 1 two-sided comparisons with the base, each split over the looks), and Hsu's
constrained MCB bounds on a small table whose paired differences have a mean and a
deviation one can check on paper."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

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
    t_quantile,
)
from sim.analysis.objectives import Indifference

# The worked table. Loss = a common term per replication (what every candidate saw) plus
# each candidate's offset; A is the base. The paired differences (row − column) are:
#   B − A: -3, -1, -2, -2, -2  mean -2    sd √0.5      C − B: offsets of C  mean 0.2  sd 1
#   C − A: mean -1.8  sd 1                              D − B: mean 8    sd √0.5
#   D − A: 4, 8, 6, 6, 6  mean 6  sd √2                D − C: mean 7.8  sd √2
COMMON = [10.0, 14.0, 9.0, 12.0, 15.0]
OFFSETS = {
    "A": [3.0, 1.0, 2.0, 2.0, 2.0],
    "B": [0.0, 0.0, 0.0, 0.0, 0.0],
    "C": [0.2, -0.8, 1.2, -0.8, 1.2],
    "D": [7.0, 9.0, 8.0, 8.0, 8.0],
}
N = 5
# α = 0.05; k = 4 candidates: α/2 over 2 × 3 one-sided statements against the best, and α/2
# over 3 two-sided comparisons with the base: both 1 − 0.025/6 here.
Q = 1 - 0.025 / 6


def hw(sd: float, q: float = Q, n: int = N) -> float:
    """A paired half-width from scipy's t quantile."""
    return float(stats.t.ppf(q, n - 1)) * sd / math.sqrt(n)


def table(metric: str = "loss", scale: float = 1.0) -> pd.DataFrame:
    rows = [
        {"configuration": c, "replication": r, metric: scale * (COMMON[r] + offsets[r])}
        for c, offsets in OFFSETS.items()
        for r in range(N)
    ]
    return pd.DataFrame(rows)


def absolute(delta: float) -> Indifference:
    return Indifference(delta, False, f"{delta:g}")


def fewest(sd: float, target: float, q: float) -> int:
    """The fewest n whose t half-width is within ``target`` (scipy, searched here)."""
    n = 2
    while float(stats.t.ppf(q, n - 1)) * sd / math.sqrt(n) > target:
        n += 1
    return n


# -- mcb: quantiles, half-widths, Bonferroni levels ---------------------------------------


@pytest.mark.parametrize(
    ("q", "df", "printed"),
    [(0.975, 1, 12.7062), (0.975, 4, 2.7764), (0.995, 9, 3.2498), (0.95, 30, 1.6973)],
)
def test_t_quantile_is_students_as_printed_in_the_tables(q: float, df: int, printed: float) -> None:
    assert t_quantile(q, df) == pytest.approx(printed, abs=1e-4)
    assert t_quantile(q, df) == pytest.approx(float(stats.t.ppf(q, df)), rel=1e-12)


def test_half_width_is_t_times_sd_over_root_n() -> None:
    assert Paired(5, 1.0, 2.0).half_width(0.975) == pytest.approx(2.7764451 * 2 / math.sqrt(5))
    assert Paired(2, 0.0, 1.0).half_width(0.975) == pytest.approx(12.7062047 / math.sqrt(2))
    # Fewer than two pairs, or no finite spread: nothing is known.
    assert Paired(1, 3.0, 0.0).half_width(0.975) == math.inf
    assert Paired(5, 0.0, math.nan).half_width(0.975) == math.inf
    assert Paired(5, 0.0, math.inf).half_width(0.975) == math.inf
    # An exact tie is exact at any level, even one whose quantile is infinite.
    assert Paired(5, 0.0, 0.0).half_width(1.0) == 0.0


def test_loss_is_the_metric_signed_so_that_lower_is_better() -> None:
    assert sign("minimize") == 1.0 and sign("maximize") == -1.0
    summary = pd.DataFrame(
        {
            "configuration": ["b", "a", "x", "b", "a"],
            "replication": [7, 3, 3, 3, 7],
            "m": [1.0, 2.0, 9.0, 3.0, 4.0],
        }
    )
    # Rows: replications 3 and 7 in order; columns: the candidates as given; x left out.
    expected = np.array([[2.0, 3.0, math.nan], [4.0, 1.0, math.nan]])
    np.testing.assert_array_equal(loss_matrix(summary, "m", ["a", "b", "c"], "minimize"), expected)
    np.testing.assert_array_equal(loss_matrix(summary, "m", ["a", "b", "c"], "maximize"), -expected)
    with pytest.raises(ValueError, match="no metric 'z'"):
        loss_matrix(summary, "z", ["a"], "minimize")


def test_means_and_pairs_skip_missing_runs_without_numpy_warnings() -> None:
    nan = math.nan
    loss = np.array(
        [[1.0, 2.0, nan, nan], [3.0, 7.0, nan, 5.0], [5.0, 6.0, 4.0, nan], [nan, 9.0, nan, nan]]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        means = column_means(np.column_stack([loss, np.full(4, nan)]))
        pairs = paired(loss)
    assert means[:4] == pytest.approx([3.0, 6.0, 4.0, 5.0]) and math.isnan(means[4])
    assert set(pairs) == {(i, j) for i in range(4) for j in range(4) if i != j}
    # 0 − 1 on replications 0-2 (the only ones both have): -1, -4, -1.
    assert (pairs[(0, 1)].n, pairs[(0, 1)].mean) == (3, pytest.approx(-2.0))
    assert pairs[(0, 1)].sd == pytest.approx(math.sqrt(3.0))  # deviations 1, -2, 1
    assert (pairs[(1, 0)].n, pairs[(1, 0)].mean, pairs[(1, 0)].sd) == (
        3, pytest.approx(2.0), pytest.approx(math.sqrt(3.0)))  # fmt: skip
    # 0 − 2 share replication 2 only: a mean, no spread; 2 − 3 share nothing.
    assert (pairs[(0, 2)].n, pairs[(0, 2)].mean) == (1, 1.0) and math.isnan(pairs[(0, 2)].sd)
    assert pairs[(2, 3)].n == 0 and math.isnan(pairs[(2, 3)].mean)
    # Two pairs are enough for a deviation: 1 − 3 on replication 1 alone is 2.
    assert (pairs[(1, 3)].n, pairs[(1, 3)].mean) == (1, 2.0)
    two = paired(np.array([[1.0, 0.0], [4.0, 0.0]]))[(0, 1)]
    assert (two.n, two.mean, two.sd) == (2, 2.5, pytest.approx(math.sqrt(4.5)))


def test_bonferroni_levels_are_alpha_over_every_statement() -> None:
    assert bonferroni(0.05, 4) == pytest.approx(1 - 0.05 / 4)
    assert bonferroni(0.05, 4, sides=2) == pytest.approx(1 - 0.05 / 8)
    assert bonferroni(0.05, 4, sides=2, looks=3) == pytest.approx(1 - 0.05 / 24)
    assert bonferroni(0.05, 5, looks=2) == pytest.approx(1 - 0.05 / 10)
    # No comparison (one candidate) or no look still leaves one statement.
    assert bonferroni(0.05, 0) == pytest.approx(0.95)
    assert bonferroni(0.05, 3, looks=0) == pytest.approx(1 - 0.05 / 3)


def test_replications_for_is_the_fewest_that_reach_the_target() -> None:
    q = 0.975
    n = replications_for(3.0, 1.0, q)
    assert n == fewest(3.0, 1.0, q) and n is not None and n > 30
    assert replications_for(1.0, 9.0, q) == 2  # 12.71 / √2 = 8.98 <= 9
    # A half-width exactly on the target is enough.
    target = float(stats.t.ppf(q, 4)) * 2.0 / math.sqrt(5)
    assert replications_for(2.0, target, q) == 5
    assert replications_for(3.0, 1.0, q, cap=n) == n
    assert replications_for(3.0, 1.0, q, cap=n - 1) is None
    assert replications_for(math.nan, 1.0, q) is None
    assert replications_for(math.inf, 1.0, q) is None
    assert replications_for(1.0, 0.0, q) is None and replications_for(1.0, -1.0, q) is None


def test_replications_for_searches_up_to_ten_thousand() -> None:
    q = 0.975  # t(0.975, n − 1) / √n crosses 0.0196 between n = 10,000 and 10,001
    at = float(stats.t.ppf(q, 9_999)) / math.sqrt(10_000)
    beyond = float(stats.t.ppf(q, 10_000)) / math.sqrt(10_001)
    assert replications_for(1.0, at, q) == 10_000
    assert replications_for(1.0, (at + beyond) / 2, q) is None


# -- mcb: Hsu's subset and bounds, from pairs given by hand -------------------------------


def pairs_of(entries: dict[tuple[int, int], tuple[int, float, float]]) -> dict:
    out = {}
    for (i, j), (n, mean, sd) in entries.items():
        out[(i, j)], out[(j, i)] = Paired(n, mean, sd), Paired(n, -mean, sd)
    return out


def test_may_be_best_keeps_those_not_beaten_by_more_than_their_interval() -> None:
    # Exact ties (sd 0): 1 beats 0 by 1 and 2 by 0.5; 3 ties with 1 exactly; 4 is beaten
    # by 1 only within a noisy interval. 5 is not eligible, and would beat everyone.
    pairs = pairs_of({
        (0, 1): (5, 1.0, 0.0), (0, 2): (5, 0.5, 0.0), (0, 3): (5, 1.0, 0.0),
        (0, 4): (5, 0.0, 1.0), (0, 5): (5, 9.0, 0.0), (1, 2): (5, -0.5, 0.0),
        (1, 3): (5, 0.0, 0.0), (1, 4): (5, -1.0, 1.0), (1, 5): (5, 9.0, 0.0),
        (2, 3): (5, 0.5, 0.0), (2, 4): (5, 0.5, 1.0), (2, 5): (5, 9.0, 0.0),
        (3, 4): (5, -1.0, 1.0), (3, 5): (5, 9.0, 0.0), (4, 5): (5, 9.0, 0.0),
    })  # fmt: skip
    assert may_be_best([0, 1, 2, 3, 4], pairs, 0.975) == [1, 3, 4]


def test_gap_bounds_of_the_worked_table_by_hand() -> None:
    """Hsu's constrained bounds for μ_i − min_{j≠i} μ_j: the high end against those that
    may be the best, the low end of a contender min(0, max over the others of
    d − w), of one shown not to be the best max(0, min over the contenders of d − w)."""
    a, b, c, d = 0, 1, 2, 3
    pairs = pairs_of({
        (b, a): (N, -2.0, math.sqrt(0.5)), (c, a): (N, -1.8, 1.0), (d, a): (N, 6.0, math.sqrt(2)),
        (c, b): (N, 0.2, 1.0), (d, b): (N, 8.0, math.sqrt(0.5)), (d, c): (N, 7.8, math.sqrt(2)),
    })  # fmt: skip
    everyone = [a, b, c, d]
    assert may_be_best(everyone, pairs, Q) == [b, c]  # A: 2 − 1.53 > 0; D far worse
    gap = {i: gap_interval(i, everyone, [b, c], pairs, Q) for i in everyone}
    half, one, two = hw(math.sqrt(0.5)), hw(1.0), hw(math.sqrt(2))
    assert gap[b] == pytest.approx((max(-2 - half, -0.2 - one, -8 - half), -0.2 + one))
    assert gap[c] == pytest.approx((max(-1.8 - one, 0.2 - one, -7.8 - two), 0.2 + one))
    assert gap[a] == pytest.approx((0.0, max(2 + half, 1.8 + one)))  # min(2 − half, 1.8 − one) < 0
    assert gap[d] == pytest.approx((min(8 - half, 7.8 - two), max(8 + half, 7.8 + two)))
    # The only contender: no rival, so it is at most 0 worse than the best; its low end
    # is the most it may be better by, against everyone.
    assert gap_interval(b, everyone, [b], pairs, Q) == pytest.approx((-0.2 - one, 0.0))
    assert gap_interval(b, [b], [b], pairs, Q) == (0.0, 0.0)  # alone: no gap at all
    # Clearly the best of two: its bounds are (−(d + w), 0), the other's (d − w, d + w).
    assert gap_interval(d, [b, d], [b], pairs, Q) == pytest.approx((8 - half, 8 + half))
    assert gap_interval(b, [b, d], [b], pairs, Q) == pytest.approx((-8 - half, 0.0))


def test_a_contender_shown_better_than_everyone_has_a_gap_below_zero() -> None:
    pairs = pairs_of({(0, 1): (N, -5.0, 1.0), (0, 2): (N, -6.0, 1.0), (1, 2): (N, -1.0, 3.0)})
    low, high = gap_interval(0, [0, 1, 2], [0], pairs, Q)
    assert low == pytest.approx(-5.0 - hw(1.0)) and high == 0.0
    low, high = gap_interval(1, [0, 1, 2], [0], pairs, Q)
    assert (low, high) == pytest.approx((5.0 - hw(1.0), 5.0 + hw(1.0)))
