"""Decisions on tables worked out by hand (docs/decisions.md): the standings, bounds,
comparisons with the base, verdict, resolution and notes of ``decide`` on the worked table
of tests/test_mcb_exact.py, each number from scipy's t quantile and the table's paired
means and deviations; and the boundaries (exactly δ, exactly on a constraint) on tables
whose differences are constant, so every half-width is 0 and every end exact."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.analysis.decision import (
    BEST,
    INFEASIBLE,
    MAYBE,
    NO_DATA,
    PROCEDURE,
    UNDECIDED,
    WITHIN,
    WORSE,
    Decision,
    Interval,
    decide,
)
from sim.analysis.objectives import Constraint, Indifference
from tests.test_mcb_exact import Q, absolute, fewest, hw, table

HALF, ONE, TWO = hw(math.sqrt(0.5)), hw(1.0), hw(math.sqrt(2))  # the three pair deviations


def by_name(decision: Decision) -> dict:
    return {s.candidate: s for s in decision.standings}


def test_the_worked_table_with_delta_1() -> None:
    decision = decide(table(), "loss", base="A", indifference=absolute(1.0))
    s = by_name(decision)
    assert list(s) == ["A", "B", "C", "D"] and decision.best == "B"
    assert {n: x.status for n, x in s.items()} == {"A": UNDECIDED, "B": BEST, "C": MAYBE,
                                                   "D": WORSE}  # fmt: skip
    assert {n: x.contender for n, x in s.items()} == {"A": False, "B": True, "C": True,
                                                      "D": False}  # fmt: skip
    assert {n: x.mean for n, x in s.items()} == pytest.approx({"A": 14, "B": 12, "C": 12.2,
                                                               "D": 20})  # fmt: skip
    assert all(x.replications == 5 and x.reason == "" for x in s.values())
    assert s["B"].gap == pytest.approx((-0.2 - ONE, -0.2 + ONE))
    assert s["C"].gap == pytest.approx((0.2 - ONE, 0.2 + ONE))
    assert s["A"].gap == pytest.approx((0.0, 1.8 + ONE))
    assert s["D"].gap == pytest.approx((7.8 - TWO, 7.8 + TWO))
    # Candidate − base, two-sided, Bonferroni over 3 comparisons at α/2.
    assert s["A"].vs_base == Interval(0.0, 0.0, 0.0)
    assert s["B"].vs_base.as_dict() == pytest.approx(
        {"mean": -2.0, "ci_low": -2 - HALF, "ci_high": -2 + HALF}
    )
    assert s["C"].vs_base.as_dict() == pytest.approx(
        {"mean": -1.8, "ci_low": -1.8 - ONE, "ci_high": -1.8 + ONE}
    )
    assert s["D"].vs_base.as_dict() == pytest.approx(
        {"mean": 6.0, "ci_low": 6 - TWO, "ci_high": 6 + TWO})  # fmt: skip
    assert decision.avoid == ["D"]  # 6 − 3.07 > 1
    # B is better than A, but not shown to be by more than δ: -2 + 1.53 > -1.
    assert decision.verdict == "keep-base" and decision.difference == s["B"].vs_base
    assert decision.equivalent == ["A", "B", "C"] and decision.proven == []
    # B is the best, but its gap may reach 1.97 > δ: not shown within δ of the others.
    assert decision.table["proven"].tolist() == [False, False, False, False]
    # Open: C and A, at half-widths 2.17 and 1.53 against B; their deviations 1 and √0.5.
    assert decision.resolution == pytest.approx((ONE + HALF) / 2) and not decision.resolved
    hint = fewest((1 + math.sqrt(0.5)) / 2, 1.0, Q)
    assert decision.replications_hint == hint == 9
    assert decision.notes == (
        "the intervals (±1.85) are wider than δ (1): candidates not told apart from the best "
        "may still differ from it by more than δ; about 9 replications per candidate would "
        "resolve δ",
    )


def test_the_worked_table_adopts_with_a_small_delta() -> None:
    decision = decide(table(), "loss", base="A", indifference=absolute(0.25), unit="s")
    assert decision.verdict == "adopt" and decision.best == "B"
    assert decision.difference is not None and decision.difference.ci_high < -0.25
    assert [x.status for x in decision.standings] == [UNDECIDED, BEST, MAYBE, WORSE]
    assert decision.replications_hint == fewest((1 + math.sqrt(0.5)) / 2, 0.25, Q)
    assert decision.notes[0].startswith("the intervals (±1.85 s) are wider than δ (0.25 s)")


def test_the_worked_table_with_a_wide_delta_is_resolved() -> None:
    decision = decide(table(), "loss", base="A", indifference=absolute(2.5))
    assert [x.status for x in decision.standings] == [UNDECIDED, BEST, WITHIN, WORSE]
    assert decision.proven == ["B", "C"]  # high ends 1.97 and 2.37 <= 2.5
    assert decision.avoid == ["D"] and decision.verdict == "keep-base"
    # Only A is open, at 1.53 <= 2.5: resolved, no hint, nothing to note.
    assert decision.resolution == pytest.approx(HALF) and decision.resolved
    assert decision.replications_hint is None and decision.notes == ()
    rows = decision.table.set_index("candidate")
    assert rows["proven"].to_dict() == {"A": False, "B": True, "C": True, "D": False}
    assert rows["equivalent"].to_dict() == {"A": True, "B": True, "C": True, "D": False}
    assert rows.loc["D"].to_dict() == pytest.approx({
        "mean": 20.0, "replications": 5, "gap_low": 7.8 - TWO, "gap_high": 7.8 + TWO,
        "vs_base_mean": 6.0, "vs_base_low": 6 - TWO, "vs_base_high": 6 + TWO,
        "status": WORSE, "equivalent": False, "proven": False, "avoid": True,
        "contender": False, "reason": "",
    })  # fmt: skip


def test_maximising_mirrors_the_worked_table() -> None:
    """The metric is minus the loss: the same standings and gaps (in the loss), the means
    and differences with the base in the metric's own sign."""
    decision = decide(table("gain", -1.0), "gain", base="A", direction="maximize",
                      indifference=absolute(0.25))  # fmt: skip
    s = by_name(decision)
    assert [x.status for x in decision.standings] == [UNDECIDED, BEST, MAYBE, WORSE]
    assert s["B"].mean == pytest.approx(-12.0) and s["D"].gap == pytest.approx(
        (7.8 - TWO, 7.8 + TWO)
    )
    assert s["B"].vs_base.as_dict() == pytest.approx(
        {"mean": 2.0, "ci_low": 2 - HALF, "ci_high": 2 + HALF}
    )
    assert s["D"].vs_base.as_dict() == pytest.approx(
        {"mean": -6.0, "ci_low": -6 - TWO, "ci_high": -6 + TWO})  # fmt: skip
    assert decision.avoid == ["D"] and decision.verdict == "adopt"  # 2 − 1.53 > 0.25
    assert decide(table("gain", -1.0), "gain", base="A", direction="maximize",
                  indifference=absolute(1.0)).verdict == "keep-base"  # fmt: skip


