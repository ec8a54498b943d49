"""The racing plan's arithmetic, each look's drops and stop on the worked table of
tests/test_mcb_exact.py, and the region of equivalent settings on small tables worked out
by hand (docs/decisions.md: the box around the equivalent settings, shrunk until no
evaluated setting outside the equivalent set lies in it, each cut keeping the most)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis.decision import INFEASIBLE, MAYBE, WITHIN
from sim.analysis.objectives import Constraint
from sim.analysis.region import Region, region
from sim.analysis.selection import EQUIVALENT, LAST_LOOK, SEPARATED, Plan, look, plan_looks
from tests.test_mcb_exact import absolute, table

# -- the plan ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "candidates", "counts"),
    [
        (50, 5, (5, 8, 10)),  # 5 each, 25 left = 5 each more, in steps of ⌈2.5⌉ and 5
        (100, 4, (5, 15, 25)),  # 80 left: 20 each, in two steps of 10
        (61, 4, (5, 10, 15)),  # 41 left: 10 each (the odd run unused)
        (67, 4, (5, 11, 16)),  # 47 left: 11 each, the first step rounded up
        (23, 4, (5,)),  # 5 each fit, nothing left for a second look
        (10, 3, (3,)),  # fewer than 5 each: as many as fit
        (10, 5, (2,)),  # exactly 2 each
        (20, 1, (5, 13, 20)),
    ],
)
def test_looks_follow_the_budget(budget: int, candidates: int, counts: tuple[int, ...]) -> None:
    plan = plan_looks(budget, candidates)
    assert plan == Plan(counts, candidates)
    assert plan.looks == len(counts) and plan.most_runs == counts[-1] * candidates <= budget


def test_the_first_look_and_the_number_of_looks_can_be_set() -> None:
    assert plan_looks(50, 5, first=3).counts == (3, 7, 10)  # 35 left: 7 each
    assert plan_looks(50, 5, most=2).counts == (5, 10)
    assert plan_looks(50, 5, most=4).counts == (5, 7, 9, 10)  # ⌈5/3⌉, ⌈10/3⌉, 5
    assert plan_looks(50, 5, first=1).counts[0] == 2  # never under 2


@pytest.mark.parametrize(("budget", "candidates"), [(9, 5), (1, 1), (0, 0), (10, -1)])
def test_a_budget_without_two_replications_each_is_refused(budget: int, candidates: int) -> None:
    with pytest.raises(ValueError) as error:
        plan_looks(budget, candidates)
    assert str(error.value) == (
        f"a budget of {budget} runs cannot give {candidates} candidates 2 replications each"
    )


# -- a look --------------------------------------------------------------------------------


def race_look(alive: list[str], plan: Plan, index: int, delta: float, **kw: object):
    return look(table(), alive, "loss", base="A", plan=plan, index=index,
                indifference=absolute(delta), **kw)  # type: ignore[arg-type]  # fmt: skip


def test_a_look_drops_those_shown_not_to_be_the_best() -> None:
    """Worked table: B and C may be the best; A and D are shown worse than B."""
    step = race_look(["A", "B", "C", "D"], Plan((5, 10), 4), 0, 1.0, unit="s")
    assert (step.alive, step.dropped, step.stop) == (("B", "C"), ("A", "D"), None)
    assert step.decision.looks == 2 and step.decision.unit == "s"
    assert step.decision.delta == 1.0


def test_a_look_stops_at_the_last_look_when_nothing_else_stops_it() -> None:
    step = race_look(["A", "B", "C", "D"], Plan((5,), 4), 0, 1.0)
    assert {s.candidate: s.status for s in step.decision.standings}["C"] == MAYBE
    assert (step.alive, step.stop) == (("B", "C"), LAST_LOOK)
    assert step.decision.unit == ""  # no unit given: none in the sentences
    assert race_look(["B", "C"], Plan((3, 5), 4), 1, 1.0).stop == LAST_LOOK


def test_a_look_stops_when_every_survivor_is_within_delta() -> None:
    step = race_look(["A", "B", "C", "D"], Plan((5, 10), 4), 0, 3.0)
    assert {s.candidate: s.status for s in step.decision.standings}["C"] == WITHIN
    assert (step.alive, step.stop) == (("B", "C"), EQUIVALENT)


def test_a_look_stops_when_one_is_left() -> None:
    # Dropped earlier (A, B) or never run (Z): only the alive ones are judged.
    step = race_look(["C", "D", "Z"], Plan((5, 10), 4), 0, 1.0)
    assert (step.alive, step.dropped, step.stop) == (("C",), ("D", "Z"), SEPARATED)
    assert race_look(["D"], Plan((5, 10), 4), 0, 1.0).stop == SEPARATED  # none left


def test_delta_is_fixed_after_the_first_look() -> None:
    step = look(table(), ["A", "B"], "loss", base="A", plan=Plan((5, 10), 4), index=1,
                indifference=absolute(9.0), delta=1.0)  # fmt: skip
    assert step.decision.delta == 1.0 and step.decision.alpha == 0.05
    halved = look(table(), ["A", "B"], "loss", base="A", plan=Plan((5,), 4), index=0,
                  alpha=0.025, direction="maximize")  # fmt: skip
    assert halved.decision.alpha == 0.025 and halved.decision.direction == "maximize"


def test_a_candidate_is_dropped_when_shown_to_break_a_constraint_not_before() -> None:
    """C's p99 interval holds 2 (not shown either way): it races on; D's lies above 2."""
    summary = table()
    summary["p99"] = [1.0] * 10 + [1.5, 2.5, 1.5, 2.5, 1.5] + [3.0, 3.5, 3.0, 3.5, 3.0]
    step = look(summary, ["A", "B", "C", "D"], "loss", base="A", plan=Plan((5, 10), 4),
                index=0, indifference=absolute(1.0),
                constraints=[Constraint.parse("p99<2")])  # fmt: skip
    assert step.decision.best == "B"
    assert (step.alive, step.dropped, step.stop) == (("B", "C"), ("A", "D"), None)
    # B itself shown to break it: dropped, whatever its loss.
    summary["p99"] = [1.0] * 5 + [3.0] * 5 + [1.0] * 10
    step = look(summary, ["A", "B", "C", "D"], "loss", base="A", plan=Plan((5, 10), 4),
                index=0, indifference=absolute(1.0),
                constraints=[Constraint.parse("p99<2")])  # fmt: skip
    assert "B" in step.dropped and "B" not in step.alive
    # The decision itself weighs the constraint: B cannot be chosen.
    assert {s.candidate: s.status for s in step.decision.standings}["B"] == INFEASIBLE
    assert step.decision.best != "B"
    # A constraint on a metric the runs lack is passed over, and the next still checked.
    step = look(summary, ["A", "B", "C", "D"], "loss", base="A", plan=Plan((5, 10), 4),
                index=0, indifference=absolute(1.0),
                constraints=[Constraint.parse("p50<2"), Constraint.parse("p99<2")])  # fmt: skip
    assert "B" in step.dropped
    # No values, or no such metric: nothing is shown broken, nothing is dropped for it.
    summary["p99"] = [1.0] * 10 + [float("nan")] * 5 + [1.0] * 5
    for limit in ("p99<2", "p50<2"):
        step = look(summary, ["A", "B", "C", "D"], "loss", base="A", plan=Plan((5, 10), 4),
                    index=0, indifference=absolute(1.0),
                    constraints=[Constraint.parse(limit)])  # fmt: skip
        assert "C" in step.alive and step.stop is None


@pytest.mark.parametrize(("op", "end"), [("<=", 0), (">=", 1)])
def test_an_interval_that_ends_exactly_on_the_bound_does_not_break_it(op: str, end: int) -> None:
    """C's 95 % interval (scipy's t, 4 degrees of freedom) ends exactly on the bound: the
    bound itself meets ``<=`` / ``>=``, so the constraint is not shown broken and C races on."""
    summary = table()
    c_values = [1.5, 2.5, 1.5, 2.5, 1.5]
    summary["p99"] = [1.0] * 10 + c_values + [3.0, 3.5, 3.0, 3.5, 3.0]
    sem = float(np.std(c_values, ddof=1)) / math.sqrt(5)
    bound = float(stats.t.interval(0.95, 4, loc=float(np.mean(c_values)), scale=sem)[end])
    step = look(summary, ["A", "B", "C", "D"], "loss", base="A", plan=Plan((5, 10), 4),
                index=0, indifference=absolute(1.0),
                constraints=[Constraint("p99", op, bound)])  # fmt: skip
    assert "C" in step.alive and "C" not in step.dropped


# -- the region ----------------------------------------------------------------------------


def frame(**columns: list) -> pd.DataFrame:
    size = len(next(iter(columns.values())))
    return pd.DataFrame({"candidate": [chr(ord("a") + i) for i in range(size)], **columns})


def test_the_region_is_the_box_when_nothing_else_lies_in_it() -> None:
    points = frame(x=[1, 2, 3, 9], y=[5.0, 0.5, 2.0, 1.0])
    area = region(points, ["x", "y"], ["a", "b", "c"])
    assert area == Region({"x": (1.0, 3.0), "y": (0.5, 5.0)}, ("a", "b", "c"), ())
    assert area.as_dict() == {"x": [1.0, 3.0], "y": [0.5, 5.0]}
    assert region(points, ["x"], []) == Region({}, (), ())


def test_a_cut_keeps_the_most_equivalent_settings() -> None:
    # d (x = 4) is not equivalent: below it a, b, c (3), above it e, f (2).
    points = frame(x=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    area = region(points, ["x"], ["a", "b", "c", "e", "f"])
    assert area == Region({"x": (1.0, 3.0)}, ("a", "b", "c"), ("e", "f"))
    # Mirrored: above it keeps more.
    area = region(points, ["x"], ["a", "b", "d", "e", "f"])
    assert area == Region({"x": (4.0, 6.0)}, ("d", "e", "f"), ("a", "b"))


def test_the_cut_is_made_on_the_parameter_that_keeps_the_most() -> None:
    # Equivalent: (1,1) (2,1) (3,1) (1,2) (2,2); f = (3,2) is not. Lowering x's high end
    # to 2 keeps four, y's to 1 keeps three.
    points = frame(x=[1, 2, 3, 1, 2, 3], y=[1, 1, 1, 2, 2, 2])
    area = region(points, ["x", "y"], ["a", "b", "c", "d", "e"])
    assert area == Region({"x": (1.0, 2.0), "y": (1.0, 2.0)}, ("a", "b", "d", "e"), ("c",))


def test_settings_on_the_box_edge_are_inside_it() -> None:
    points = frame(x=[1.0, 2.0, 3.0, 3.0])
    assert region(points, ["x"], ["a", "b", "c"]).bounds == {"x": (1.0, 2.0)}
    points = frame(x=[1.0, 2.0, 3.0, 1.0])
    assert region(points, ["x"], ["a", "b", "c"]).bounds == {"x": (2.0, 3.0)}


def test_ties_between_cuts_go_to_raising_the_low_end_first() -> None:
    # c (x = 3) splits a, b from d, e evenly: the first cut tried (above c) is taken.
    area = region(frame(x=[1.0, 2.0, 3.0, 4.0, 5.0]), ["x"], ["a", "b", "d", "e"])
    assert area == Region({"x": (4.0, 5.0)}, ("d", "e"), ("a", "b"))


def test_several_cuts_until_no_other_setting_is_inside() -> None:
    # Equivalent at 1, 2, 4, 5, 7, 8, 9; not at 3 and 6.
    points = frame(x=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    area = region(points, ["x"], ["a", "b", "d", "e", "g", "h", "i"])
    assert area == Region({"x": (7.0, 9.0)}, ("g", "h", "i"), ("a", "b", "d", "e"))


def test_a_categorical_parameter_lists_its_values_and_loses_one_to_a_cut() -> None:
    points = frame(backoff=["fixed", "exp", "linear", "exp", "linear"], x=[1, 1, 1, 2, 1])
    area = region(points, ["backoff", "x"], ["a", "b", "c", "d"])
    assert area.bounds == {"backoff": ("exp", "fixed"), "x": (1.0, 2.0)}
    assert (area.members, area.left_out) == (("a", "b", "d"), ("c",))
    # Values that are not all strings are listed in the order of their text.
    mixed = frame(limit=[10, "off", 5])
    assert region(mixed, ["limit"], ["a", "b", "c"]).bounds == {"limit": (10, 5, "off")}


def test_a_setting_that_coincides_with_the_equivalent_ones_leaves_no_region() -> None:
    points = frame(x=[1.0, 1.0, 1.0], mode=["a", "a", "a"])
    assert region(points, ["x", "mode"], ["a", "b"]) == Region({}, (), ("a", "b"))
