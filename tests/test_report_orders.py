"""orders.parquet and timeline.parquet time an abandonment when the customer left, not when
they arrived; checkout latency percentiles stay over completed orders only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import orders_frame, summary_row, timeline_frame
from sim.config import load_scenario
from sim.engine import RunResult, simulate
from tests.conftest import write_scenario

PATIENCE_S = 5.0


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """Four checkout workers (one per node) for 15 orders/s: the checkout queue overflows
    and customers, patient for exactly five seconds, leave it."""
    path = write_scenario(
        tmp_path_factory.mktemp("orders"),
        horizon="90s",
        faults=[],
        model_overrides={"checkout": {"workers": 1}},
        traffic={
            "rate": "15/s",
            "basket": {"constant": 50},
            "patience": {"constant": f"{PATIENCE_S:g}s"},
        },
        configurations={"plain": {}},
    )
    return simulate(load_scenario(path), "plain", 0)


def test_abandonments_carry_their_departure_and_wait(crowded: RunResult) -> None:
    orders = orders_frame([crowded])
    queue = orders[(orders["outcome"] == "abandoned") & (orders["cause"] == "queue")]
    assert len(queue) > 50, "the scenario should make customers leave the queue"
    assert np.allclose(queue["waited_s"], PATIENCE_S)
    assert np.allclose(queue["left_at_s"], queue["arrival_s"] + PATIENCE_S)
    assert queue["checkout_latency_s"].isna().all()
    answered = orders[orders["outcome"] != "abandoned"].dropna(subset=["left_at_s"])
    assert np.allclose(answered["checkout_latency_s"], answered["waited_s"])
    assert np.allclose(answered["left_at_s"], answered["arrival_s"] + answered["waited_s"])


def test_timeline_counts_abandonments_in_the_second_the_customer_left(
    crowded: RunResult,
) -> None:
    orders = orders_frame([crowded])
    timeline = timeline_frame([crowded])
    left = orders.loc[orders["outcome"] == "abandoned", "left_at_s"].to_numpy()
    seconds = len(timeline)
    expected = np.bincount(np.minimum(left.astype(int), seconds - 1), minlength=seconds)
    assert np.array_equal(timeline["abandoned"].to_numpy(), expected)
    by_arrival = np.bincount(
        orders.loc[orders["outcome"] == "abandoned", "arrival_s"].to_numpy().astype(int),
        minlength=seconds,
    )[:seconds]
    assert not np.array_equal(timeline["abandoned"].to_numpy(), by_arrival)


def test_latency_percentiles_are_over_completed_orders_only(crowded: RunResult) -> None:
    row = summary_row(crowded)
    orders = orders_frame([crowded])
    done = orders[(orders["outcome"] == "completed") & ~orders["warmup"]]
    assert row["checkout_p95_s"] == pytest.approx(np.percentile(done["checkout_latency_s"], 95))
    assert int(row["abandoned"]) > 0


def test_orders_frame_keeps_a_configuration_without_orders(tmp_path: Path) -> None:
    """A configuration stays a category of orders.parquet even with no order at all."""
    path = write_scenario(
        tmp_path,
        horizon="10s",
        warmup="0s",
        traffic={"rate": "0.0001/s", "basket": {"constant": 1}, "patience": {"constant": "1s"}},
        faults=[],
    )
    loaded = load_scenario(path)
    results = [simulate(loaded, c, 0) for c in loaded.scenario.configurations]
    orders = orders_frame(results)
    assert orders.empty
    assert isinstance(orders["configuration"].dtype, pd.CategoricalDtype)
    assert list(orders["configuration"].cat.categories) == ["plain", "breaker"]
    for column in ("left_at_s", "waited_s", "checkout_latency_s"):
        assert column in orders.columns
