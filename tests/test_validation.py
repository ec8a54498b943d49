"""The published validation, small: every check of benchmarks/validate_engine.py at the
quick size passes, and every kind of check fails when the theory or the scenario is wrong."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks import theory, validate_engine
from benchmarks import validation_checks as v
from benchmarks.validation_cases import QUICK, Case

# Every test but one reads the quick validation (a module fixture that runs the
# engine against theory for several seconds).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick() -> dict[str, Case]:
    return {case.title: case for case in validate_engine.validate(QUICK)}


def values(case: Case, name: str) -> tuple[float, ...]:
    return next(c.values for c in case.checks if c.name.startswith(name))


def test_every_quick_check_passes(quick: dict[str, Case]) -> None:
    checks = [check for case in quick.values() for check in case.checks]
    assert len(checks) >= 20
    failed = [(c.group, c.name, c.theory_text, c.mean, c.interval) for c in checks if not c.passed]
    assert not failed


def test_every_behaviour_of_the_issue_is_checked(quick: dict[str, Case]) -> None:
    titles = " ".join(quick)
    for topic in ("Erlang C", "M/M/1", "Erlang A", "Little", "Retry", "Breaker"):
        assert topic in titles
    names = [c.name for c in quick["Little's law per stage"].checks]
    assert len(names) == 7  # one per stage, and the cart behind a checkout queue
    assert "cart, behind a checkout queue: L / (λ·W)" in names


def test_verdicts_read_an_interval_that_holds_for_the_family(quick: dict[str, Case]) -> None:
    judged = [c for case in quick.values() for c in case.checks if c.kind != "at_most"]
    assert all(c.level == pytest.approx(1 - 0.05 / len(judged)) for c in judged)
    low, high = judged[0].interval
    low95, high95 = judged[0].interval95
    assert low < low95 < high95 < high


# -- each check can fail -------------------------------------------------------------------
def test_queueing_checks_fail_against_the_wrong_queue(quick: dict[str, Case]) -> None:
    erlang = quick["Erlang C (M/M/c) at checkout"]
    nine_workers = theory.erlang_c_wait(8, 1, 9) + 1  # the model had 10
    assert not v.equal("", "", values(erlang, "mean time in checkout"), nine_workers).passed
    mm1 = quick["M/M/1 at a payment gateway"]
    mm2 = theory.erlang_c_wait(7, 10, 2) + 0.1  # a gateway of capacity 2
    assert not v.equal("", "", values(mm1, "mean time in checkout"), mm2).passed
    inventory = quick["Erlang C (M/M/c) at a dependency"]
    assert not v.equal("", "", values(inventory, "mean inventory queue"), 2.216 * 1.5).passed


def test_erlang_a_checks_fail_against_another_patience(quick: dict[str, Case]) -> None:
    case = quick["Erlang A (M/M/c+M) at checkout"]
    half = theory.erlang_a(10, 1, 10, 1 / 2.5)  # mean patience 2.5 s instead of 5 s
    assert not v.equal("", "", values(case, "share who leave"), half.p_abandon).passed
    endless = theory.erlang_a(10, 1, 10, 1e-3)  # patience so long hardly anyone leaves
    assert not v.equal("", "", values(case, "mean checkout queue"), endless.mean_queue).passed


def test_littles_law_check_fails_when_occupancy_and_time_disagree(
    quick: dict[str, Case],
) -> None:
    case = quick["Little's law per stage"]
    ratios = values(case, "payment")
    assert not v.equal("", "", [r * 1.1 for r in ratios], 1.0).passed


def test_retry_checks_fail_on_a_mis_set_scenario(quick: dict[str, Case]) -> None:
    case = quick["Retry amplification"]
    bucket = next(c for c in case.checks if c.name.startswith("outage, token bucket"))
    unbudgeted = values(case, "outage, 4 attempts")  # the budget left out of the stack
    assert not dataclasses.replace(bucket, values=unbudgeted).passed
    assert not v.equal("", "", unbudgeted, theory.expected_attempts(1.0, 3)).passed
    partial = values(case, "50% of calls refused")
    assert not v.equal("", "", partial, theory.expected_attempts(0.25, 4)).passed


def test_breaker_check_fails_for_a_longer_open_wait_than_assumed(quick: dict[str, Case]) -> None:
    case = quick["Breaker time open during an outage"]
    assumed = next(c for c in case.checks if c.name.startswith("wait-10s"))
    longer = values(case, "wait-70s")
    assert not dataclasses.replace(assumed, values=longer).passed


# -- verdict rules ---------------------------------------------------------------------------
def test_verdict_rules() -> None:
    runs = [1.0, 1.1, 0.9, 1.05, 0.95]
    assert v.equal("g", "n", runs, 1.0).passed
    assert not v.equal("g", "n", runs, 1.3).passed
    assert v.within("g", "n", runs, 0.5, 1.5).passed
    assert not v.within("g", "n", runs, 1.0, 1.5).passed  # the interval pokes out below
    # A bound attained exactly passes (float noise included); one run above it fails.
    assert v.at_most("g", "n", [1.2, 1.2 + 1e-15], [1.2, 1.2]).passed
    assert not v.at_most("g", "n", [1.0, 1.0, 1.21], [1.2, 1.2, 1.2]).passed
    assert not v.equal("g", "n", [float("nan")] * 3, 1.0).passed


# -- the report ------------------------------------------------------------------------------
def test_report_lists_every_check_with_its_verdict(quick: dict[str, Case]) -> None:
    results = list(quick.values())
    text = validate_engine.report(results, QUICK, 1.0)
    checks = [c for case in results for c in case.checks]
    assert f"**{len(checks)} of {len(checks)} checks pass.**" in text
    for case in results:
        assert f"## {case.title}" in text
        assert case.mapping in text
    assert text.count("**pass**") == len(checks)


def test_main_exits_1_and_names_a_failed_check(
    quick: dict[str, Case], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = quick["Erlang C (M/M/c) at checkout"]
    wrong = dataclasses.replace(case.checks[0], theory=case.checks[0].theory * 2)
    broken = dataclasses.replace(case, checks=[wrong, *case.checks[1:]])
    monkeypatch.setattr(validate_engine, "validate", lambda *args: [broken])
    out = tmp_path / "docs" / "validation.md"
    assert validate_engine.main(["--quick", "--out", str(out)]) == 1
    text = out.read_text(encoding="utf-8")
    assert "**FAIL**" in text and wrong.name in text.split("Failed:")[1]
    monkeypatch.setattr(validate_engine, "validate", lambda *args: [case])
    assert validate_engine.main(["--quick", "--out", str(out)]) == 0
    assert not list(out.parent.glob("*.partial"))
