"""A run's recommendation (sim.analysis.recommend) on summaries written here, without a
simulation: which configuration to pick, its sentence, its JSON, and the notes on what the
run never exercised (a breaker that never opened, a fallback never used), each written out
in full."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.hypotheses import Verdict
from sim.analysis.objectives import Constraint, DecisionSettings, Indifference
from sim.analysis.recommend import (
    _paths_of,
    breaker_places,
    never_opened,
    recommend,
    unexercised,
)
from sim.config import LoadedScenario, load_scenario
from tests.conftest import write_scenario

BREAKER = {"failure_rate_threshold": "50%", "sliding_window_size": 20,
           "minimum_number_of_calls": 10}  # fmt: skip
CONFIGURATIONS = {
    "plain": {},
    "breaker": {"payment": {"timeout": "2s", "breaker": BREAKER, "fallback": "secondary"}},
    "two": {"payment": {"breaker": BREAKER}, "inventory": {"breaker": BREAKER}},
    "failover": {"payment": {"failover": True}},
    "sms": {"notification": {"sms": {"breaker": BREAKER}}},
}


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedScenario:
    return load_scenario(write_scenario(tmp_path, configurations=CONFIGURATIONS))


def summary(lost: dict[str, list[float]], trips: float = 0.0, failovers: float = 0.0,
            **columns: dict[str, list[float]]) -> pd.DataFrame:  # fmt: skip
    rows = []
    for name, values in lost.items():
        for r, value in enumerate(values):
            row = {"configuration": name, "replication": r, "revenue_lost": value,
                   "breaker_trips": trips, "failovers": failovers}  # fmt: skip
            row.update({column: by_name[name][r] for column, by_name in columns.items()})
            rows.append(row)
    return pd.DataFrame(rows)


PLAIN = [1000.0, 1200.0, 1100.0, 1300.0]


def shifted(by: float) -> list[float]:
    return [v + by for v in PLAIN]


def test_breaker_places_are_the_dotted_stages_that_hold_one(loaded: LoadedScenario) -> None:
    configurations = loaded.scenario.configurations
    assert breaker_places(configurations["plain"]) == []
    assert breaker_places(configurations["breaker"]) == ["payment"]
    assert breaker_places(configurations["two"]) == ["inventory", "payment"]
    assert breaker_places(configurations["sms"]) == ["notification.sms"]
    assert _paths_of({"breaker": {"x": 1}, "a": {"breaker": None}}, "breaker") == {"(top)"}


def test_what_a_run_never_exercised(loaded: LoadedScenario) -> None:
    rows = summary({"plain": PLAIN, "breaker": PLAIN, "two": PLAIN[:1], "failover": PLAIN})
    assert unexercised(loaded, rows, "plain") == [
        "breaker: its breaker (payment) never opened in 4 replications; what sets it apart "
        "from plain is its other settings: payment.fallback, payment.timeout",
        "breaker: its payment fallback (secondary) was never used in 4 replications",
        "two: its breakers (inventory, payment) never opened in 1 replication",
        "failover: its payment fallback (failover) was never used in 4 replications",
    ]
    assert never_opened(loaded, rows) == {
        "breaker": "breaker never opened", "two": "breakers never opened"}  # fmt: skip
    # Against a baseline with a breaker: nothing else sets the baseline apart from itself.
    notes = unexercised(loaded, rows, "breaker")
    assert "breaker: its breaker (payment) never opened in 4 replications" in notes
    assert notes[2] == (
        "two: its breakers (inventory, payment) never opened in 1 replication; what "
        "sets it apart from breaker is its other settings: payment.fallback, payment.timeout"
    )


def test_a_breaker_that_opened_or_a_fallback_used_is_not_noted(loaded: LoadedScenario) -> None:
    rows = summary({"breaker": PLAIN, "failover": PLAIN}, trips=1.0, failovers=2.0)
    assert unexercised(loaded, rows, "plain") == [] and never_opened(loaded, rows) == {}
    # Opened in one replication of four (the others NaN, counted as none).
    rows = summary({"breaker": PLAIN})
    rows["breaker_trips"] = [float("nan"), 3.0, float("nan"), 0.0]
    rows["failovers"] = [0.0, 0.0, 1.0, 0.0]
    assert unexercised(loaded, rows, "plain") == [] and never_opened(loaded, rows) == {}
    # Without the columns, nothing is known, nothing is said.
    bare = summary({"breaker": PLAIN}).drop(columns=["breaker_trips", "failovers"])
    assert unexercised(loaded, bare, "plain") == [] and never_opened(loaded, bare) == {}
    # An unknown baseline: the notes name no other settings.
    rows = summary({"breaker": PLAIN})
    assert unexercised(loaded, rows, "nobody")[0] == (
        "breaker: its breaker (payment) never opened in 4 replications"
    )


def test_a_clear_saving_is_picked(loaded: LoadedScenario) -> None:
    rows = summary({"plain": PLAIN, "breaker": shifted(-500.0), "two": shifted(-400.0),
                    "failover": shifted(300.0)}, trips=1.0, failovers=1.0)  # fmt: skip
    advice = recommend(loaded, rows, "plain")
    d = advice.decision
    assert (advice.configuration, advice.verdict, d.unit) == ("breaker", "adopt", "EUR")
    assert d.delta == pytest.approx(0.02 * 1150) and advice.tied == ()
    assert advice.line() == (
        "pick breaker: revenue_lost 500 EUR lower than plain [-500 EUR], beyond δ = 2% of "
        "plain's mean = 23 EUR; tied with it: none"
    )
    assert advice.as_dict() == {
        "configuration": "breaker", "verdict": "adopt", "metric": "revenue_lost",
        "direction": "minimize",
        "indifference": {"text": "2% of plain's mean", "value": pytest.approx(23.0)},
        "difference": {"mean": -500.0, "ci_low": -500.0, "ci_high": -500.0},
        "baseline": "plain", "best": "breaker", "tied": [], "avoid": ["failover"],
        "alpha": 0.05, "notes": [],
    }  # fmt: skip


def test_a_saving_in_noise_keeps_the_baseline(loaded: LoadedScenario) -> None:
    rows = summary({"plain": PLAIN, "breaker": [990.0, 1150.0, 1120.0, 1260.0]}, trips=1.0,
                   failovers=1.0)  # fmt: skip
    advice = recommend(loaded, rows, "plain")
    assert (advice.configuration, advice.verdict, advice.tied) == (
        "plain",
        "keep-base",
        ("breaker",),
    )
    diff = advice.decision.difference
    assert diff is not None and diff.mean == pytest.approx(-20.0)
    assert advice.line().startswith(
        "keep plain: no configuration is shown to beat it on revenue_lost by more than δ = "
        "2% of plain's mean = 23 EUR; best by mean: breaker, -20 ["
    )
    assert advice.line().endswith("] EUR; cannot be told apart from it: breaker")


def test_the_baseline_as_the_best(loaded: LoadedScenario) -> None:
    rows = summary({"plain": PLAIN, "breaker": shifted(5.0), "two": shifted(500.0)},
                   trips=1.0, failovers=1.0)  # fmt: skip
    advice = recommend(loaded, rows, "plain", settings=DecisionSettings(
        indifference=Indifference.parse("10")))  # fmt: skip
    assert advice.configuration == "plain" and advice.tied == ("breaker",)
    assert advice.line() == (
        "keep plain: it is the best on revenue_lost (δ = 10 EUR); tied with it: breaker"
    )
    larger = recommend(loaded, summary({"plain": PLAIN, "two": shifted(-500.0)}, trips=1.0),
                       "plain", settings=DecisionSettings(direction="maximize"))  # fmt: skip
    assert larger.decision.best == "plain" and larger.line().startswith("keep plain: it is")
    alone = recommend(loaded, summary({"plain": PLAIN}), "plain")
    assert alone.line() == "keep plain: the only configuration, nothing to compare it with"


def test_a_configuration_failing_a_hypothesis_is_never_picked(loaded: LoadedScenario) -> None:
    rows = summary({"plain": PLAIN, "breaker": shifted(-500.0)}, trips=1.0, failovers=1.0)
    failed = Verdict("p99 < 2", "breaker", "checkout_p99_s", "<", 2.0, 3.0, 2.5, 3.5, 4, "fail")
    passed = Verdict("p99 < 2", "plain", "checkout_p99_s", "<", 2.0, 1.0, 0.5, 1.5, 4, "pass")
    advice = recommend(loaded, rows, "plain", [failed, passed])
    assert advice.configuration == "plain" and advice.verdict == "keep-base"
    assert advice.notes == ("breaker may not be chosen: fails 'p99 < 2'",)
    assert advice.line() == (
        "keep plain: it is the best on revenue_lost (δ = 2% of plain's mean = 23 EUR); tied "
        "with it: none"
    )
    # Every configuration failing: no best at all.
    both = recommend(loaded, rows, "plain", [failed, replace(passed, outcome="fail")])
    assert both.decision.best is None
    assert both.line() == "keep plain (δ = 2% of plain's mean = 23 EUR); tied with it: none"


def test_the_settings_and_notes_reach_the_recommendation(loaded: LoadedScenario) -> None:
    rows = summary({"plain": PLAIN, "breaker": shifted(-500.0)}, failovers=1.0,
                   revenue_captured={"plain": PLAIN, "breaker": shifted(500.0)})  # fmt: skip
    settings = DecisionSettings("revenue_captured", "maximize", Indifference.parse("100"),
                                alpha=0.1)  # fmt: skip
    advice = recommend(loaded, rows, "plain", settings=settings)
    assert advice.decision.metric == "revenue_captured" and advice.decision.alpha == 0.1
    assert advice.configuration == "breaker" and advice.as_dict()["alpha"] == 0.1
    assert advice.line().startswith("pick breaker: revenue_captured 500 EUR higher than plain")
    assert advice.notes == (
        "breaker: its breaker (payment) never opened in 4 replications; what sets it apart "
        "from plain is its other settings: payment.fallback, payment.timeout",
    )


def test_a_new_stage_is_set_apart_by_its_own_settings(loaded: LoadedScenario) -> None:
    """plain has no SMS stage; sms adds one (with a breaker and the default retry): its
    settings are what differ, each by path, the breaker's aside."""
    notes = unexercised(loaded, summary({"sms": PLAIN}), "plain")
    assert notes == [
        "sms: its breaker (notification.sms) never opened in 4 replications; what sets it "
        "apart from plain is its other settings: notification.sms.retry.backoff, "
        "notification.sms.retry.jitter, notification.sms.retry.max_attempts, "
        "notification.sms.retry.multiplier, notification.sms.retry.retry_on, "
        "notification.sms.retry.wait"
    ]


