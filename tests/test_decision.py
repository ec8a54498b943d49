"""The decision layer on synthetic data with a known truth: identical candidates are
adopted at most α of the time, a clear winner is found, multiplicity is accounted for,
and the statements (within δ, worse by more than δ) are true as often as promised.

Candidates are drawn as on common random numbers: a shared per-replication term (the
customers and the outage every configuration saw) plus each candidate's own noise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.analysis.decision import BEST, MAYBE, WITHIN, WORSE, decide
from sim.analysis.objectives import Constraint, Indifference
from sim.errors import ConfigError

ALPHA = 0.05


def draw(
    means: list[float], n: int, rng: np.random.Generator, shared: float = 5.0, own: float = 1.0
) -> pd.DataFrame:
    """Summary rows (configuration c0, c1..., replication, loss) with a common term."""
    common = rng.normal(0, shared, n)
    rows = []
    for i, mean in enumerate(means):
        values = mean + common + rng.normal(0, own, n)
        rows += [
            {"configuration": f"c{i}", "replication": r, "loss": v} for r, v in enumerate(values)
        ]
    return pd.DataFrame(rows)


def absolute(delta: float) -> Indifference:
    return Indifference(delta, False, f"{delta:g}")


def adoption_bound(trials: int) -> int:
    """The most adoptions a correct α-level procedure shows in ``trials`` draws, but for
    a one-in-a-thousand fluke (binomial)."""
    return int(stats.binom.ppf(0.999, trials, ALPHA))


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(min_value=2, max_value=12),
    n=st.integers(min_value=3, max_value=15),
    shared=st.floats(min_value=0.0, max_value=10.0),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_identical_candidates_are_adopted_at_most_alpha_of_the_time(
    k: int, n: int, shared: float, seed: int
) -> None:
    """With δ = 0 (the hardest case: any shown improvement counts) and every candidate
    equal to the base, adoption is a false positive; it must stay within α."""
    rng = np.random.default_rng(seed)
    trials = 100
    adopted = sum(
        decide(
            draw([10.0] * k, n, rng, shared), "loss", base="c0", indifference=absolute(0.0)
        ).verdict
        == "adopt"
        for _ in range(trials)
    )
    assert adopted <= adoption_bound(trials)


@pytest.mark.slow
def test_multiplicity_is_accounted_for() -> None:
    """30 equal candidates: picking the best by mean and testing it against the base with
    its own 95 % interval 'finds' an improvement often; the decision does not."""
    rng = np.random.default_rng(7)
    trials, naive, adopted = 200, 0, 0
    for _ in range(trials):
        summary = draw([10.0] * 30, 8, rng)
        decision = decide(summary, "loss", base="c0", indifference=absolute(0.0))
        adopted += decision.verdict == "adopt"
        wide = summary.pivot(index="replication", columns="configuration", values="loss")
        best = wide.mean().idxmin()
        diff = (wide[best] - wide["c0"]).to_numpy()
        half = stats.t.ppf(0.975, diff.size - 1) * diff.std(ddof=1) / math.sqrt(diff.size)
        naive += best != "c0" and diff.mean() + half < 0
    assert naive > 3 * ALPHA * trials  # what 29 uncorrected comparisons give
    assert adopted <= adoption_bound(trials)


def test_a_clear_winner_is_found_and_adopted() -> None:
    rng = np.random.default_rng(3)
    summary = draw([10.0, 10.2, 6.0, 10.1], 10, rng)
    decision = decide(summary, "loss", base="c0", indifference=absolute(1.0))
    assert decision.best == "c2"
    assert decision.verdict == "adopt"
    assert decision.difference is not None and decision.difference.ci_high < -1.0
    standing = {s.candidate: s for s in decision.standings}
    assert standing["c2"].status == BEST
    # The others are shown worse than the winner by more than δ.
    assert all(standing[c].status == WORSE for c in ("c0", "c1", "c3"))
    assert decision.equivalent == ["c2"]


def test_a_winner_inside_the_indifference_zone_keeps_the_base() -> None:
    """Better by 0.5, shown so, but δ = 1: not worth acting on."""
    rng = np.random.default_rng(4)
    summary = draw([10.0, 9.5], 60, rng, own=0.3)
    decision = decide(summary, "loss", base="c0", indifference=absolute(1.0))
    assert decision.best == "c1"
    assert decision.difference is not None and decision.difference.ci_high < 0
    assert decision.verdict == "keep-base"
    assert set(decision.proven) == {"c0", "c1"}  # within δ of each other, shown


def test_statements_are_true_together_at_the_promised_rate() -> None:
    """Known means: every 'within δ of the best', 'worse than the best by more than δ' and
    'avoid' (worse than the base by more than δ) claim is checked against the truth; all
    of a draw's claims must hold together in at least 1 − α of the draws."""
    means = [10.0, 10.0, 10.3, 10.8, 12.0, 9.9]
    truth_gap = {f"c{i}": m - min(means) for i, m in enumerate(means)}
    delta, trials, wrong = 0.5, 300, 0
    rng = np.random.default_rng(11)
    for _ in range(trials):
        decision = decide(draw(means, 6, rng, own=0.6), "loss", base="c0",
                          indifference=absolute(delta))  # fmt: skip
        for s in decision.standings:
            gap = truth_gap[s.candidate]
            false_within = s.status == WITHIN and gap > delta
            false_worse = s.status == WORSE and gap <= delta
            false_avoid = s.avoid and means[int(s.candidate[1:])] - means[0] <= delta
            if false_within or false_worse or false_avoid:
                wrong += 1
                break
    assert wrong <= adoption_bound(trials)


