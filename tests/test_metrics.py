"""Metric names are declared (sim/analysis/metrics.py), not learned from a probe run: every
column summary_row makes must be declared there, or a hypothesis on a new column would be
refused as unknown, and an unknown name is refused with a "did you mean"."""

from __future__ import annotations

from pathlib import Path

from sim.analysis.metrics import CRASH_CAUSES, metric_names, unknown_metric
from sim.analysis.summary import summary_row
from sim.config import LoadedScenario, load_scenario
from sim.engine import simulate
from tests.conftest import write_scenario

ROOT = Path(__file__).resolve().parents[1]
NOT_METRICS = {"configuration", "replication"}


def undeclared_columns(
    loaded: LoadedScenario, rows: list[dict[str, object]] | None = None
) -> set[str]:
    """Columns of any configuration's summary row (``rows``, or one run of each made here)
    that metric_names does not declare (a crash's own causes of loss excepted: only a run
    with a crash has them). tests/test_scenarios.py checks every shipped scenario with the
    rows of its invariants run, so each is simulated once."""
    declared = set(metric_names(loaded.shop)) | {f"revenue_lost_{c}" for c in CRASH_CAUSES}
    if rows is None:
        rows = [summary_row(simulate(loaded, c)) for c in loaded.scenario.configurations]
    made: set[str] = set().union(*(set(row) for row in rows))
    return made - declared - NOT_METRICS


def test_a_small_crash_scenarios_columns_are_all_declared(tmp_path: Path) -> None:
    crash = {"target": "checkout", "kind": "crash", "start": "1m", "duration": "1m"}
    outage = {"target": "primary", "kind": "outage", "start": "2m", "duration": "1m"}
    loaded = load_scenario(write_scenario(tmp_path, faults=[crash, outage], horizon="3m"))
    assert "revenue_lost_crash" in summary_row(simulate(loaded, "plain"))
    assert undeclared_columns(loaded) == set()


def test_the_shop_names_its_dependency_and_gateway_columns(tiny: LoadedScenario) -> None:
    names = metric_names(tiny.shop)
    for dependency in tiny.shop.dependencies:
        calls = names.index(f"calls_{dependency}")
        assert names[calls + 1] == f"errors_{dependency}"
    for gateway in tiny.shop.stages.payment.gateways:
        assert f"gateway_share_{gateway}" in names
    assert len(names) == len(set(names))
    assert not [n for n in names if "{" in n]


def test_an_unknown_metric_is_refused_with_a_suggestion(tiny: LoadedScenario) -> None:
    assert unknown_metric("revenue_lost", tiny) is None
    message = unknown_metric("revenue_lots", tiny)
    assert message is not None
    assert message.startswith("unknown metric 'revenue_lots'; did you mean 'revenue_lost'?")
    assert "checkout_p99_s" in message
    assert unknown_metric("calls_nowhere", tiny) is not None
