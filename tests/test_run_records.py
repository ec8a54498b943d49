"""What a run keeps: typed per-order columns, streams keyed by position, no garbage cycles."""

from __future__ import annotations

import dataclasses
import gc
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from sim.config import LoadedScenario, load_scenario
from sim.engine import RunResult, simulate
from sim.engine.orders import OrderTable
from sim.engine.records import COMPLETED, FAILED, PENDING
from sim.engine.simulation import config_changes
from tests.conftest import write_scenario

# The RunResult contract: every per-order column and its numpy dtype.
PER_ORDER = {
    "arrival": np.float64,
    "basket": np.float64,
    "outcome": np.int8,
    "cause": np.int16,
    "checkout_end": np.float64,
    "gateway": np.int8,
    "fee": np.float64,
    "confirmed_by": np.int8,
    "confirmed_at": np.float64,
    "notifications_sent": np.int8,
    "duplicate": np.int8,
    "queued": np.bool_,
    "compensated": np.bool_,
    "double_charges": np.int8,
    "charged_without_order": np.int8,
    "refunded": np.float64,
    "final_at": np.float64,
    "fulfilled": np.bool_,
    "failed_over": np.bool_,
    "product": np.int32,
    "stock_flag": np.int8,
    "interrupted": np.bool_,
    "resumed": np.bool_,
    "compensated_after_crash": np.bool_,
    "recovered_at": np.float64,
    "restarted_at": np.float64,
}


def test_per_order_columns_are_numpy_arrays_of_their_dtypes(tiny: LoadedScenario) -> None:
    result = simulate(tiny, "breaker", 0)
    assert result.orders > 1000
    for name, dtype in PER_ORDER.items():
        column = getattr(result, name)
        assert isinstance(column, np.ndarray), name
        assert column.dtype == dtype, (name, column.dtype)
        assert column.shape == (result.orders,), name
    names = {f.name for f in dataclasses.fields(RunResult)}
    arrays = {n for n in names if isinstance(getattr(result, n), np.ndarray)}
    assert arrays == set(PER_ORDER)  # nothing per order kept as a list of Python objects


@pytest.mark.slow
def test_a_run_leaves_no_garbage_cycles(tiny: LoadedScenario) -> None:
    """Finished orders are freed by reference counting, not left to the cyclic collector
    (a task holding its own bound method once left four objects per order)."""
    simulate(tiny, "breaker", 0)
    while gc.collect():  # earlier tests' garbage: a figure's frees more on a second pass
        pass
    gc.disable()
    try:
        result = simulate(tiny, "breaker", 0)
        orders = result.orders
        del result
        left = gc.collect()
    finally:
        gc.enable()
    assert left < orders / 10, (left, orders)


def test_orders_still_pending_at_the_drain_limit_fail_as_unfinished() -> None:
    n = 5
    table = OrderTable(np.arange(n, dtype=float), np.ones(n), np.ones(n), np.zeros(n))
    table.end(0, FAILED, "payment_timeout")
    table.complete(1, 0, 0.5, 3.0)
    table.fail_unfinished()
    columns = table.columns()
    assert table.cause_codes == {"payment_timeout": 0, "unfinished": 1}
    assert columns["outcome"].tolist() == [FAILED, COMPLETED, FAILED, FAILED, FAILED]
    assert columns["cause"].tolist() == [0, -1, 1, 1, 1]
    assert PENDING not in columns["outcome"]
    assert columns["final_at"][1] == 3.0 and math.isnan(columns["final_at"][0])


def test_unfinished_is_named_even_when_nothing_is_pending() -> None:
    table = OrderTable(np.zeros(1), np.ones(1), np.ones(1), np.zeros(1))
    table.complete(0, 0, 0.0, 1.0)
    table.fail_unfinished()
    assert list(table.cause_codes) == ["unfinished"]
    assert table.columns()["outcome"].tolist() == [COMPLETED]


def _propagating(tmp_path: Path, changes: list[dict[str, object]]) -> LoadedScenario:
    return load_scenario(write_scenario(tmp_path, config_changes=changes))


CHANGE = {
    "at": "1m",
    "until": "2m",
    "set": {"payment.timeout": "3s"},
    "propagation": {"exponential": {"mean": "20s"}},
}


def test_identical_config_changes_draw_from_streams_of_their_own(tmp_path: Path) -> None:
    loaded = _propagating(tmp_path, [CHANGE, dict(CHANGE)])
    changes, delays = config_changes(loaded.scenario, "plain", 5, 0)
    assert changes[0] == changes[1]  # equal: a lookup by value would find the first one
    first = list(itertools.islice(delays[0], 8))
    second = list(itertools.islice(delays[1], 8))
    assert first != second


def test_a_change_stream_is_named_by_its_place_in_the_scenario(tmp_path: Path) -> None:
    """A change that applies to one configuration only does not shift the streams of the
    changes after it: every configuration draws the same delays for a change."""
    only_breaker = dict(CHANGE, configurations=["breaker"])
    loaded = _propagating(tmp_path, [only_breaker, CHANGE])
    plain_changes, plain_delays = config_changes(loaded.scenario, "plain", 5, 0)
    breaker_changes, breaker_delays = config_changes(loaded.scenario, "breaker", 5, 0)
    assert len(plain_changes) == 1 and len(breaker_changes) == 2
    shared_in_plain = list(itertools.islice(plain_delays[0], 8))
    shared_in_breaker = list(itertools.islice(breaker_delays[1], 8))
    assert shared_in_plain == shared_in_breaker
    assert list(itertools.islice(breaker_delays[0], 8)) != shared_in_breaker


@pytest.mark.parametrize("configuration", ["plain", "breaker"])
def test_a_run_with_two_identical_propagating_changes_completes(
    tmp_path: Path, configuration: str
) -> None:
    loaded = _propagating(tmp_path, [CHANGE, dict(CHANGE)])
    result = simulate(loaded, configuration, 0)
    assert len(result.config_propagation) == 2  # the change, and its undoing
    assert all(spread >= 0 for spread in result.config_propagation)
