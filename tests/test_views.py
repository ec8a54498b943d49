"""The terminal's tables show a dash, never 'nan', for a value with no data."""

from __future__ import annotations

import math

import pandas as pd

from sim.views import DASH, interval, number, sweep_table


def test_numbers_and_intervals_without_data_are_dashes() -> None:
    assert number(math.nan) == DASH
    assert number(0.12345) == "0.1235"
    assert number(3.0, "+.4g") == "+3"
    assert interval(math.nan, 1.0) == DASH
    assert interval(1.0, 2.5) == "[1, 2.5]"


def test_sweep_table_of_a_point_without_completed_orders(capsys) -> None:
    table = pd.DataFrame(
        {
            "configuration": ["a", "a"],
            "metric": ["revenue_lost_pct", "checkout_p99_s"],
            "mean": [100.0, math.nan],
            "ci_low": [100.0, math.nan],
            "ci_high": [100.0, math.nan],
        }
    )
    sweep_table(1, table)
    printed = capsys.readouterr().out
    assert "checkout_p99_s" in printed and DASH in printed
    assert "nan" not in printed.lower()
    assert "[100, 100]" in printed
