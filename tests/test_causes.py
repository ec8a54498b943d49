"""Every lost dollar is shown under its cause: the causes come from the data, so the table,
the bars and report.html add up to the total in every shipped scenario, and a count of
nothing is 0, never NaN."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from sim.analysis import summarize
from sim.analysis.plotdata import causes_shown, revenue_lost
from sim.analysis.summary import UNDEFINED_WITHOUT_DATA, lost_causes
from sim.config import load_scenario
from sim.engine import simulate
from sim.report.plots import revenue_lost_bars
from sim.report.tables import lost_by_cause

ROOT = Path(__file__).resolve().parents[1]


def legend_labels(lost: pd.DataFrame) -> list[str]:
    fig = revenue_lost_bars(lost)
    legend = fig.axes[0].get_legend()
    labels = [t.get_text() for t in legend.get_texts()] if legend else []
    plt.close(fig)
    return labels


def assert_causes_add_up(summary: pd.DataFrame) -> None:
    """The causes the report shows (table and bars) add up to the total for every
    configuration, and no count column holds NaN. ``tests/test_scenarios.py`` calls this on
    every shipped scenario, with the runs it makes anyway."""
    lost = revenue_lost(summary)
    shown = causes_shown(lost)
    for _, row in lost.iterrows():
        assert math.isclose(sum(row[c] for c in shown), row["total"], abs_tol=1e-6), row
    header, rows, _ = lost_by_cause(lost)
    assert header == ["configuration", *shown, "total [95 %]"]
    assert len(rows) == summary["configuration"].nunique()
    assert legend_labels(lost) == shown
    counts = [c for c in summary.columns if c not in UNDEFINED_WITHOUT_DATA]
    assert not summary[counts].isna().any().any(), "a count column holds NaN"


@pytest.mark.slow
def test_crash_causes_are_shown_when_recovery_is_off() -> None:
    """The issue's case: with crash recovery off, orders stuck after a crash lose revenue
    that the fixed cause list left out of the table and the bars."""
    loaded = load_scenario(ROOT / "scenarios" / "checkout_node_crash.yaml")
    summary = summarize([simulate(loaded, "no-recovery", 0)])
    assert_causes_add_up(summary)
    lost = revenue_lost(summary)
    assert "stuck_after_crash" in causes_shown(lost)
    assert "stuck_after_crash" in legend_labels(lost)
    header, _, _ = lost_by_cause(lost)
    assert "stuck_after_crash" in header


def test_a_cause_that_did_not_occur_is_zero_not_nan() -> None:
    summary = pd.DataFrame(
        {
            "configuration": ["a", "b"],
            "replication": [0, 0],
            "revenue_lost": [10.0, 5.0],
            "revenue_lost_payment": [10.0, 0.0],
            "revenue_lost_crash": [math.nan, 5.0],  # as pandas builds it from uneven rows
        }
    )
    assert lost_causes(summary) == ["payment", "crash"]
    lost = revenue_lost(summary)
    assert lost.loc[lost["configuration"] == "a", "crash"].item() == 0.0
    assert causes_shown(lost) == ["payment", "crash"]


def test_an_interval_below_zero_is_clipped_and_said_so() -> None:
    summary = pd.DataFrame(
        {
            "configuration": ["a"] * 3,
            "replication": [0, 1, 2],
            "revenue_lost": [0.0, 0.0, 90.0],
            "revenue_lost_payment": [0.0, 0.0, 90.0],
        }
    )
    lost = revenue_lost(summary)
    assert lost["ci_low"].item() < 0
    assert lost["ci_low_clipped"].item() == 0.0
    _, rows, footnote = lost_by_cause(lost)
    assert rows[0][-1] == "30 [0 to 159]†"
    assert footnote.startswith("†: the 95 % interval reached past a bound")
