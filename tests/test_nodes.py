"""Checkout nodes with stacks of their own: per-node breakers, stale copies of a shared
breaker, and configuration changes that reach the nodes at different times."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.summary import summary_row
from sim.cli import app
from sim.config import LoadedScenario
from sim.config.loader import load_scenario
from sim.engine import RunResult, simulate
from sim.engine.records import COMPLETED, FAILED
from sim.errors import ConfigError
from tests.conftest import MODEL, write_scenario

BREAKER = {
    "failure_rate_threshold": "50%",
    "sliding_window_size": 20,
    "minimum_number_of_calls": 10,
    "wait_duration_in_open_state": "10s",
}
OUTAGE = {"target": "primary", "kind": "outage", "start": "2m", "duration": "1m"}
ERRORS = {"target": "primary", "kind": "error_rate", "probability": "40%"}
ORDER_COLUMNS = ("outcome", "cause", "gateway", "checkout_end")
NODES = 4  # the reference shop's checkout nodes


def load(tmp_path: Path, **overrides: Any) -> LoadedScenario:
    return load_scenario(write_scenario(tmp_path, **overrides))


def run(tmp_path: Path, configuration: dict[str, Any], **overrides: Any) -> RunResult:
    """The one configuration ``c`` of a short scenario, replication 0 (invariants checked)."""
    overrides.setdefault("horizon", "5m")
    return simulate(load(tmp_path, configurations={"c": configuration}, **overrides), "c", 0)


def same_orders(a: RunResult, b: RunResult) -> bool:
    return a.outcome.size > 0 and all(
        np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True) for f in ORDER_COLUMNS
    )


def one_node_model(tmp_path: Path) -> str:
    model = yaml.safe_load(MODEL.read_text("utf-8"))
    model["checkout"]["nodes"] = 1
    model["checkout"]["workers"] = 160  # the four nodes' workers on one node
    path = tmp_path / "one_node.yaml"
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return str(path)


def by_breaker(result: RunResult) -> dict[str, list[tuple[float, str]]]:
    out: dict[str, list[tuple[float, str]]] = {}
    for time, name, _old, new in result.transitions:
        out.setdefault(name, []).append((time, new))
    return out


def open_seconds(events: list[tuple[float, str]], start: float, end: float) -> float:
    """Seconds in [start, end] a breaker spent open or forced open."""
    total, opened = 0.0, None
    for time, new in sorted(events):
        if new in ("open", "forced_open"):
            opened = time if opened is None else opened
        elif opened is not None:
            total += max(0.0, min(time, end) - max(opened, start))
            opened = None
    if opened is not None:
        total += max(0.0, end - max(opened, start))
    return total


# -- separate stacks that behave as one -------------------------------------------------------


def test_a_change_propagating_in_zero_seconds_gives_the_same_orders(tmp_path: Path) -> None:
    """A propagation forces a stack per node; with no delay they must all act as one."""
    configuration = {
        "payment": {
            "timeout": "2s",
            "routing": "priority",
            "failover": True,
            "retry": {"max_attempts": 2},
            "breaker": BREAKER,
        },
        "order_record": {"breaker": BREAKER},
    }
    change = {
        "at": "90s",
        "until": "4m",
        "set": {"payment.timeout": "1s", "payment.breaker.failure_rate_threshold": "30%"},
    }
    faults = [OUTAGE, {**ERRORS, "start": "4m", "duration": "1m"}]
    at_once = run(tmp_path, configuration, faults=faults, horizon="6m", config_changes=[change])
    propagated = run(
        tmp_path,
        configuration,
        faults=faults,
        horizon="6m",
        config_changes=[{**change, "propagation": {"constant": 0}}],
    )
    assert same_orders(at_once, propagated)
    assert at_once.transitions == propagated.transitions
    assert len(at_once.transitions) > 4  # the breaker had things to do
    assert at_once.config_events == propagated.config_events
    assert propagated.config_propagation == [0.0, 0.0] and propagated.config_disagreement == []
    # The change does something: without it the orders differ.
    unchanged = run(tmp_path, configuration, faults=faults, horizon="6m")
    assert not same_orders(at_once, unchanged)


def test_per_node_breakers_on_a_single_node_are_the_shared_breaker(tmp_path: Path) -> None:
    model = one_node_model(tmp_path)
    payment = {"timeout": "2s", "failover": True, "breaker": BREAKER}
    shared = run(tmp_path, {"payment": payment}, model=model)
    per_node = run(
        tmp_path, {"breaker_state": {"scope": "per_node"}, "payment": payment}, model=model
    )
    assert shared.nodes == per_node.nodes == 1
    assert same_orders(shared, per_node)
    assert shared.transitions and {n for _, n, _, _ in per_node.transitions} <= {
        "primary@0",
        "secondary@0",
    }
    renamed = [(t, n.replace("@0", ""), o, s) for t, n, o, s in per_node.transitions]
    assert renamed == shared.transitions
    a, b = summary_row(shared), summary_row(per_node)
    assert a["breaker_trips"] == b["breaker_trips"] > 0
    assert a["breaker_open_s"] == pytest.approx(b["breaker_open_s"])


# -- a breaker per node -------------------------------------------------------------------------


def test_per_node_breakers_each_trip_on_their_own_calls(tmp_path: Path) -> None:
    payment = {"timeout": "2s", "failover": True, "breaker": BREAKER}
    shared = run(tmp_path, {"payment": payment})
    per_node = run(tmp_path, {"breaker_state": {"scope": "per_node"}, "payment": payment})
    assert per_node.nodes == shared.nodes == NODES
    names = [f"primary@{k}" for k in range(NODES)]
    events = by_breaker(per_node)
    assert set(names) <= set(events) and "primary" not in events
    assert {f"breaker_{n}" for n in names} <= set(per_node.samples)
    assert set(by_breaker(shared)) == {"primary"}
    for name in names:  # every node's own instance trips during the outage (2m to 3m)
        trips = [t for t, new in events[name] if new == "open"]
        assert trips and 120.0 < trips[0] < 135.0, name
    a, b = summary_row(shared), summary_row(per_node)
    assert b["breaker_trips"] > a["breaker_trips"] > 0
    assert b["breaker_trips"] == sum(
        new == "open" and t >= per_node.warmup for t, _n, _o, new in per_node.transitions
    )
    assert b["breaker_disagreement_s"] > 0
    assert a["breaker_disagreement_s"] == 0
    # A node's breaker counts for its share of the nodes: open seconds are the nodes' mean.
    mean_open = (
        sum(open_seconds(events[n], per_node.warmup, per_node.end_time) for n in names) / NODES
    )
    assert b["breaker_open_s"] == pytest.approx(mean_open)
    assert 30.0 < b["breaker_open_s"] < 120.0


def test_a_rule_forces_every_nodes_breaker_open(tmp_path: Path) -> None:
    configuration = {
        "breaker_state": {"scope": "per_node"},
        "payment": {
            "failover": True,
            "breaker": {"failure_rate_threshold": "90%", "minimum_number_of_calls": 100},
        },
    }
    result = run(
        tmp_path,
        configuration,
        horizon="4m",
        faults=[{**ERRORS, "probability": "60%", "start": "1m", "duration": "2m"}],
        rules=[
            {
                "dependency": "primary",
                "error_rate_above": "30%",
                "window": "20s",
                "hold": "30s",
                "action": "force_open",
            }
        ],
    )
    ons = [t for t, text in result.config_events if text.startswith("rule on")]
    offs = [t for t, text in result.config_events if text.startswith("rule off")]
    assert ons and 60.0 < ons[0] < 90.0
    events = by_breaker(result)
    for k in range(NODES):
        states = events[f"primary@{k}"]
        assert [t for t, new in states if new == "forced_open"] == ons, k
        assert [t for t, new in states if new == "closed"] == offs, k


def test_a_stale_copy_of_the_shared_breaker_keeps_calling_a_dead_gateway(
    tmp_path: Path,
) -> None:
    payment = {"timeout": "2s", "failover": True, "breaker": BREAKER}
    fresh = run(tmp_path, {"payment": payment})
    stale = run(tmp_path, {"breaker_state": {"read_delay": "5s"}, "payment": payment})
    assert {n for _, n, _, _ in stale.transitions} == {"primary"}  # one breaker in the store
    assert summary_row(stale)["breaker_trips"] > 0
    # Every call in the outage fails: nodes reading a 5 s old copy send more of them.
    assert len(stale.dependency_errors["primary"]) > 1.2 * len(fresh.dependency_errors["primary"])


# -- slow propagation ---------------------------------------------------------------------------

CHANGE = {"at": "90s", "until": "3m", "set": {"payment.timeout": "1s"}}
PAYMENT = {"payment": {"timeout": "2s", "failover": True, "breaker": BREAKER}}


@pytest.mark.parametrize("delay", [0.3, 45.0])
def test_a_constant_propagation_delay_reaches_every_node_at_once(
    tmp_path: Path, delay: float
) -> None:
    result = run(tmp_path, PAYMENT, config_changes=[{**CHANGE, "propagation": {"constant": delay}}])
    assert result.config_propagation == pytest.approx([delay, delay], abs=1e-9)
    assert result.config_disagreement == []
    row = summary_row(result)
    assert row["config_disagreement_s"] == 0
    assert row["config_propagation_max_s"] == pytest.approx(delay, abs=1e-9)
    assert [t for t, _ in result.config_events] == [90.0, 180.0]  # issued on time


def check_disagreement(result: RunResult, edges: list[float]) -> None:
    spans, spread = result.config_disagreement, result.config_propagation
    assert len(spread) == len(edges)
    windows = [(t, t + s) for t, s in zip(edges, spread, strict=True)]
    for a, b in spans:
        assert a < b
        # Nodes disagree only while some version has not reached them all.
        assert any(lo <= a and b <= hi + 1e-9 for lo, hi in windows), (a, b)
    for (_, b), (a, _) in itertools.pairwise(spans):
        assert b <= a  # ordered, disjoint
    total = sum(b - a for a, b in spans)
    assert 0 < total <= sum(spread) + 1e-9
    assert summary_row(result)["config_disagreement_s"] == pytest.approx(
        sum(max(0.0, b - max(a, result.warmup)) for a, b in spans)
    )


def test_an_empirical_propagation_makes_nodes_disagree(tmp_path: Path) -> None:
    propagation = {"empirical": ["0s", "60s"]}
    result = run(tmp_path, PAYMENT, config_changes=[{**CHANGE, "propagation": propagation}])
    check_disagreement(result, [90.0, 180.0])
    assert set(result.config_propagation) <= {0.0, 60.0}
    # A node either takes the change at once or a minute later.
    for a, b in result.config_disagreement:
        assert a in (90.0, 180.0) and b == a + 60.0
    again = run(tmp_path, PAYMENT, config_changes=[{**CHANGE, "propagation": propagation}])
    assert same_orders(result, again) and result.transitions == again.transitions
    assert result.config_disagreement == again.config_disagreement


def test_a_lognormal_propagation_is_deterministic_per_seed(tmp_path: Path) -> None:
    change = {**CHANGE, "propagation": {"lognormal": {"median": "20s", "p99": "2m"}}}
    first = run(tmp_path, PAYMENT, config_changes=[change])
    second = run(tmp_path, PAYMENT, config_changes=[change])
    check_disagreement(first, [90.0, 180.0])
    assert same_orders(first, second)
    assert first.transitions == second.transitions
    assert first.config_disagreement == second.config_disagreement
    assert first.config_propagation == second.config_propagation
    other = simulate(
        load(tmp_path, configurations={"c": PAYMENT}, config_changes=[change], horizon="5m"),
        "c",
        0,
        seed=6,
    )
    assert other.config_propagation != first.config_propagation


def test_a_node_without_the_change_still_runs_the_old_configuration(tmp_path: Path) -> None:
    """The primary hangs; at 2m the payment timeout drops from 10 s to 1 s, reaching every
    node two minutes later. Payments in between still wait the full 10 s."""

    def checkout_times(propagation: dict[str, Any] | None) -> tuple[RunResult, np.ndarray]:
        change: dict[str, Any] = {"at": "2m", "set": {"payment.timeout": "1s"}}
        if propagation is not None:
            change["propagation"] = propagation
        result = run(
            tmp_path,
            {"payment": {"timeout": "10s"}},
            horizon="6m",
            traffic={"rate": "5/s", "basket": {"constant": 50}, "patience": {"constant": "1h"}},
            faults=[{"target": "primary", "kind": "hang", "start": "1m", "duration": "5m"}],
            config_changes=[change],
        )
        return result, result.checkout_end - result.arrival

    def window(result: RunResult, took: np.ndarray, start: float, end: float) -> np.ndarray:
        ended = np.isin(result.outcome, [COMPLETED, FAILED])
        selected = took[ended & (result.arrival >= start) & (result.arrival < end)]
        assert selected.size > 100
        return selected

    slow, took = checkout_times({"constant": "120s"})
    assert slow.config_propagation == [120.0]
    before = window(slow, took, 70.0, 110.0)  # the hang, before the change
    pending = window(slow, took, 122.0, 228.0)  # issued, not yet on any node
    taken = window(slow, took, 245.0, 350.0)  # every node has it
    assert before.min() > 9.5 and before.max() < 13.0
    assert pending.min() > 9.5 and pending.max() < 13.0
    assert taken.min() > 0.9 and taken.max() < 3.0
    at_once, took_at_once = checkout_times(None)
    assert window(at_once, took_at_once, 122.0, 228.0).max() < 3.0  # the change does matter


# -- a shared breaker behind a read delay -------------------------------------------------------


def test_a_breaker_change_applies_behind_a_read_delay(tmp_path: Path) -> None:
    tight = {"failure_rate_threshold": 20, "sliding_window_size": 20}
    tight |= {"minimum_number_of_calls": 10, "wait_duration_in_open_state": "10s"}
    widen = {"at": "50s", "until": "3m10s", "set": {"payment.breaker.failure_rate_threshold": 90}}
    errors = [{**ERRORS, "probability": "30%", "start": "1m", "duration": "2m"}]
    trips = {}
    for read_delay in ("0s", "1s"):
        configuration = {
            "breaker_state": {"read_delay": read_delay},
            "payment": {"failover": True, "breaker": tight},
        }
        unchanged = run(tmp_path, configuration, horizon="4m", faults=errors)
        assert summary_row(unchanged)["breaker_trips"] > 0  # the tight breaker does trip
        widened = run(tmp_path, configuration, horizon="4m", faults=errors, config_changes=[widen])
        trips[read_delay] = summary_row(widened)["breaker_trips"]
    assert trips == {"0s": 0, "1s": 0}


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        {"breaker_state.scope": "per_node"},
        {"breaker_state": {"scope": "per_node"}},
        {"breaker_state.read_delay": "2s"},
    ],
)
def test_a_change_of_where_breaker_state_lives_is_refused(
    tmp_path: Path, setting: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, config_changes=[{"at": "1m", "set": setting}])
    assert err.value.path.startswith("config_changes[0]")
    assert "config_changes[0]" in str(err.value) and "breaker_state" in str(err.value)


def test_a_read_delay_with_per_node_breakers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(
            tmp_path,
            configurations={"c": {"breaker_state": {"scope": "per_node", "read_delay": "5s"}}},
        )
    assert err.value.path == "configurations.c.breaker_state"
    assert "read_delay" in err.value.message and "shared" in err.value.message


def test_validate_exits_2_on_a_breaker_state_change(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path, config_changes=[{"at": "1m", "set": {"breaker_state.scope": "per_node"}}]
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "config_changes[0]" in result.stderr and "breaker_state" in result.stderr
