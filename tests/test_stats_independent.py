"""The statistics under every interval and decision, checked against outside values:
scipy.stats' own t interval, Student t quantiles from the printed tables, and means and
differences computed here with numpy, never with the module's helpers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sp

from sim.analysis.stats import (
    by_configuration,
    half_width,
    mean_ci,
    paired_differences,
    replications_needed,
)

T_975_DF4 = 2.7764451052  # Student t, 97.5 % quantile, 4 degrees of freedom (tables)
T_95_DF4 = 2.1318467863  # 95 % quantile, 4 degrees of freedom
T_975_DF1 = 12.7062047364
T_975_DF3 = 3.1824463053


def scipy_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    data = np.asarray(values, dtype=float)
    mean = float(np.mean(data))
    low, high = sp.t.interval(level, df=data.size - 1, loc=mean, scale=sp.sem(data))
    return mean, float(low), float(high)


def long_frame(rows: list[tuple[str, int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["configuration", "replication", "lost", "p99"])


# -- mean_ci ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [[1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 12.5, 9.0], [0.1, 0.4], [3.0, -1.0, 7.0, 2.0, 2.0, 8.0]],
)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_mean_ci_is_scipys_t_interval(values: list[float], level: float) -> None:
    assert mean_ci(np.asarray(values), level) == pytest.approx(scipy_interval(values, level))


def test_mean_ci_uses_n_minus_one_degrees_of_freedom_and_the_sample_deviation() -> None:
    # 1..5: mean 3, sample sd sqrt(2.5), sem sqrt(2.5)/sqrt(5) = sqrt(0.5).
    half = T_975_DF4 * math.sqrt(0.5)
    assert mean_ci(np.arange(1.0, 6.0)) == pytest.approx((3.0, 3.0 - half, 3.0 + half), rel=1e-9)
    half90 = T_95_DF4 * math.sqrt(0.5)
    assert mean_ci(np.arange(1.0, 6.0), 0.9) == pytest.approx((3.0, 3 - half90, 3 + half90))


def test_mean_ci_drops_nan_before_counting() -> None:
    # [1, 3] once the NaNs are gone: mean 2, sd sqrt(2), sem 1, one degree of freedom.
    values = np.array([1.0, math.nan, 3.0, math.nan])
    assert mean_ci(values) == pytest.approx((2.0, 2.0 - T_975_DF1, 2.0 + T_975_DF1), rel=1e-9)


def test_mean_ci_of_nothing_is_nan_and_of_one_value_is_that_value() -> None:
    assert all(math.isnan(v) for v in mean_ci(np.array([])))
    assert all(math.isnan(v) for v in mean_ci(np.array([math.nan, math.nan])))
    assert mean_ci(np.array([4.5])) == (4.5, 4.5, 4.5)
    assert mean_ci(np.array([math.nan, 4.5])) == (4.5, 4.5, 4.5)
    assert mean_ci(np.array([2.0, 2.0, 2.0])) == (2.0, 2.0, 2.0)


def test_mean_ci_takes_a_list() -> None:
    assert mean_ci([1.0, 3.0])[0] == 2.0  # type: ignore[arg-type]


# -- half_width ---------------------------------------------------------------------------


def test_half_width_is_half_the_t_interval() -> None:
    assert half_width(np.arange(1.0, 6.0)) == pytest.approx(T_975_DF4 * math.sqrt(0.5))
    assert half_width(np.arange(1.0, 6.0), 0.9) == pytest.approx(T_95_DF4 * math.sqrt(0.5))
    values = [12.0, 15.0, 11.0, 19.0]
    _, low, high = scipy_interval(values)
    assert half_width(np.asarray(values)) == pytest.approx((high - low) / 2)


def test_half_width_is_infinite_below_two_known_values() -> None:
    assert half_width(np.array([3.0])) == math.inf
    assert half_width(np.array([3.0, math.nan, math.nan])) == math.inf
    assert half_width(np.array([])) == math.inf
    assert half_width(np.array([3.0, math.nan, 5.0])) == pytest.approx(T_975_DF1)


# -- by_configuration ---------------------------------------------------------------------


def test_by_configuration_keeps_each_configurations_own_rows() -> None:
    rows = [
        ("wide", 0, 10.0, 1.0),
        ("narrow", 0, 100.0, 5.0),
        ("wide", 1, 20.0, 2.0),
        ("narrow", 1, 101.0, math.nan),
        ("wide", 2, 60.0, 3.0),
        ("narrow", 2, 102.0, 7.0),
        ("narrow", 3, 103.0, 9.0),
    ]
    table = by_configuration(long_frame(rows))
    assert list(table.columns) == [
        "configuration",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "replications",
    ]
    assert list(zip(table["configuration"], table["metric"], strict=True)) == [
        ("wide", "lost"),
        ("wide", "p99"),
        ("narrow", "lost"),
        ("narrow", "p99"),
    ]
    expected = {
        ("wide", "lost"): ([10.0, 20.0, 60.0], 3),
        ("wide", "p99"): ([1.0, 2.0, 3.0], 3),
        ("narrow", "lost"): ([100.0, 101.0, 102.0, 103.0], 4),
        ("narrow", "p99"): ([5.0, 7.0, 9.0], 4),  # the NaN replication still counts as run
    }
    for _, row in table.iterrows():
        values, count = expected[(row["configuration"], row["metric"])]
        mean, low, high = scipy_interval(values)
        assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((mean, low, high))
        assert row["replications"] == count


def test_by_configuration_passes_the_level_on() -> None:
    rows = [("a", i, v, v) for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 5.0])]
    row = by_configuration(long_frame(rows), level=0.9).iloc[0]
    half = T_95_DF4 * math.sqrt(0.5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3 - half, 3 + half))


# -- paired_differences -------------------------------------------------------------------


def test_paired_differences_pair_by_replication_not_by_position() -> None:
    rows = [
        ("base", 0, 100.0, 1.0),
        ("base", 1, 200.0, 2.0),
        ("base", 2, 300.0, 0.0),
        ("base", 3, 400.0, 4.0),
        # listed out of order, replication 3 missing, a fifth the baseline never ran
        ("new", 2, 289.0, 1.0),
        ("new", 0, 93.0, 1.5),
        ("new", 1, 191.0, math.nan),
        ("new", 4, 999.0, 9.0),
    ]
    table = paired_differences(long_frame(rows), "base")
    assert list(table["metric"]) == ["lost", "p99"]
    lost = table.iloc[0]
    differences = [93.0 - 100.0, 191.0 - 200.0, 289.0 - 300.0]  # replications 0, 1, 2
    mean, low, high = scipy_interval(differences)
    assert (lost["mean"], lost["ci_low"], lost["ci_high"]) == pytest.approx((mean, low, high))
    assert lost["replications"] == 3
    assert lost["baseline_mean"] == pytest.approx(200.0)  # of replications 0, 1, 2
    assert lost["relative"] == pytest.approx(-9.0 / 200.0)
    p99 = table.iloc[1]
    # Replication 1's difference is NaN: the interval rests on replications 0 and 2.
    mean, low, high = scipy_interval([1.5 - 1.0, 1.0 - 0.0])
    assert (p99["mean"], p99["ci_low"], p99["ci_high"]) == pytest.approx((mean, low, high))
    assert p99["baseline_mean"] == pytest.approx(1.0)  # (1 + 2 + 0) / 3
    assert p99["relative"] == pytest.approx(0.75)


@pytest.mark.filterwarnings("error")  # an empty mean warns; none is taken
def test_paired_differences_relative_is_nan_for_a_zero_or_unknown_baseline() -> None:
    rows = [
        ("base", 0, 0.0, math.nan),
        ("base", 1, 0.0, math.nan),
        ("new", 0, 1.0, 1.0),
        ("new", 1, 3.0, 2.0),
    ]
    table = paired_differences(long_frame(rows), "base").set_index("metric")
    assert table.loc["lost", "mean"] == pytest.approx(2.0)
    assert table.loc["lost", "baseline_mean"] == 0.0
    assert math.isnan(table.loc["lost", "relative"])
    assert math.isnan(table.loc["p99", "baseline_mean"])
    assert math.isnan(table.loc["p99", "mean"]) and math.isnan(table.loc["p99", "relative"])


def test_paired_differences_of_the_baseline_alone_is_an_empty_table() -> None:
    table = paired_differences(long_frame([("base", 0, 1.0, 1.0)]), "base")
    assert table.empty
    assert list(table.columns) == [
        "configuration",
        "baseline",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "replications",
        "baseline_mean",
        "relative",
    ]


def test_paired_differences_pass_the_level_on() -> None:
    base = [("base", i, 0.0, 0.0) for i in range(5)]
    new = [("new", i, v, v) for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 5.0])]
    row = paired_differences(long_frame(base + new), "base", level=0.9).iloc[0]
    half = T_95_DF4 * math.sqrt(0.5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3 - half, 3 + half))
    assert row["configuration"] == "new" and row["baseline"] == "base"


# -- replications_needed ------------------------------------------------------------------


def one_metric(series: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"configuration": config, "replication": i, "m": value}
        for config, values in series.items()
        for i, value in enumerate(values)
    ]
    return pd.DataFrame(rows)


def needed(series: dict[str, list[float]], target: float, relative: bool, cap: int = 1000) -> int:
    return replications_needed(one_metric(series), "m", target, relative=relative, cap=cap)


FOUR = [1.0, 2.0, 3.0, 4.0]  # sd sqrt(5/3), half-width t(3) sqrt(5/3) / 2
HALF_FOUR = T_975_DF3 * math.sqrt(5 / 3) / 2


def test_replications_needed_scales_the_count_by_the_squared_ratio() -> None:
    # n (h / g)^2 rounded up, h the current half-width, g the goal.
    for ratio in (1.3, 1.6, 2.2, 3.7):
        goal = HALF_FOUR / ratio
        assert needed({"a": FOUR}, goal, relative=False) == math.ceil(4 * ratio**2), ratio


def test_replications_needed_relative_goal_is_a_share_of_the_absolute_mean() -> None:
    negative = [-v for v in FOUR]  # mean -2.5: the goal uses |mean|
    goal = HALF_FOUR / 1.6
    assert needed({"a": negative}, goal / 2.5, relative=True) == math.ceil(4 * 1.6**2)
    assert needed({"a": FOUR}, goal / 2.5, relative=True) == math.ceil(4 * 1.6**2)


def test_replications_needed_asks_one_more_when_just_short() -> None:
    # (h / g)^2 = 1.0201: the estimate is 5, one more than now.
    assert needed({"a": FOUR}, HALF_FOUR / 1.01, relative=False) == 5
    # Already within the goal: the current count.
    assert needed({"a": FOUR}, HALF_FOUR * 1.01, relative=False) == 4


def test_replications_needed_with_a_zero_goal_goes_to_the_cap() -> None:
    assert needed({"a": FOUR}, 0.0, relative=False, cap=30) == 30
    centred = [-1.0, 1.0, -2.0, 2.0]  # mean 0: a relative goal of 0
    assert needed({"a": centred}, 0.05, relative=True, cap=30) == 30
    # A constant metric is exactly pinned even by a zero goal.
    assert needed({"a": [5.0, 5.0, 5.0]}, 0.0, relative=False, cap=30) == 3


def test_replications_needed_below_two_replications_asks_for_two() -> None:
    assert needed({"a": [7.0]}, 1.0, relative=False, cap=9) == 2
    # Three rows, one known value: the half-width is unknown, so one more.
    assert needed({"a": [7.0, math.nan, math.nan]}, 1.0, relative=False, cap=9) == 4


def test_replications_needed_never_passes_the_cap_nor_drops_below_the_current_count() -> None:
    assert needed({"a": FOUR}, HALF_FOUR / 3.7, relative=False, cap=10) == 10
    assert needed({"a": FOUR}, HALF_FOUR / 3.7, relative=False, cap=4) == 4
    assert needed({"a": FOUR}, HALF_FOUR / 3.7, relative=False, cap=3) == 4


def test_replications_needed_with_unbalanced_counts() -> None:
    # The fewest replications any configuration has is the current count; a configuration
    # with more scales its own count: 8 (h / g)^2.
    eight = FOUR + FOUR
    h8 = float(sp.t.ppf(0.975, 7) * np.std(eight, ddof=1) / math.sqrt(8))
    tight = [2.5, 2.5, 2.5, 2.5]
    ratio = 1.6
    got = needed({"tight": tight, "eight": eight}, h8 / ratio, relative=False)
    assert got == math.ceil(8 * ratio**2)
    # Every configuration within the goal: the fewest count stands, whatever the others have.
    assert needed({"tight": tight, "eight": eight}, h8 * 1.01, relative=False) == 4


def test_replications_needed_takes_the_largest_need_over_configurations() -> None:
    wide = [v * 3 for v in FOUR]  # three times the half-width
    goal = HALF_FOUR / 1.3
    assert needed({"a": FOUR, "b": wide}, goal, relative=False) == math.ceil(4 * (3 * 1.3) ** 2)
    assert needed({"b": wide, "a": FOUR}, goal, relative=False) == math.ceil(4 * (3 * 1.3) ** 2)


# -- what a summary column may hold -------------------------------------------------------


def test_missing_values_as_none_in_an_object_column_are_nan() -> None:
    assert mean_ci([1.0, None, 3.0]) == pytest.approx(  # type: ignore[arg-type]
        (2.0, 2.0 - T_975_DF1, 2.0 + T_975_DF1)
    )
    assert half_width([1.0, None, 3.0]) == pytest.approx(T_975_DF1)  # type: ignore[arg-type]
    rows = pd.DataFrame(
        {
            "configuration": ["base", "base", "base", "new", "new", "new"],
            "replication": [0, 1, 2, 0, 1, 2],
            "m": pd.Series([1.0, 2.0, None, 2.0, None, 4.0], dtype=object),
        }
    )
    diff = paired_differences(rows, "base").iloc[0]
    assert diff["mean"] == 1.0 and diff["ci_low"] == diff["ci_high"] == 1.0  # replication 0
    assert diff["baseline_mean"] == pytest.approx(1.5)
    assert replications_needed(rows, "m", 100.0, relative=False, cap=9) == 3  # within the goal
    assert replications_needed(rows, "m", 50.0, relative=True, cap=9) == 3  # 50 x mean 1.5


def test_an_unused_configuration_category_is_not_a_configuration_with_no_replications() -> None:
    frame = one_metric({"a": FOUR})
    frame["configuration"] = pd.Categorical(frame["configuration"], categories=["a", "never"])
    goal = HALF_FOUR / 1.6
    got = replications_needed(frame, "m", goal, relative=False, cap=1000)
    assert got == math.ceil(4 * 1.6**2)
    # Within the goal: the current count, not one more for a configuration never run.
    within = replications_needed(frame, "m", HALF_FOUR * 1.01, relative=False, cap=1000)
    assert within == 4


def test_replications_needed_passes_the_level_on() -> None:
    # At 90 % the half-width is t(0.95, 3) / t(0.975, 3) of the 95 % one.
    t90 = 2.3533634348
    goal = HALF_FOUR / 1.6
    got = replications_needed(
        one_metric({"a": FOUR}), "m", goal, relative=False, cap=1000, level=0.9
    )
    assert got == math.ceil(4 * (1.6 * t90 / T_975_DF3) ** 2)


def test_replications_needed_at_exactly_the_goal_asks_one_more() -> None:
    # "below the target": a half-width equal to it is not there yet. The goal is the
    # module's own half-width only to land exactly on the boundary.
    goal = half_width(np.asarray(FOUR))
    assert needed({"a": FOUR}, goal, relative=False) == 5


def test_replications_needed_from_two_replications_uses_the_formula() -> None:
    two = [1.0, 3.0]  # sd sqrt(2), half-width t(1) sqrt(2) / sqrt(2) = t(1)
    assert needed({"a": two}, T_975_DF1 / 4.3, relative=False) == math.ceil(2 * 4.3**2)
    # Two rows with one value known: the half-width is unknown, so one more.
    assert needed({"a": [1.0, math.nan]}, 1.0, relative=False, cap=9) == 3


def test_replications_needed_looks_past_a_configuration_already_there() -> None:
    goal = HALF_FOUR / 1.6
    tight = [2.5, 2.5, 2.5, 2.5]
    assert needed({"tight": tight, "a": FOUR}, goal, relative=False) == math.ceil(4 * 1.6**2)


def test_replications_needed_looks_past_a_configuration_with_an_unknown_half_width() -> None:
    unknown = [1.0, math.nan, math.nan, math.nan]  # one value: no half-width yet
    goal = HALF_FOUR / 1.6
    assert needed({"unknown": unknown, "a": FOUR}, goal, relative=False) == math.ceil(4 * 1.6**2)
