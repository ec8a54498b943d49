"""A decision over settings as its tables and sentences show it (sim.analysis.landscape),
and a study's verdict on fresh seeds (sim.analysis.confirmation), on tables worked out by
hand: the worked table of tests/test_mcb_exact.py, and fresh differences whose t interval
is computed here with scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.confirmation import StudyDecision, conclude
from sim.analysis.decision import decide
from sim.analysis.landscape import Landscape, landscape
from sim.analysis.objectives import Constraint, DecisionSettings, Indifference
from sim.analysis.region import Region
from tests.test_decision_exact import exact
from tests.test_mcb_exact import absolute, hw, table

HALF, TWO = hw(math.sqrt(0.5)), hw(math.sqrt(2))
VALUES = {
    "A": {"p.x": 1.0, "p.mode": "fixed"},
    "B": {"p.x": 2.0, "p.mode": "exp"},
    "C": {"p.x": 3.0, "p.mode": "exp"},
    "D": {"p.x": 4.0, "p.mode": "fixed"},
}
PARAMS = ["p.x", "p.mode"]
SECONDS = {"p.x": lambda v: f"{v:g}s"}


def worked(delta: float) -> Landscape:
    decision = decide(table(), "loss", base="A", indifference=absolute(delta))
    return landscape(decision, VALUES, PARAMS, SECONDS)


def test_each_point_with_its_values_and_the_difference_the_data_support() -> None:
    land = worked(1.0)
    points = land.points.set_index("candidate")
    assert points["p.x"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert points["p.mode"].tolist() == ["fixed", "exp", "exp", "fixed"]
    assert points["is_base"].tolist() == [True, False, False, False]
    assert points["best"].tolist() == [False, True, False, False]
    # The end of the interval nearest 0, or 0 when the interval holds 0.
    assert points["supported"].tolist() == pytest.approx([0.0, -2 + HALF, 0.0, 6 - TWO])
    assert land.params == PARAMS and land.unexercised == {}
    assert land.region == Region(
        {"p.x": (1.0, 3.0), "p.mode": ("exp", "fixed")}, ("A", "B", "C"), ()
    )


def test_values_labels_and_the_region_for_people() -> None:
    land = worked(1.0)
    assert land.values("B") == {"p.x": 2, "p.mode": "exp"}
    assert isinstance(land.values("B")["p.x"], int) and land.values(None) == {}
    assert land.settings(["A", "D"]) == [{"p.x": 1, "p.mode": "fixed"},
                                         {"p.x": 4, "p.mode": "fixed"}]  # fmt: skip
    assert land.label("B") == "x=2s mode=exp"
    assert land.show("p.x", 2.5) == "2.5s" and land.show("q", 1234.0) == "1,234"
    assert land.show("p.x", math.nan) == "nan" and land.show("p.mode", "exp") == "exp"
    assert land.region_text() == "x 1s–3s, mode in {exp, fixed}"
    one = Landscape(land.decision, land.points, PARAMS, Region({"p.x": (2.0, 2.0)}, ("B",), ()),
                    SECONDS)  # fmt: skip
    assert one.region_text() == "x 2s"
    cut = Landscape(land.decision, land.points, ["p.x"],
                    Region({"p.x": (2.0, 3.0)}, ("B", "C"), ("A",)))  # fmt: skip
    assert cut.region_text() == "x 2–3 (1 equivalent setting(s) outside this box)"
    empty = Landscape(land.decision, land.points, PARAMS, Region({}, (), ()))
    assert empty.region_text() == "none (no setting is equivalent to the best)"


def test_a_parameter_of_whole_numbers_stays_whole() -> None:
    decision = decide(table(), "loss", base="A", indifference=absolute(1.0))
    land = landscape(decision, {c: {"n": i + 1} for i, c in enumerate("ABCD")}, ["n"])
    assert land.values("C") == {"n": 3} and land.label("C") == "n=3"
    assert land.region.bounds == {"n": (1.0, 3.0)} and land.region_text() == "n 1–3"


def test_what_to_do_in_a_few_lines() -> None:
    assert worked(1.0).summary_lines() == [
        "keep the base: no setting beats it on loss by more than δ = 1; best by mean: "
        "x=2s mode=exp",
        "equivalent region (cannot be told apart from the best within δ; 0 of 3 shown "
        "within δ): x 1s–3s, mode in {exp, fixed}",
        "avoid: x=4s mode=fixed",
        "note: the intervals (±1.85) are wider than δ (1): candidates not told apart from "
        "the best may still differ from it by more than δ; about 9 replications per "
        "candidate would resolve δ",
    ]
    lines = worked(0.25).summary_lines()
    assert (
        lines[0]
        == "adopt x=2s mode=exp: loss -2.0 [-3.5 to -0.5] against the base, beyond δ = 0.25"
    )
    assert (
        worked(3.0)
        .summary_lines()[1]
        .startswith("equivalent region (cannot be told apart from the best within δ; 2 of 3 shown")
    )
    # The base is the best: nothing better to name, nothing to avoid.
    ties = exact({"X": [1.0, 2.0], "Y": [2.0, 3.0]})
    base = landscape(decide(ties, "loss", base="X", indifference=absolute(0.5)),
                     {"X": {"k": 1.0}, "Y": {"k": 2.0}}, ["k"])  # fmt: skip
    assert base.summary_lines() == [
        "keep the base: no setting beats it on loss by more than δ = 0.5",
        "equivalent region (cannot be told apart from the best within δ; 1 of 1 shown "
        "within δ): k 1",
        "avoid: k=2",
    ]


def test_a_gain_when_higher_is_better_reads_with_its_sign_and_unit() -> None:
    """The worked table negated and maximised: B gains +2 ± HALF s over A, so the low end
    (2 − 1.53 = 0.47) is what the data support; D loses 6 ± TWO, its high end -2.93."""
    decision = decide(table(scale=-1.0), "loss", base="A", direction="maximize",
                      indifference=absolute(0.25), unit="s")  # fmt: skip
    land = landscape(decision, VALUES, PARAMS, SECONDS)
    assert land.points["supported"].tolist() == pytest.approx([0.0, 2 - HALF, 0.0, -6 + TWO])
    assert land.summary_lines()[0] == (
        "adopt x=2s mode=exp: loss +2.0 [+0.5 to +3.5] s against the base, beyond δ = 0.25 s"
    )


def test_every_candidate_shown_worse_is_named_to_avoid() -> None:
    rows = exact({"X": [1.0, 2.0, 1.5], "Y": [11.0, 12.0, 11.6], "Z": [21.0, 22.0, 21.4]})
    land = landscape(decide(rows, "loss", base="X", indifference=absolute(0.5)),
                     {"X": {"k": 1.0}, "Y": {"k": 2.0}, "Z": {"k": 3.0}}, ["k"])  # fmt: skip
    assert land.summary_lines()[2] == "avoid: k=2; k=3"


def test_a_value_a_candidate_lacks_is_nan() -> None:
    decision = decide(table(), "loss", base="A", indifference=absolute(1.0))
    values = {"A": {"p.x": 1.0, "p.mode": "fixed"}, "B": {"p.x": 2.0},
              "C": {"p.x": 3.0, "p.mode": "exp"}}  # D has none at all  # fmt: skip
    points = landscape(decision, values, PARAMS).points.set_index("candidate")
    assert points.loc["A", "p.mode"] == "fixed" and points.loc["C", "p.x"] == 3.0
    for candidate, path in [("B", "p.mode"), ("D", "p.x"), ("D", "p.mode")]:
        value = points.loc[candidate, path]
        assert isinstance(value, float) and math.isnan(value)


def test_a_parameter_no_candidate_has_is_nan_throughout() -> None:
    decision = decide(table(), "loss", base="A", indifference=absolute(1.0))
    land = landscape(decision, VALUES, ["p.x", "p.other"])
    assert all(isinstance(v, float) and math.isnan(v) for v in land.points["p.other"])
    assert land.label("A") == "x=1 other=nan"


def test_no_difference_to_show_when_the_base_is_the_best() -> None:
    ties = exact({"X": [1.0, 2.0], "Y": [2.0, 3.0]})
    land = landscape(decide(ties, "loss", base="X", indifference=absolute(0.5)),
                     {"X": {"k": 1.0}, "Y": {"k": 2.0}}, ["k"])  # fmt: skip
    assert land.decision.difference is None and land.as_dict()["difference"] is None
    assert land.as_dict()["best"] == land.as_dict()["base"] == {"k": 1}


def test_a_deep_path_is_named_by_its_last_part_and_mixed_values_keep_their_unit() -> None:
    """``a.b.t`` reads ``t``; a parameter with a duration or ``off`` is a set of values,
    each shown as the parameter shows it (1 → ``1s``)."""
    decision = decide(table(), "loss", base="A", indifference=absolute(1.0))
    values = {"A": {"a.b.t": 1.0}, "B": {"a.b.t": "off"}, "C": {"a.b.t": "off"},
              "D": {"a.b.t": 2.0}}  # fmt: skip
    land = landscape(decision, values, ["a.b.t"], {"a.b.t": lambda v: f"{v:g}s"})
    assert land.label("A") == "t=1s" and land.label("B") == "t=off"
    assert land.region_text() == "t in {1s, off}"


def test_the_landscape_as_json() -> None:
    land = worked(0.25)
    assert land.as_dict() == {
        "verdict": "adopt", "metric": "loss", "direction": "minimize",
        "indifference": {"text": "0.25", "value": 0.25}, "alpha": 0.05,
        "base": {"p.x": 1, "p.mode": "fixed"}, "best": {"p.x": 2, "p.mode": "exp"},
        "difference": pytest.approx({"mean": -2.0, "ci_low": -2 - HALF, "ci_high": -2 + HALF}),
        "equivalent": [{"p.x": 1, "p.mode": "fixed"}, {"p.x": 2, "p.mode": "exp"},
                       {"p.x": 3, "p.mode": "exp"}],
        "proven_equivalent": [], "avoid": [{"p.x": 4, "p.mode": "fixed"}],
        "region": {"p.x": [1.0, 3.0], "p.mode": ["exp", "fixed"]},
        "resolution": pytest.approx(land.decision.resolution),
        "replications_to_resolve": land.decision.replications_hint,
        "notes": list(land.decision.notes),
    }  # fmt: skip


# -- the study's verdict on fresh seeds ----------------------------------------------------

T3 = float(stats.t.ppf(0.975, 3))
GAIN = [-3.0, -2.0, -4.0, -3.0]  # tuned − base: mean -3, sd √(2/3)
HALF3 = T3 * math.sqrt(2 / 3) / 2  # 1.30


def selection(delta: float, best_is_base: bool = False, **kw: object) -> Landscape:
    shift = 1.0 if best_is_base else -3.0
    base = [10.0, 12.0, 11.0, 13.0]
    rows = exact({"base": base, "finalist 1": [b + 3.0 for b in base],
                  "finalist 2": [b + shift for b in base]})  # fmt: skip
    decision = decide(rows, "loss", base="base", indifference=absolute(delta), **kw)  # type: ignore[arg-type]
    values = {"base": {"x": 1.0}, "finalist 1": {"x": 2.0}, "finalist 2": {"x": 3.0}}
    return landscape(decision, values, ["x"])


def fresh(gain: list[float], scale: float = 1.0, p99: list[float] | None = None) -> pd.DataFrame:
    base = [10.0, 12.0, 11.0, 13.0]
    rows = exact({"base": [scale * b for b in base],
                  "tuned": [scale * (b + g) for b, g in zip(base, gain, strict=True)]})  # fmt: skip
    if p99 is not None:
        rows["p99"] = [1.0] * 4 + p99
    return rows


def test_adopted_when_the_fresh_interval_lies_beyond_delta() -> None:
    verdict = conclude(selection(1.0), fresh(GAIN), DecisionSettings("loss"), 4)
    assert (verdict.verdict, verdict.winner, verdict.notes) == ("adopt", "finalist 2", ())
    assert verdict.difference is not None
    assert verdict.difference.as_dict() == pytest.approx(
        {"mean": -3.0, "ci_low": -3 - HALF3, "ci_high": -3 + HALF3})  # fmt: skip
    assert verdict.fresh_replications == 4 and verdict.runs == {}


def test_better_but_not_by_delta_keeps_the_base() -> None:
    verdict = conclude(selection(2.0), fresh(GAIN), DecisionSettings("loss"), 4)
    assert verdict.verdict == "keep-base"
    assert verdict.notes == (
        "on fresh seeds the winner is better than the base (-3.0 [-4.3 to -1.7]) but not "
        "shown to be by more than δ (2)",
    )
    noise = conclude(selection(1.0), fresh([-3.0, 2.0, -4.0, 3.0]), DecisionSettings("loss"), 4)
    assert noise.verdict == "keep-base" and noise.notes == (
        "on fresh seeds the winner is not shown better than the base (0 [-6 to +5]): the "
        "search's gain was noise or too small to matter",
    )


def test_the_fresh_interval_is_at_one_minus_alpha() -> None:
    verdict = conclude(selection(1.0), fresh(GAIN), DecisionSettings("loss", alpha=0.1), 4)
    half = float(stats.t.ppf(0.95, 3)) * math.sqrt(2 / 3) / 2
    assert verdict.difference is not None
    assert (verdict.difference.ci_low, verdict.difference.ci_high) == pytest.approx(
        (-3 - half, -3 + half))  # fmt: skip


def test_maximising_adopts_when_the_low_end_lies_beyond_delta() -> None:
    choice = DecisionSettings("loss", direction="maximize")
    land = landscape(decide(exact({"base": [1.0, 2.0], "finalist 1": [5.0, 6.1]}), "loss",
                            base="base", direction="maximize", indifference=absolute(1.0)),
                     {"base": {"x": 1.0}, "finalist 1": {"x": 2.0}}, ["x"])  # fmt: skip
    verdict = conclude(land, fresh(GAIN, -1.0), choice, 4)
    assert verdict.verdict == "adopt"
    assert verdict.difference is not None and verdict.difference.mean == pytest.approx(3.0)
    wide = conclude(land, fresh([3.0, -2.0, 4.0, -3.0], -1.0), choice, 4)
    assert wide.verdict == "keep-base" and "is not shown better" in wide.notes[0]
    small = conclude(land, fresh([-0.5, -0.4, -0.6, -0.5], -1.0), choice, 4)
    assert small.verdict == "keep-base" and "is better than the base" in small.notes[0]


def test_a_winner_that_breaks_a_constraint_on_fresh_seeds_is_not_adopted() -> None:
    choice = DecisionSettings("loss", constraints=(Constraint.parse("p99<2"),))
    broken = conclude(selection(1.0), fresh(GAIN, p99=[1.5, 2.5, 1.5, 2.5]), choice, 4)
    assert broken.verdict == "keep-base"
    assert broken.notes == ("on fresh seeds the winner does not meet: p99 < 2",)
    met = conclude(selection(1.0), fresh(GAIN, p99=[1.0, 1.2, 1.1, 1.0]), choice, 4)
    assert met.verdict == "adopt" and met.notes == ()
    missing = conclude(selection(1.0), fresh(GAIN, p99=[math.nan] * 4), choice, 4)
    assert missing.verdict == "keep-base" and "does not meet" in missing.notes[0]


def test_no_winner_or_the_base_as_winner_keeps_the_base() -> None:
    land = selection(1.0, excluded={"base": "x", "finalist 1": "x", "finalist 2": "x"})
    assert conclude(land, fresh(GAIN), DecisionSettings("loss"), 4) == StudyDecision(
        "keep-base", land, None, None, 0, ("no finalist may be chosen",))  # fmt: skip
    base = selection(1.0, best_is_base=True)
    expected = StudyDecision("keep-base", base, "base", None, 0,
                             ("the base is the best of the selection stage (δ = 1)",))  # fmt: skip
    assert conclude(base, fresh(GAIN), DecisionSettings("loss"), 4) == expected
    untested = selection(1.0)
    assert conclude(untested, None, DecisionSettings("loss"), 4).notes == expected.notes


def test_the_study_decision_as_json() -> None:
    land = selection(1.0)
    data = conclude(land, fresh(GAIN), DecisionSettings("loss"), 4).as_dict()
    assert data == {
        "verdict": "adopt", "metric": "loss", "direction": "minimize",
        "indifference": {"text": "1", "value": 1.0}, "alpha": 0.05,
        "winner": {"x": 3}, "winner_is_base": False,
        "difference": pytest.approx({"mean": -3.0, "ci_low": -3 - HALF3, "ci_high": -3 + HALF3}),
        "fresh_replications": 4, "equivalent": [{"x": 3}], "proven_equivalent": [{"x": 3}],
        "avoid": [{"x": 2}], "region": {"x": [3.0, 3.0]},
        "selection": {"looks": 1, "replications": {"base": 4, "finalist 1": 4, "finalist 2": 4},
                      "resolution": 0.0},
        "notes": [],
    }  # fmt: skip
    relative = selection(1.0)
    assert (
        conclude(relative, None, DecisionSettings("loss"), 4).as_dict()["winner_is_base"] is False
    )


def rising(delta: float = 1.0, unit: str = "") -> Landscape:
    """A maximised selection stage whose finalist 1 is the winner."""
    rows = exact({"base": [1.0, 2.0], "finalist 1": [5.0, 6.1]})
    decision = decide(rows, "loss", base="base", direction="maximize",
                      indifference=absolute(delta), unit=unit)  # fmt: skip
    return landscape(decision, {"base": {"x": 1.0}, "finalist 1": {"x": 2.0}}, ["x"])


def test_the_fresh_notes_carry_the_unit_and_a_gain_its_sign() -> None:
    """GAIN's interval -3 ± 1.30 s; a gain of 0.5 ± T3·√(0.02/3)/2 = 0.5 ± 0.13 s."""
    better = conclude(selection(2.0, unit="s"), fresh(GAIN), DecisionSettings("loss"), 4)
    assert better.notes == (
        "on fresh seeds the winner is better than the base (-3.0 [-4.3 to -1.7] s) but not "
        "shown to be by more than δ (2 s)",
    )
    noise = conclude(selection(1.0, unit="s"), fresh([-3.0, 2.0, -4.0, 3.0]),
                     DecisionSettings("loss"), 4)  # fmt: skip
    assert noise.notes[0].startswith("on fresh seeds the winner is not shown better than the "
                                     "base (0 [-6 to +5] s)")  # fmt: skip
    gain = conclude(rising(unit="s"), fresh([-0.5, -0.4, -0.6, -0.5], -1.0),
                    DecisionSettings("loss", direction="maximize"), 4)  # fmt: skip
    assert gain.notes == (
        "on fresh seeds the winner is better than the base (+0.50 [+0.37 to +0.63] s) but not "
        "shown to be by more than δ (1 s)",
    )


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_a_winner_identical_to_the_base_on_fresh_seeds_is_not_shown_better(
    direction: str,
) -> None:
    """Every fresh difference 0 (a winner whose breaker never acts gives the base's runs on
    common random numbers): the interval is the single point 0, not better."""
    land = selection(1.0) if direction == "minimize" else rising()
    verdict = conclude(land, fresh([0.0] * 4), DecisionSettings("loss", direction=direction), 4)  # type: ignore[arg-type]
    assert verdict.verdict == "keep-base"
    assert verdict.notes == (
        "on fresh seeds the winner is not shown better than the base (0): the search's gain "
        "was noise or too small to matter",
    )


