"""Headline tables, shared by the terminal and report.md."""

from __future__ import annotations

import math

import pandas as pd

# (metric, heading, format) in the order people read them.
HEADLINE = [
    ("revenue_lost_pct", "revenue lost %", "{:.2f}"),
    ("revenue_lost", "revenue lost", "{:,.0f}"),
    ("revenue_captured", "captured (net)", "{:,.0f}"),
    ("fees", "fees", "{:,.0f}"),
    ("completed", "completed", "{:,.0f}"),
    ("failed", "failed", "{:,.0f}"),
    ("abandoned", "abandoned", "{:,.0f}"),
    ("declined", "declined", "{:,.0f}"),
    ("checkout_p50_s", "p50 s", "{:.2f}"),
    ("checkout_p95_s", "p95 s", "{:.2f}"),
    ("checkout_p99_s", "p99 s", "{:.2f}"),
    ("breaker_trips", "trips", "{:.1f}"),
    ("breaker_open_s", "open s", "{:,.0f}"),
    ("first_trip_s", "first trip at s", "{:,.1f}"),
    ("dependency_calls", "dependency calls", "{:,.0f}"),
]


def cell(mean: float, low: float, high: float, fmt: str) -> str:
    """``mean ± half-width`` or just the mean when the interval has no width."""
    if math.isnan(mean):
        return "–"
    text = fmt.format(mean)
    half = (high - low) / 2
    if half > 0 and not math.isnan(half):
        text += " ± " + fmt.format(half)
    return text


def headline(ci: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per configuration, cells ``mean ± 95 % half-width``."""
    header = ["configuration"] + [h for _, h, _ in HEADLINE]
    rows = []
    for config, part in ci.groupby("configuration", sort=False):
        by_metric: dict[str, tuple[float, float, float]] = {
            str(metric): (float(mean), float(low), float(high))
            for metric, mean, low, high in zip(
                part["metric"], part["mean"], part["ci_low"], part["ci_high"], strict=True
            )
        }
        row = [str(config)]
        for metric, _, fmt in HEADLINE:
            if metric in by_metric:
                mean, low, high = by_metric[metric]
                row.append(cell(mean, low, high, fmt))
            else:
                row.append("–")
        rows.append(row)
    return header, rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# The metrics a comparison with the baseline leads with.
DIFFERENCES = [
    ("revenue_lost", "Δ revenue lost", "{:+,.0f}"),
    ("revenue_lost_pct", "Δ revenue lost %", "{:+.2f}"),
    ("revenue_captured", "Δ captured (net)", "{:+,.0f}"),
    ("completed", "Δ completed", "{:+,.0f}"),
    ("checkout_p99_s", "Δ p99 s", "{:+.2f}"),
    ("breaker_trips", "Δ trips", "{:+.1f}"),
]


def interval(mean: float, low: float, high: float, fmt: str) -> str:
    """``mean [low, high]``, with a mark when the interval excludes zero."""
    if math.isnan(mean):
        return "–"
    text = fmt.format(mean)
    if high > low:
        text += f" [{fmt.format(low)}, {fmt.format(high)}]"
        if low > 0 or high < 0:
            text += " *"
    return text


def differences(diff: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per configuration, cells ``mean difference [95 % interval]``
    against the baseline; ``*`` marks a difference whose interval excludes zero."""
    header = ["configuration"] + [h for _, h, _ in DIFFERENCES]
    rows = []
    for config, part in diff.groupby("configuration", sort=False):
        by_metric = {
            str(m): (float(a), float(lo), float(hi))
            for m, a, lo, hi in zip(
                part["metric"], part["mean"], part["ci_low"], part["ci_high"], strict=True
            )
        }
        row = [str(config)]
        for metric, _, fmt in DIFFERENCES:
            row.append(interval(*by_metric[metric], fmt) if metric in by_metric else "–")
        rows.append(row)
    return header, rows