def test_an_excluded_candidate_leaves_the_best_with_fewer_comparisons() -> None:
    """Three eligible: the MCB level is 1 − 0.025/4; the comparisons with the base still
    count all three others (1 − 0.025/6)."""
    decision = decide(table(), "loss", base="A", indifference=absolute(1.0),
                      excluded={"C": "fails 'x'"})  # fmt: skip
    s = by_name(decision)
    half3 = hw(math.sqrt(0.5), 1 - 0.025 / 4)
    assert [x.status for x in decision.standings] == [UNDECIDED, BEST, INFEASIBLE, WORSE]
    assert s["B"].gap == pytest.approx((-2 - half3, 0.0))  # no rival left
    assert s["A"].gap == pytest.approx((2 - half3, 2 + half3))
    assert s["D"].gap == pytest.approx((8 - half3, 8 + half3))
    assert all(math.isnan(g) for g in s["C"].gap) and not s["C"].contender
    assert s["C"].reason == "fails 'x'" and s["C"].equivalent is False
    assert s["C"].vs_base.as_dict() == pytest.approx(
        {"mean": -1.8, "ci_low": -1.8 - ONE, "ci_high": -1.8 + ONE}
    )
    assert s["B"].vs_base.ci_high == pytest.approx(-2 + HALF)  # fmt: skip
    assert decision.resolution == pytest.approx(half3)
    assert decision.replications_hint == fewest(math.sqrt(0.5), 1.0, 1 - 0.025 / 4)
    assert decision.notes[1:] == ("C may not be chosen: fails 'x'",)