def test_a_fresh_interval_ending_exactly_on_delta_is_not_beyond_it() -> None:
    """δ set to the distance of the interval's near end from 0 (scipy's t, 3 degrees of
    freedom): the interval reaches δ but does not lie beyond it."""
    sem = math.sqrt(2 / 3) / 2
    high = float(stats.t.interval(0.95, 3, loc=-3.0, scale=sem)[1])
    verdict = conclude(selection(-high), fresh(GAIN), DecisionSettings("loss"), 4)
    assert verdict.verdict == "keep-base" and "not shown to be by more" in verdict.notes[0]
    low = float(stats.t.interval(0.95, 3, loc=3.0, scale=sem)[0])
    maximize = DecisionSettings("loss", direction="maximize")
    rises = conclude(rising(low), fresh(GAIN, -1.0), maximize, 4)
    assert rises.verdict == "keep-base" and "not shown to be by more" in rises.notes[0]


def test_every_constraint_the_winner_breaks_is_named() -> None:
    limits = (Constraint.parse("p99<2"), Constraint.parse("p99<1.9"))
    broken = conclude(selection(1.0), fresh(GAIN, p99=[1.5, 2.5, 1.5, 2.5]),
                      DecisionSettings("loss", constraints=limits), 4)  # fmt: skip
    assert broken.notes == ("on fresh seeds the winner does not meet: p99 < 2, p99 < 1.9",)