def test_maximising_a_metric_reverses_the_order() -> None:
    rng = np.random.default_rng(5)
    summary = draw([100.0, 110.0], 10, rng, own=0.5).rename(columns={"loss": "captured"})
    decision = decide(summary, "captured", base="c0", direction="maximize",
                      indifference=absolute(2.0))  # fmt: skip
    assert decision.best == "c1" and decision.verdict == "adopt"
    assert decision.difference is not None and decision.difference.ci_low > 2.0


def test_relative_indifference_is_a_share_of_the_base_mean() -> None:
    rng = np.random.default_rng(6)
    summary = draw([200.0, 150.0], 10, rng)
    decision = decide(summary, "loss", base="c0", indifference=Indifference.parse("10%"))
    assert decision.delta == pytest.approx(0.1 * summary[summary.configuration == "c0"].loss.mean())
    assert "10% of c0's mean" in decision.zone


def test_constraints_and_exclusions_keep_a_candidate_from_being_picked() -> None:
    rng = np.random.default_rng(8)
    summary = draw([10.0, 5.0, 7.0], 10, rng)
    summary["p99"] = np.where(summary["configuration"] == "c1", 9.0, 1.0)
    limit = Constraint.parse("p99<2")
    decision = decide(summary, "loss", base="c0", constraints=[limit], indifference=absolute(0.5))
    assert decision.best == "c2"
    reason = {s.candidate: s.reason for s in decision.standings}
    assert "p99 < 2 not shown" in reason["c1"]
    decision = decide(summary, "loss", base="c0", excluded={"c2": "fails a hypothesis"})
    assert decision.best == "c1"
    assert any("c2 may not be chosen: fails a hypothesis" in n for n in decision.notes)


def test_identical_configurations_tie_exactly() -> None:
    """A point equal to the base gives the very same runs: no spread, a tie."""
    rng = np.random.default_rng(9)
    summary = draw([10.0, 12.0], 5, rng, own=0.2)
    twin = summary[summary.configuration == "c0"].assign(configuration="twin")
    decision = decide(pd.concat([summary, twin]), "loss", base="c0", indifference=absolute(0.1))
    standing = {s.candidate: s for s in decision.standings}
    assert standing["twin"].vs_base.ci_low == standing["twin"].vs_base.ci_high == 0.0
    assert {standing["c0"].status, standing["twin"].status} <= {BEST, WITHIN}


def test_unresolved_decisions_say_how_many_replications_would_resolve_them() -> None:
    rng = np.random.default_rng(10)
    decision = decide(draw([10.0, 10.1, 10.05], 4, rng, own=2.0), "loss", base="c0",
                      indifference=absolute(0.5))  # fmt: skip
    assert not decision.resolved
    assert {s.status for s in decision.standings} <= {BEST, MAYBE}
    assert decision.replications_hint is not None and decision.replications_hint > 4
    assert any("replications per candidate would" in n for n in decision.notes)


def test_a_base_without_data_is_noted() -> None:
    summary = pd.DataFrame({"configuration": ["a", "a", "b", "b"], "replication": [0, 1, 0, 1],
                            "loss": [math.nan, math.nan, 1.0, 2.0]})  # fmt: skip
    decision = decide(summary, "loss", base="a")
    assert decision.best == "b" and decision.verdict == "keep-base"
    assert any("no data" in n for n in decision.notes)


def test_unknown_base_and_metric_are_refused() -> None:
    summary = draw([1.0, 2.0], 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="not among"):
        decide(summary, "loss", base="nope")
    with pytest.raises(ValueError, match="no metric"):
        decide(summary, "latency", base="c0")


@pytest.mark.parametrize(
    ("text", "amount", "relative"),
    [("2%", 0.02, True), ("0.5%", 0.005, True), ("500", 500.0, False), ("200ms", 0.2, False),
     ("1m", 60.0, False), (None, 0.02, True)],
)  # fmt: skip
def test_indifference_takes_units(text: str | None, amount: float, relative: bool) -> None:
    zone = Indifference.parse(text)
    assert zone.amount == pytest.approx(amount) and zone.relative is relative


@pytest.mark.parametrize("text", ["-1%", "abc", "nan", "1e999", "5/s"])
def test_bad_indifference_is_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        Indifference.parse(text)
