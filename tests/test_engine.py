"""The pipeline's mechanisms, proven on small runs rather than by numbers merely appearing."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.analysis import summary_row
from sim.config import LoadedScenario, load_scenario
from sim.engine import simulate
from sim.engine.records import ABANDONED, COMPLETED, DECLINED, FAILED
from tests.conftest import MODEL, write_scenario


def test_no_primary_call_while_its_breaker_is_open(tiny: LoadedScenario) -> None:
    result = simulate(tiny, "breaker", 0)
    primary = [t for t in result.transitions if t[1] == "primary"]
    opened = [(time, new) for time, _, _, new in primary]
    assert any(state == "open" for _, state in opened)
    errors = np.asarray(result.dependency_errors["primary"])
    refuse = tiny.shop.dependencies["primary"].refuse_latency
    for (start, state), (end, _) in itertools.pairwise(opened):
        if state == "open":
            inside = errors[(errors > start + refuse) & (errors <= end)]
            assert inside.size == 0, (start, end, inside[:5])


def test_breaker_fails_over_to_the_secondary(tiny: LoadedScenario) -> None:
    plain = summary_row(simulate(tiny, "plain", 0))
    breaker = summary_row(simulate(tiny, "breaker", 0))
    assert plain["calls_secondary"] == 0
    assert breaker["calls_secondary"] > 0
    assert breaker["revenue_lost"] < plain["revenue_lost"]


def test_hang_exhausts_workers_and_customers_abandon_in_the_queue(tmp_path: Path) -> None:
    model = yaml.safe_load(MODEL.read_text())
    model["checkout"] = {"nodes": 1, "workers": 20}
    model_path = tmp_path / "small_shop.yaml"
    model_path.write_text(yaml.safe_dump(model))
    path = write_scenario(
        tmp_path,
        model=str(model_path),
        faults=[{"target": "inventory_service", "kind": "hang", "start": "1m", "duration": "1m"}],
        configurations={
            "long": {"inventory": {"timeout": "30s"}},
            "short": {"inventory": {"timeout": "200ms"}},
        },
    )
    loaded = load_scenario(path)
    long = simulate(loaded, "long", 0)
    short = simulate(loaded, "short", 0)
    assert max(long.samples["workers_busy"]) == 20
    assert max(long.samples["checkout_queue"]) > 100
    queue = long.cause_names.index("queue")
    assert np.count_nonzero((long.outcome == ABANDONED) & (long.cause == queue)) > 100
    assert max(short.samples["checkout_queue"]) < max(long.samples["checkout_queue"])


def test_declines_are_never_failed_over_and_never_trip(tmp_path: Path) -> None:
    model = yaml.safe_load(MODEL.read_text())
    model["dependencies"]["primary"]["decline_rate"] = "60%"
    model["dependencies"]["primary"]["errors"] = {}  # declines only, no genuine failures
    model_path = tmp_path / "declining.yaml"
    model_path.write_text(yaml.safe_dump(model))
    breaker = {"failure_rate_threshold": "50%", "minimum_number_of_calls": 10}
    configurations = {
        "breaker": {"payment": {"timeout": "60s", "breaker": breaker, "fallback": "secondary"}}
    }
    path = write_scenario(tmp_path, model=str(model_path), faults=[], configurations=configurations)
    result = simulate(load_scenario(path), "breaker", 0)
    assert not result.transitions
    declined = result.outcome == DECLINED
    assert np.all(result.gateway[declined] == 0)  # answered by the primary
    assert result.dependency_calls["secondary"] == 0  # and never failed over
    share = np.count_nonzero(result.outcome == DECLINED) / result.orders
    assert 0.55 < share < 0.65
    assert np.all(result.fee[result.outcome == DECLINED] == 0)


def test_every_order_has_one_outcome_and_fees_only_on_completed(tiny: LoadedScenario) -> None:
    result = simulate(tiny, "plain", 0)
    assert set(np.unique(result.outcome)) <= {COMPLETED, ABANDONED, FAILED, DECLINED}
    completed = result.outcome == COMPLETED
    assert np.all(result.fee[completed] > 0)
    assert np.all(result.fee[~completed] == 0)
    row = summary_row(result)
    assert row["revenue_demanded"] == pytest.approx(
        row["revenue_captured"] + row["fees"] + row["revenue_lost"] + row["revenue_declined"]
    )


def test_patience_bounds_what_customers_wait_for(tmp_path: Path) -> None:
    """Nobody completes checkout after abandoning, and nobody abandons with infinite patience."""
    patient = load_scenario(
        write_scenario(
            tmp_path,
            traffic={"rate": "15/s", "basket": {"constant": 10}, "patience": {"constant": "10h"}},
        )
    )
    result = simulate(patient, "plain", 0)
    assert np.count_nonzero(result.outcome == ABANDONED) == 0


def test_warmup_orders_are_not_counted(tiny: LoadedScenario) -> None:
    result = simulate(tiny, "plain", 0)
    row = summary_row(result)
    assert row["orders"] == np.count_nonzero(result.arrival >= tiny.scenario.warmup)
    assert row["orders"] < result.orders
