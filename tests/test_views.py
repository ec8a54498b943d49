"""The terminal's tables show a dash, never 'nan', for a value with no data."""

from __future__ import annotations

import math

import pandas as pd

from sim.views import sweep_table


def test_sweep_table_of_a_point_without_completed_orders(capsys) -> None:
    table = pd.DataFrame(
        {
            "configuration": ["a", "a"],
            "metric": ["revenue_lost_pct", "checkout_p99_s"],
            "mean": [99.5, math.nan],
            "ci_low": [99.0, math.nan],
            "ci_high": [100.0, math.nan],
        }
    )
    sweep_table(1, table)
    printed = capsys.readouterr().out
    assert "checkout_p99_s" in printed and "–" in printed
    assert "nan" not in printed.lower()
    assert "99.5 ± 0.5 %" in printed  # the precision of the interval, and the unit


def test_tune_lines_show_fresh_differences_with_their_intervals(capsys, tmp_path) -> None:
    from types import SimpleNamespace

    from sim.views import show_tune

    fresh = pd.DataFrame(
        {
            "kind": ["tuned − base", "tuned − base", "tuned"],
            "scenario": ["s", "s", "s"],
            "metric": ["revenue_lost", "checkout_p99_s", "revenue_lost"],
            "mean": [-1200.0, math.nan, 5.0],
            "ci_low": [-2000.0, math.nan, 4.0],
            "ci_high": [-400.0, math.nan, 6.0],
        }
    )
    result = SimpleNamespace(
        decision=None, winner={"x": 1}, fresh=fresh, directory=tmp_path, runs=None, policy=None
    )
    show_tune(result)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "winner: {'x': 1}"
    assert lines[1] == "fresh seeds, s: tuned − base revenue_lost = -1,200 [-2,000 to -400] (95 %)"
    assert lines[2] == "fresh seeds, s: tuned − base checkout_p99_s = – (95 %)"
    assert lines[3].startswith(f"region: {tmp_path / 'region.yaml'}")