@pytest.mark.parametrize(
    ("op", "end", "adopted"),
    [
        (">=", 0, True),  # the low end on the bound: every value in it meets >=
        ("<=", 1, True),  # the high end on the bound: meets <=
        (">", 0, False),  # the bound itself misses >
    ],
)
def test_a_fresh_constraint_whose_interval_ends_on_the_bound(
    op: str, end: int, adopted: bool
) -> None:
    """The winner's fresh p99 [1.5, 2.5, 1.5, 2.5]: 2 ± T3·(1/√3)/2 (scipy's t)."""
    p99 = [1.5, 2.5, 1.5, 2.5]
    sem = float(np.std(p99, ddof=1)) / 2
    bound = float(stats.t.interval(0.95, 3, loc=2.0, scale=sem)[end])
    choice = DecisionSettings("loss", constraints=(Constraint("p99", op, bound),))
    verdict = conclude(selection(1.0), fresh(GAIN, p99=p99), choice, 4)
    assert (verdict.verdict == "adopt") is adopted


def test_a_fresh_interval_just_under_a_lower_bound_does_not_meet_it() -> None:
    """p99 2 ± 0.92: its low end 1.08 is 0.42 under a bound of 1.5, so >= 1.5 is not met."""
    choice = DecisionSettings("loss", constraints=(Constraint.parse("p99>=1.5"),))
    verdict = conclude(selection(1.0), fresh(GAIN, p99=[1.5, 2.5, 1.5, 2.5]), choice, 4)
    assert verdict.verdict == "keep-base"
    assert verdict.notes == ("on fresh seeds the winner does not meet: p99 >= 1.5",)


def test_a_relative_delta_is_described_against_the_base() -> None:
    rows = exact({"base": [10.0, 12.0, 11.0, 13.0], "finalist 1": [13.0, 15.0, 14.0, 16.0],
                  "finalist 2": [7.0, 9.0, 8.0, 10.0]})  # fmt: skip
    decision = decide(rows, "loss", base="base", indifference=Indifference(0.02, True, "2%"))
    land = landscape(decision, {"base": {"x": 1.0}, "finalist 1": {"x": 2.0},
                                "finalist 2": {"x": 3.0}}, ["x"])  # fmt: skip
    data = conclude(land, fresh(GAIN), DecisionSettings("loss"), 4).as_dict()
    assert data["indifference"] == {"text": "2% of the base's mean", "value": pytest.approx(0.23)}
