"""The racing selection stage, the region of equivalent settings, and a run's
recommendation (what it never exercised), on data with a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.decision import decide
from sim.analysis.landscape import landscape
from sim.analysis.objectives import Indifference
from sim.analysis.region import region
from sim.analysis.selection import EQUIVALENT, LAST_LOOK, SEPARATED, look, plan_looks
from tests.test_decision import absolute, draw


def test_looks_fit_the_budget() -> None:
    plan = plan_looks(50, 5)
    assert plan.counts == (5, 8, 10) and plan.most_runs <= 50
    assert plan_looks(20, 5).counts == (4,)  # 4 each, nothing left for a second look
    assert plan_looks(12, 6).counts == (2,)
    with pytest.raises(ValueError, match="2 replications each"):
        plan_looks(9, 5)


def race(means: list[float], budget: int, delta: float, seed: int, own: float = 1.0):
    """Run the race on synthetic candidates (all replications drawn up front, revealed
    look by look as the caller of ``look`` would run them)."""
    rng = np.random.default_rng(seed)
    plan = plan_looks(budget, len(means))
    pool = draw(means, plan.counts[-1], rng, own=own)
    alive = [f"c{i}" for i in range(len(means))]
    shown = pd.DataFrame()
    have, fixed, runs, steps = 0, None, 0, []
    for index, count in enumerate(plan.counts):
        new = pool[pool.configuration.isin(alive) & pool.replication.between(have, count - 1)]
        runs += len(new)
        shown = pd.concat([shown, new]).sort_values(["configuration", "replication"])
        step = look(shown, alive, "loss", base="c0", plan=plan, index=index,
                    indifference=absolute(delta), delta=fixed)  # fmt: skip
        steps.append(step)
        fixed, alive, have = step.decision.delta, list(step.alive), count
        if step.stop:
            break
    return steps, runs


def test_a_clearly_worse_candidate_is_dropped_and_the_race_stops_when_one_is_left() -> None:
    steps, runs = race([10.0, 4.0, 20.0], budget=60, delta=1.0, seed=1, own=0.5)
    assert steps[0].dropped == ("c0", "c2")
    assert steps[-1].stop == SEPARATED and steps[-1].decision.best == "c1"
    assert runs == 3 * plan_looks(60, 3).counts[0]  # stopped at the first look


def test_equal_candidates_stop_once_all_are_shown_within_delta() -> None:
    steps, runs = race([10.0, 10.0, 10.0], budget=300, delta=3.0, seed=2, own=0.5)
    assert steps[-1].stop == EQUIVALENT
    assert runs < 300


@pytest.mark.slow
def test_an_unresolved_race_spends_its_budget_and_says_so() -> None:
    steps, runs = race([10.0, 10.1, 10.2, 10.3], budget=40, delta=0.05, seed=3, own=2.0)
    assert steps[-1].stop == LAST_LOOK
    assert runs <= 40
    assert steps[-1].decision.looks == plan_looks(40, 4).looks


@pytest.mark.slow
def test_dropping_never_loses_the_best_more_often_than_alpha() -> None:
    """The true best (c1) stays in the race in at least 1 − α of the races."""
    lost = 0
    for seed in range(200):
        steps, _ = race([10.0, 9.0, 9.6, 10.5, 11.0], budget=60, delta=0.2, seed=seed)
        lost += any("c1" in step.dropped for step in steps)
    assert lost <= 17  # binomial(200, 0.05) at 99.9 %


def test_region_is_the_box_where_every_evaluated_setting_is_equivalent() -> None:
    """A flat landscape with a bad low threshold: the region is threshold 20-90 at any
    wait, the answer a runbook wants."""
    points, means = [], []
    for threshold in (10, 20, 50, 90):
        for wait in (2.0, 30.0, 120.0):
            points.append({"threshold": float(threshold), "wait": wait})
            means.append(30.0 if threshold == 10 else 10.0)
    rng = np.random.default_rng(4)
    summary = draw(means, 12, rng, own=0.3)
    decision = decide(summary, "loss", base="c4", indifference=absolute(1.0))
    values = {f"c{i}": p for i, p in enumerate(points)}
    land = landscape(decision, values, ["threshold", "wait"])
    assert land.region.bounds == {"threshold": (20.0, 90.0), "wait": (2.0, 120.0)}
    assert land.region.left_out == ()
    assert set(land.decision.avoid) == {f"c{i}" for i in range(3)}
    assert land.as_dict()["region"] == {"threshold": [20.0, 90.0], "wait": [2.0, 120.0]}
    assert land.as_dict()["best"]["threshold"] in (20, 50, 90)
    assert "threshold 20–90" in land.region_text()


def test_region_shrinks_around_a_bad_setting_inside_the_box() -> None:
    frame = pd.DataFrame(
        {"candidate": list("abcde"), "x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [1.0] * 5}
    )
    area = region(frame, ["x", "y"], ["a", "b", "d", "e"])
    assert area.bounds["x"] in ((1.0, 2.0), (4.0, 5.0))
    assert len(area.left_out) == 2


def test_region_of_a_categorical_parameter_lists_its_values() -> None:
    frame = pd.DataFrame({"candidate": ["a", "b", "c"], "backoff": ["fixed", "linear", "exp"]})
    area = region(frame, ["backoff"], ["a", "c"])
    assert set(area.bounds["backoff"]) == {"fixed", "exp"}


def test_indifference_in_a_landscape_reads_as_written() -> None:
    rng = np.random.default_rng(5)
    decision = decide(draw([10.0, 10.0], 5, rng), "loss", base="c0",
                      indifference=Indifference.parse("5%"))  # fmt: skip
    land = landscape(decision, {"c0": {"x": 1.0}, "c1": {"x": 2.0}}, ["x"])
    assert land.as_dict()["indifference"]["text"] == "5% of c0's mean"
