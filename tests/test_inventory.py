"""Finite stock, pessimistic reservation, the availability cache and the grace buffer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.analysis import summary_row
from sim.config import load_scenario
from sim.engine import RunResult, simulate
from sim.engine.records import COMPLETED
from tests.conftest import MODEL, write_scenario


def shop_with(tmp_path: Path, products: int, stock: int, popularity: float = 0.0) -> str:
    model = yaml.safe_load(MODEL.read_text())
    model["catalogue"] = {
        "products": products,
        "popularity": popularity,
        "stock": {"constant": stock},
    }
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(model))
    return str(path)


def run(
    tmp_path: Path, model: str, inventory: dict[str, Any], faults: list[dict[str, Any]], **kw: Any
) -> RunResult:
    path = write_scenario(
        tmp_path, model=model, faults=faults, configurations={"c": {"inventory": inventory}}, **kw
    )
    return simulate(load_scenario(path), "c", 0)


def test_a_flash_sale_sells_out_and_never_oversells_without_grace(tmp_path: Path) -> None:
    result = run(tmp_path, shop_with(tmp_path, products=3, stock=20), {}, [])
    completed = np.count_nonzero(result.outcome == COMPLETED)
    assert completed == 60  # every unit sold, none twice
    assert result.samples["stock_units"][-1] == 0
    assert max(result.samples["oversold_units"]) == 0
    row = summary_row(result)
    assert int(row["stockouts"]) > 0 and float(row["revenue_lost_stockout"]) > 0


def test_reservations_are_released_when_payment_fails(tmp_path: Path) -> None:
    outage = [{"target": "primary", "kind": "outage", "start": "1m", "duration": "1m"}]
    result = run(tmp_path, shop_with(tmp_path, products=2, stock=5000), {}, outage)
    completed = np.count_nonzero(result.outcome == COMPLETED)
    assert result.samples["stock_units"][-1] == 10000 - completed


def test_grace_buffer_keeps_selling_from_the_cache_and_oversells_across_nodes(
    tmp_path: Path,
) -> None:
    model = shop_with(tmp_path, products=1, stock=1200)
    down = [{"target": "inventory_service", "kind": "outage", "start": "1m", "duration": "2m"}]
    none = summary_row(run(tmp_path, model, {"cache_ttl": "10m", "grace_units": 0}, down))
    small = summary_row(run(tmp_path, model, {"cache_ttl": "10m", "grace_units": 50}, down))
    large = summary_row(run(tmp_path, model, {"cache_ttl": "10m", "grace_units": 100000}, down))
    assert none["sold_from_cache"] == 0
    assert 0 < int(small["sold_from_cache"]) <= 4 * 50  # four checkout nodes, 50 each
    assert small["oversold"] == 0
    assert int(large["sold_from_cache"]) > int(small["sold_from_cache"])
    assert int(large["oversold"]) > 0  # each node sold the units the others also sold
    # In a sell-out a grace buffer within real stock only sells the same units earlier;
    # revenue kept beyond that comes from overselling.
    assert int(small["completed"]) >= int(none["completed"])
    assert float(large["revenue_lost"]) < float(none["revenue_lost"])


def test_a_stale_cache_is_not_used(tmp_path: Path) -> None:
    model = shop_with(tmp_path, products=1, stock=100000)
    down = [{"target": "inventory_service", "kind": "outage", "start": "1m", "duration": "2m"}]
    result = summary_row(run(tmp_path, model, {"cache_ttl": "5s", "grace_units": 100000}, down))
    # Only orders within 5 s of the last successful call may use the cache.
    assert 0 < int(result["sold_from_cache"]) < 15 * 5 * 1.5
