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
    assert "99.5 ± 0.5" in printed


def test_tune_lines_mark_a_difference_that_excludes_zero(capsys, tmp_path) -> None:
    from types import SimpleNamespace

    from sim.views import show_tune

    fresh = pd.DataFrame(
        {
            "kind": ["tuned − base", "tuned − base", "tuned"],
            "scenario": ["s", "s", "s"],
            "metric": ["revenue_lost", "checkout_p99_s", "revenue_lost"],
            "mean": [-120.0, math.nan, 5.0],
            "ci_low": [-200.0, math.nan, 4.0],
            "ci_high": [-40.0, math.nan, 6.0],
        }
    )
    show_tune(SimpleNamespace(winner={"x": 1}, fresh=fresh, directory=tmp_path))
    lines = capsys.readouterr().out.splitlines()
    assert "tuned − base revenue_lost = -120 [-200, -40] *" in lines[1]
    assert lines[2].endswith("tuned − base checkout_p99_s = –")
    assert lines[3] == f"policy: {tmp_path / 'policy.yaml'}"
