"""sim.analysis.load and sim.analysis.dynamics: a run directory read back as the tables the
run computed, and the plot data of the run's dynamics checked on hand-made timelines."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import dynamics, mitigations, pareto, plotdata
from sim.analysis.load import RunData, load_run, transitions_from_timeline
from sim.app.run import RunOutput, run_scenario
from sim.config import load_scenario
from tests.conftest import write_scenario


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunOutput, RunData]:
    root = tmp_path_factory.mktemp("load")
    run = run_scenario(write_scenario(root, name="tiny-load"), out=root / "r", workers=1)
    return run, load_run(run.directory)


@pytest.mark.slow
def test_load_run_gives_back_the_run_tables(stored: tuple[RunOutput, RunData]) -> None:
    run, data = stored
    assert data.configurations == ["plain", "breaker"]
    assert data.baseline == run.baseline == "plain"
    assert data.replications == 2
    pd.testing.assert_frame_equal(
        data.summary, run.summary, check_dtype=False, check_exact=False, atol=1e-5
    )
    assert list(data.ci.columns) == ["configuration", "metric", "mean", "ci_low", "ci_high",
                                     "replications", "clipped"]  # fmt: skip
    assert set(data.differences["configuration"]) == {"breaker"}
    assert len(data.orders) == int(run.summary["orders"].sum()) + int(data.orders["warmup"].sum())
    assert {"second", "arrivals", "checkout_queue"} <= set(data.timeline.columns)
    assert data.differences_with("breaker")["configuration"].unique().tolist() == ["plain"]


def test_transitions_are_stored_exactly(stored: tuple[RunOutput, RunData]) -> None:
    _, data = stored
    t = data.transitions
    assert list(t.columns) == [
        "configuration", "replication", "time_s", "breaker", "from_state", "to_state",
    ]  # fmt: skip
    assert set(t["configuration"]) == {"breaker"}, "the plain configuration has no breaker"
    assert (t["time_s"] % 1 != 0).any(), "instants, not seconds"
    opened = t[t["to_state"] == "open"]
    counted = opened.groupby(["configuration", "replication"]).size()
    for row in data.summary.to_dict("records"):
        stored_trips = int(counted.get((row["configuration"], row["replication"]), 0))
        assert stored_trips >= int(row["breaker_trips"])  # warm-up trips are not counted there


def test_transitions_derived_from_the_timeline_match_to_the_second(
    stored: tuple[RunOutput, RunData],
) -> None:
    _, data = stored
    derived = transitions_from_timeline(data.timeline)
    assert not derived.empty
    exact = data.transitions
    for row in derived.to_dict("records"):
        second = float(row["time_s"])
        same = exact[
            (exact["configuration"] == row["configuration"])
            & (exact["replication"] == row["replication"])
            & (exact["breaker"] == row["breaker"])
            & (exact["time_s"] >= second)
            & (exact["time_s"] < second + 1)
        ]
        assert not same.empty, f"no stored transition in the second of {row}"
        assert row["to_state"] in set(same["to_state"])


def test_the_report_reads_orders_a_run_at_a_time_giving_the_whole_tables(
    stored: tuple[RunOutput, RunData],
) -> None:
    """Latency over time and gateway shares read from the store's files a batch at a time
    (what the report does) equal the same tables made from the whole orders table."""
    run, _ = stored
    data = load_run(run.directory)
    horizon = data.loaded.scenario.horizon
    latency, shares = data.latency_over_time(horizon, 7.0), data.gateway_shares(horizon, 13.0)
    assert "orders" not in data.__dict__, "the whole orders table was read"
    whole = plotdata.latency_over_time(
        data.orders, horizon, bin_s=7.0, configurations=data.configurations
    )
    pd.testing.assert_frame_equal(latency, whole, check_exact=True)
    assert latency["orders"].sum() > 0
    pd.testing.assert_frame_equal(
        shares, mitigations.gateway_shares(data.orders, horizon, bin_s=13.0), check_exact=True
    )


def test_load_run_rejects_what_is_not_a_run(tmp_path: Path) -> None:
    from sim.errors import ConfigError

    with pytest.raises(ConfigError, match=r"summary\.csv"):
        load_run(tmp_path)


def timeline(calls: list[float], arrivals: list[int], queue: list[float]) -> pd.DataFrame:
    n = len(calls)
    return pd.DataFrame(
        {
            "configuration": pd.Categorical(["a"] * n),
            "replication": 0,
            "second": np.arange(n),
            "arrivals": arrivals,
            "calls_primary": calls,
            "calls_secondary": np.zeros(n),
            "checkout_queue": queue,
        }
    )


def test_call_amplification_is_calls_per_arriving_order_per_bin() -> None:
    # Running totals: 2 calls in second 0, 4 in second 1 (a gap sampled as NaN), 6 in 2-3.
    frame = timeline([2, math.nan, 6, 12], [1, 1, 2, 2], [0, 0, 0, 0])
    out = dynamics.call_amplification(frame, horizon=4, bin_s=2)
    primary = out[out["dependency"] == "primary"].set_index("time_s")
    assert primary.loc[0, "calls"] == 2 + 0  # the NaN second carries the total forward
    assert primary.loc[2, "calls"] == 4 + 6
    assert primary.loc[0, "calls_per_order"] == pytest.approx(1.0)
    assert primary.loc[2, "calls_per_order"] == pytest.approx(10 / 4)
    total = out[out["dependency"] == "all"].set_index("time_s")
    assert total["calls"].tolist() == primary["calls"].tolist()


def test_call_amplification_is_nan_without_arrivals() -> None:
    out = dynamics.call_amplification(timeline([1, 2], [0, 0], [0, 0]), horizon=2, bin_s=2)
    assert out["calls_per_order"].isna().all()


def test_queue_depth_keeps_the_drain_after_the_horizon() -> None:
    frame = timeline([0] * 6, [1] * 6, [0, 2, 4, 2, 1, 0])
    out = dynamics.queue_depth(frame, horizon=2, bin_s=1)
    assert out["queue"].unique().tolist() == ["checkout"]
    assert out["time_s"].tolist() == [0, 1, 2, 3, 4]  # until the queue is empty
    assert out["depth"].tolist() == [0, 2, 4, 2, 1]


def test_fault_schedule_splits_flapping_into_down_periods(tmp_path: Path) -> None:
    faults = [
        {"target": "primary", "kind": "flapping", "start": "60s", "duration": "100s",
         "down": "20s", "up": "30s"},
        {"target": "orders_db", "kind": "error_rate", "start": "0s", "duration": "10s",
         "probability": "25%", "ramp": "5s"},
    ]  # fmt: skip
    loaded = load_scenario(write_scenario(tmp_path, faults=faults))
    out = dynamics.fault_schedule(loaded.scenario)
    flapping = out[out["kind"] == "flapping"]
    assert flapping[["start_s", "end_s"]].to_numpy().tolist() == [[60, 80], [110, 130]]
    errors = out[out["kind"] == "error_rate"].iloc[0]
    assert errors["label"] == "error_rate 25%"
    assert errors["ramp_s"] == 5


def test_breaker_trips_per_replication() -> None:
    transitions = pd.DataFrame(
        {
            "configuration": ["b", "b", "b"],
            "replication": [0, 0, 1],
            "time_s": [10.5, 20.0, 12.0],
            "breaker": ["primary"] * 3,
            "from_state": ["closed", "open", "closed"],
            "to_state": ["open", "half_open", "open"],
        }
    )
    out = dynamics.breaker_trips(transitions, replications=4).iloc[0]
    assert out["trips"] == pytest.approx(2 / 4)
    assert out["first_open_s"] == 10.5


def test_pareto_front_and_the_pick_on_its_interval() -> None:
    points = pd.DataFrame(
        {
            "lost": [10.0, 12.0, 9.0, 11.0],
            "lost_ci_low": [8.0, 11.0, 5.0, 10.0],
            "lost_ci_high": [12.0, 13.0, 13.0, 12.0],
            "p99": [2.0, 1.0, 2.9, 2.5],
            "p99_ci_low": [1.9, 0.9, 2.5, 2.4],
            "p99_ci_high": [2.1, 1.1, 3.3, 2.6],
        }
    )
    front = pareto.pareto_front(points, "lost", "p99")
    assert front["pareto"].tolist() == [True, True, True, False]  # 3 is worse than 0 on both
    # Point 2 has the lowest mean but its p99 interval crosses the budget of 3 s.
    assert pareto.pick_setting(points, "lost", "p99", budget=3.0) == 0
    assert pareto.feasible(points, "p99", 3.0)["feasible"].tolist() == [True, True, False, True]
    with pytest.raises(ValueError, match="no point"):
        pareto.pick_setting(points, "lost", "p99", budget=0.5)
