"""Replications and statistics: intervals, paired differences, sequential precision."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.analysis.precision import Precision
from sim.analysis.stats import mean_ci, paired_differences, replications_needed
from sim.app.run import run_scenario
from tests.conftest import write_scenario


def frame(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"configuration": config, "replication": rep, "revenue_lost": value}
        for config, series in values.items()
        for rep, value in enumerate(series)
    ]
    return pd.DataFrame(rows)


def test_paired_difference_is_the_mean_of_per_replication_differences() -> None:
    base = [100.0, 200.0, 300.0, 400.0]
    other = [90.0, 191.0, 289.0, 392.0]  # 10, 9, 11, 8 less: small spread
    diff = paired_differences(frame({"base": base, "other": other}), "base")
    row = diff[diff["metric"] == "revenue_lost"].iloc[0]
    assert row["configuration"] == "other" and row["baseline"] == "base"
    assert row["mean"] == pytest.approx(-9.5)
    expected = mean_ci(np.subtract(other, base))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(expected[1:])
    # Pairing removes the replication-to-replication spread an unpaired interval carries.
    _, low, high = mean_ci(np.asarray(other))
    assert row["ci_high"] - row["ci_low"] < (high - low) / 20
    assert row["relative"] == pytest.approx(-9.5 / 250)


def test_paired_differences_skip_the_baseline_and_keep_order() -> None:
    summary = frame({"b": [1, 2], "a": [2, 3], "c": [0, 1]})
    diff = paired_differences(summary, "b")
    assert list(dict.fromkeys(diff["configuration"])) == ["a", "c"]


def test_replications_needed_grows_with_the_spread_and_respects_the_cap() -> None:
    tight = frame({"x": [100.0, 101.0, 99.0, 100.0]})
    assert replications_needed(tight, "revenue_lost", 0.05, relative=True, cap=50) == 4
    loose = frame({"x": [100.0, 140.0, 60.0, 100.0]})
    needed = replications_needed(loose, "revenue_lost", 0.05, relative=True, cap=1000)
    assert needed > 4
    assert replications_needed(loose, "revenue_lost", 0.05, relative=True, cap=10) == 10
    single = frame({"x": [100.0]})
    assert replications_needed(single, "revenue_lost", 1.0, relative=False, cap=9) == 2


def test_precision_parses_relative_and_absolute_targets() -> None:
    assert Precision.parse("5%").target == pytest.approx(0.05)
    assert Precision.parse("5%").relative
    absolute = Precision.parse("0.5", "checkout_p99_s")
    assert (absolute.target, absolute.relative, absolute.metric) == (0.5, False, "checkout_p99_s")
    for bad in ("", "abc", "-1", "0%"):
        with pytest.raises(ValueError):
            Precision.parse(bad)


@pytest.mark.slow
def test_summary_ci_has_mean_interval_and_replications(tmp_path: Path) -> None:
    output = run_scenario(write_scenario(tmp_path), out=tmp_path / "r", workers=1)
    ci = pd.read_csv(output.directory / "summary_ci.csv")
    assert list(ci.columns) == [
        "configuration",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "replications",
        "clipped",  # the interval was clipped at its metric's bound (sim.analysis.bounds)
    ]
    assert set(ci["replications"]) == {2}
    counted = ci[ci["metric"] != "revenue_captured"]
    assert (counted["ci_low"].dropna() >= 0).all()
    lost = ci[ci["metric"] == "revenue_lost"]
    assert (lost["ci_low"] <= lost["mean"]).all() and (lost["mean"] <= lost["ci_high"]).all()
    diff = pd.read_csv(output.directory / "differences_ci.csv")
    assert set(diff["configuration"]) == {"breaker"} and set(diff["baseline"]) == {"plain"}
    report = (output.directory / "report.md").read_text("utf-8")
    assert report.index("Compared with the baseline") < report.index("Results per configuration")


@pytest.mark.slow
def test_baseline_option_overrides_the_scenario(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, baseline="plain")
    output = run_scenario(path, out=tmp_path / "r", workers=1, baseline="breaker")
    assert output.baseline == "breaker"
    assert set(output.differences["configuration"]) == {"plain"}


@pytest.mark.slow
def test_precision_replicates_until_the_half_width_is_small_enough(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, replications=2)
    options: dict[str, Any] = {
        "precision": "1.5%",
        "precision_metric": "orders",
        "max_replications": 8,
    }
    output = run_scenario(path, out=tmp_path / "r", workers=2, **options)
    ci = output.ci[output.ci["metric"] == "orders"]
    count = int(ci["replications"].iloc[0])
    assert count > 2, "two replications (t = 12.7) cannot pin orders to 1.5 %"
    half = (ci["ci_high"] - ci["ci_low"]) / 2
    assert (half < 0.015 * ci["mean"]).all() or count == 8
    # The stopping point depends on results only, never on the workers.
    serial = run_scenario(path, out=tmp_path / "s", workers=1, **options)
    assert serial.summary.equals(output.summary)


@pytest.mark.slow
def test_precision_stops_at_the_cap(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, replications=2)
    output = run_scenario(
        path, out=tmp_path / "r", workers=1, precision="0.0001%", max_replications=3
    )
    assert len(output.summary) == 2 * 3


@pytest.mark.slow
def test_warmup_override_counts_fewer_orders(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, replications=1)
    plain = run_scenario(path, out=tmp_path / "a", workers=1)
    later = run_scenario(path, out=tmp_path / "b", workers=1, warmup="2m")
    assert (later.summary["orders"] < plain.summary["orders"]).all()
    assert math.isclose(
        later.summary["orders"].sum() / plain.summary["orders"].sum(), 2 / 3.5, rel_tol=0.2
    )