def test_trips_never_recorded_count_as_none(loaded: LoadedScenario) -> None:
    rows = summary({"breaker": PLAIN})
    rows["breaker_trips"] = float("nan")
    assert never_opened(loaded, rows) == {"breaker": "breaker never opened"}


def test_constraints_reach_the_decision(loaded: LoadedScenario) -> None:
    """breaker saves 500 but its p99 (3 s every replication) breaks p99 < 2: not picked."""
    rows = summary({"plain": PLAIN, "breaker": shifted(-500.0)}, trips=1.0, failovers=1.0,
                   checkout_p99_s={"plain": [1.0] * 4, "breaker": [3.0] * 4})  # fmt: skip
    settings = DecisionSettings(constraints=(Constraint.parse("checkout_p99_s<2"),))
    advice = recommend(loaded, rows, "plain", settings=settings)
    assert advice.configuration == "plain" and advice.decision.best == "plain"
    assert advice.verdict == "keep-base"


def test_nothing_to_compare_has_no_difference(loaded: LoadedScenario) -> None:
    alone = recommend(loaded, summary({"plain": PLAIN}), "plain")
    assert alone.decision.difference is None and alone.as_dict()["difference"] is None


def test_a_small_gain_beyond_delta_reads_higher(loaded: LoadedScenario) -> None:
    """+0.5 EUR captured in every replication (a zero-width interval), δ = 0.1."""
    rows = summary({"plain": PLAIN, "breaker": shifted(0.5)}, trips=1.0, failovers=1.0)
    rows["revenue_captured"] = rows["revenue_lost"]
    settings = DecisionSettings("revenue_captured", "maximize", Indifference.parse("0.1"))
    advice = recommend(loaded, rows, "plain", settings=settings)
    assert advice.line() == (
        "pick breaker: revenue_captured 0.5 EUR higher than plain [+0.5 EUR], beyond "
        "δ = 0.1 EUR; tied with it: none"
    )


def test_every_tie_is_named_and_a_gain_in_noise_keeps_its_sign(loaded: LoadedScenario) -> None:
    rows = summary({"plain": PLAIN, "breaker": shifted(5.0), "two": shifted(3.0)},
                   trips=1.0, failovers=1.0)  # fmt: skip
    advice = recommend(loaded, rows, "plain", settings=DecisionSettings(
        indifference=Indifference.parse("10")))  # fmt: skip
    assert advice.line() == (
        "keep plain: it is the best on revenue_lost (δ = 10 EUR); tied with it: breaker, two"
    )
    # Maximised, the noisy +20 of test_a_saving_in_noise_keeps_the_baseline, signed.
    noisy = summary({"plain": PLAIN, "breaker": [1010.0, 1250.0, 1080.0, 1340.0]},
                    trips=1.0, failovers=1.0)  # fmt: skip
    advice = recommend(loaded, noisy, "plain", settings=DecisionSettings(direction="maximize"))
    assert advice.decision.best == "breaker" and advice.verdict == "keep-base"
    assert "; best by mean: breaker, +20 [" in advice.line()