@pytest.mark.parametrize(
    ("alpha", "looks", "q"), [(0.05, 2, 1 - 0.025 / 12), (0.1, 1, 1 - 0.05 / 6)]
)
def test_alpha_is_split_over_the_looks(alpha: float, looks: int, q: float) -> None:
    decision = decide(table(), "loss", base="A", indifference=absolute(1.0), alpha=alpha,
                      looks=looks)  # fmt: skip
    s = by_name(decision)
    assert decision.looks == looks and decision.alpha == alpha
    assert s["C"].gap == pytest.approx((0.2 - hw(1.0, q), 0.2 + hw(1.0, q)))
    assert s["D"].vs_base.ci_low == pytest.approx(6 - hw(math.sqrt(2), q))


def test_relative_delta_is_a_share_of_the_base_mean_whatever_the_direction() -> None:
    zone = Indifference.parse("10%")
    decision = decide(table(), "loss", base="A", indifference=zone, unit="s")
    assert decision.delta == pytest.approx(1.4)  # 10 % of A's mean 14
    assert decision.zone == "10% of A's mean = 1.4 s"
    maximised = decide(table("gain", -1.0), "gain", base="A", direction="maximize",
                       indifference=zone)  # fmt: skip
    assert maximised.delta == pytest.approx(1.4)
    # A sequential procedure fixes δ at its first look: it is kept as given.
    assert decide(table(), "loss", base="A", indifference=zone, delta=0.7).delta == 0.7
    renamed = table().replace({"configuration": {"A": "base"}})
    assert decide(renamed, "loss", base="base", indifference=zone).zone == (
        "10% of the base's mean = 1.4"
    )
    assert decide(table(), "loss", base="A", indifference=absolute(1.0)).zone == "1"
    # An absolute δ: a bare number takes the metric's unit; one written with a unit stays.
    bare = decide(table(), "loss", base="A", indifference=absolute(1.5), unit="s")
    assert bare.zone == "1.5 s"
    written = decide(table(), "loss", base="A", indifference=Indifference.parse("200ms"),
                     unit="s")  # fmt: skip
    assert written.delta == pytest.approx(0.2) and written.zone == "200ms"
    # Without one, δ is the default: 2 % of the base's mean.
    assert decide(table(), "loss", base="A").delta == pytest.approx(0.28)


def test_bounds_exactly_on_delta() -> None:
    """δ set to a bound itself: a high end at δ is shown within δ, a low end at δ is not
    shown worse by more than δ; a resolution of exactly δ resolves it."""
    first = by_name(decide(table(), "loss", base="A", indifference=absolute(1.0)))
    at_c = decide(table(), "loss", base="A", delta=first["C"].gap[1])
    assert by_name(at_c)["C"].status == WITHIN and "C" in at_c.proven
    assert at_c.table.set_index("candidate")["proven"]["C"]
    at_d = decide(table(), "loss", base="A", delta=first["D"].gap[0])
    assert by_name(at_d)["D"].status == UNDECIDED
    two = table()[table()["configuration"].isin(["A", "B"])]
    resolution = decide(two, "loss", base="A", indifference=absolute(1.0)).resolution
    assert resolution == pytest.approx(hw(math.sqrt(0.5), 1 - 0.025 / 2))
    exact_ = decide(two, "loss", base="A", delta=resolution)
    assert exact_.resolved and exact_.replications_hint is None and exact_.notes == ()


def test_the_decision_as_json() -> None:
    decision = decide(table(), "loss", base="A", indifference=Indifference.parse("10%"))
    data = decision.as_dict()
    assert data == {
        "verdict": "keep-base", "metric": "loss", "direction": "minimize",
        "indifference": {"text": "10% of A's mean", "value": pytest.approx(1.4)},
        "alpha": 0.05, "procedure": PROCEDURE, "base": "A", "best": "B",
        "difference": pytest.approx({"mean": -2.0, "ci_low": -2 - HALF, "ci_high": -2 + HALF}),
        "equivalent": ["A", "B", "C"], "proven_equivalent": [], "avoid": ["D"],
        "resolution": pytest.approx((ONE + HALF) / 2),
        "replications_to_resolve": fewest((1 + math.sqrt(0.5)) / 2, 1.4, Q),
        "notes": list(decision.notes),
    }  # fmt: skip
    assert len(data["notes"]) == 1
    kept = decide(table(), "loss", base="B", indifference=absolute(1.0)).as_dict()
    assert kept["best"] == "B" and kept["difference"] is None and kept["verdict"] == "keep-base"


# -- boundaries: constant differences, every half-width 0 ---------------------------------


def exact(values: dict[str, list[float]], metric: str = "loss") -> pd.DataFrame:
    return pd.DataFrame(
        [{"configuration": c, "replication": r, metric: v}
         for c, vs in values.items() for r, v in enumerate(vs)]
    )  # fmt: skip


X = [1.0, 2.0, 3.0, 4.0]
TIES = {"X": X, "Y": [v + 1.0 for v in X], "Z": [v + 0.5 for v in X]}


@pytest.mark.parametrize(("direction", "scale"), [("minimize", 1.0), ("maximize", -1.0)])
def test_exactly_delta_is_within_and_not_worse(direction: str, scale: float) -> None:
    values = {c: [scale * v for v in vs] for c, vs in TIES.items()}
    decision = decide(exact(values), "loss", base="X", direction=direction,  # type: ignore[arg-type]
                      indifference=absolute(0.5))  # fmt: skip
    s = by_name(decision)
    assert (s["X"].status, s["Y"].status, s["Z"].status) == (BEST, WORSE, WITHIN)
    assert s["Z"].gap == (0.5, 0.5) and s["Y"].gap == (1.0, 1.0) and s["X"].gap == (-0.5, 0.0)
    assert s["Z"].vs_base.as_dict() == {"mean": 0.5 * scale, "ci_low": 0.5 * scale,
                                        "ci_high": 0.5 * scale}  # fmt: skip
    assert decision.avoid == ["Y"]  # Z is exactly δ worse than the base: not more
    assert decision.proven == ["X", "Z"] and decision.resolution == 0.0


@pytest.mark.parametrize(("direction", "scale"), [("minimize", 1.0), ("maximize", -1.0)])
def test_adopting_needs_more_than_delta(direction: str, scale: float) -> None:
    values = {c: [scale * v for v in vs] for c, vs in TIES.items()}
    at = decide(exact(values), "loss", base="Y", direction=direction,  # type: ignore[arg-type]
                indifference=absolute(1.0))  # fmt: skip
    assert at.best == "X" and at.verdict == "keep-base"
    assert at.difference == Interval(-scale, -scale, -scale)
    beyond = decide(exact(values), "loss", base="Y", direction=direction,  # type: ignore[arg-type]
                    indifference=absolute(0.99))  # fmt: skip
    assert beyond.verdict == "adopt"


def test_one_replication_says_nothing_and_gives_no_hint() -> None:
    decision = decide(exact({"X": [1.0], "Y": [2.0]}), "loss", base="Y",
                      indifference=absolute(1.0))  # fmt: skip
    s = by_name(decision)
    assert (s["X"].status, s["Y"].status) == (BEST, MAYBE)
    assert s["Y"].gap == (-math.inf, math.inf) and s["Y"].vs_base == Interval(0.0, 0.0, 0.0)
    assert s["X"].vs_base == Interval(-1.0, -math.inf, math.inf)
    assert decision.resolution == math.inf and decision.replications_hint is None
    assert decision.notes == (
        "the intervals (±∞) are wider than δ (1): candidates not told apart from the best "
        "may still differ from it by more than δ",
    )


def test_constraints_hold_on_the_whole_interval() -> None:
    summary = exact(TIES)
    # X: 1.7 on average but its interval reaches past 2; Y exactly 2; Z at 1.
    summary["p99"] = [1.5, 2.5, 1.5, 1.5] + [2.0] * 4 + [1.0] * 4
    strict = decide(summary, "loss", base="Y", indifference=absolute(0.1),
                    constraints=[Constraint.parse("p99<2")])  # fmt: skip
    s = by_name(strict)
    assert (s["X"].status, s["Y"].status, s["Z"].status) == (INFEASIBLE, INFEASIBLE, BEST)
    assert s["X"].reason == "p99 < 2 not shown" and strict.best == "Z"
    assert strict.notes == ("X may not be chosen: p99 < 2 not shown",
                            "Y may not be chosen: p99 < 2 not shown")  # fmt: skip
    at_most = decide(summary, "loss", base="Y", indifference=absolute(0.1),
                     constraints=[Constraint.parse("p99<=2")])  # fmt: skip
    assert [x.status for x in at_most.standings] == [INFEASIBLE, WORSE, BEST]
    assert at_most.verdict == "adopt"
    # At least: the interval's low end must reach the bound, however close its high end.
    summary["p99"] = [1.5, 2.5, 1.5, 1.5] + [3.0] * 4 + [1.0] * 4
    at_least = decide(summary, "loss", base="Y", indifference=absolute(0.1),
                      constraints=[Constraint.parse("p99>1.2")])  # fmt: skip
    assert [x.status for x in at_least.standings] == [INFEASIBLE, BEST, INFEASIBLE]
    # A constraint on a metric the summary lacks, or on missing values, is not shown.
    summary["p99"] = [math.nan] * 4 + [1.0] * 8
    for limit in ("p99<2", "p50<2"):
        decision = decide(summary, "loss", base="Y", indifference=absolute(0.1),
                          constraints=[Constraint.parse(limit)])  # fmt: skip
        assert by_name(decision)["X"].status == INFEASIBLE
    nothing = decide(summary, "loss", base="Y", constraints=[Constraint.parse("p50<2")])
    assert nothing.best is None and nothing.verdict == "keep-base" and nothing.difference is None
    assert nothing.notes[0] == "no candidate may be chosen" and nothing.resolution == 0.0


def test_missing_data_is_said() -> None:
    values = {"X": [1.0, 2.0, math.nan, 4.0], "Y": [2.0, 3.0, 4.0, 5.0], "E": [math.nan] * 4}
    decision = decide(exact(values), "loss", base="Y", indifference=absolute(0.5))
    s = by_name(decision)
    assert (s["X"].replications, s["Y"].replications, s["E"].replications) == (3, 4, 0)
    assert s["E"].status == NO_DATA and s["E"].reason == NO_DATA and not s["E"].equivalent
    assert decision.best == "X" and s["X"].vs_base.mean == -1.0
    assert not any("E" in note for note in decision.notes)
    for zone in (Indifference.parse("2%"), absolute(0.5)):
        no_base = decide(exact(values), "loss", base="E", indifference=zone)
        assert math.isnan(no_base.delta) and "the base 'E' has no data on loss" in no_base.notes
        assert no_base.avoid == [] and no_base.verdict == "keep-base"
    zero = decide(exact({"X": [0.0, 0.0], "Y": [1.0, -1.0]}), "loss", base="X")
    assert zero.delta == 0.0
    assert "δ is 0 (the base's mean is 0): any shown improvement counts" in zero.notes


def test_equivalence_by_status() -> None:
    decision = decide(table(), "loss", base="A", indifference=absolute(1.0),
                      excluded={"C": "x"})  # fmt: skip
    assert {s.status: s.equivalent for s in decision.standings} == {
        UNDECIDED: True, BEST: True, INFEASIBLE: False, WORSE: False}  # fmt: skip
    assert by_name(decide(table(), "loss", base="A", indifference=absolute(1.0)))["C"].equivalent
