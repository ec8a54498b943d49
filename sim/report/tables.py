"""Headline tables, shared by the terminal and report.md."""

from __future__ import annotations

import math

import pandas as pd
import yaml

from sim.analysis.plotdata import causes_shown
from sim.config.scenario import LoadedScenario, Scenario
from sim.units import format_duration

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


# Columns of the mechanisms a scenario may use, by mechanism (async capture, sagas, crash
# recovery, node topology); the report shows a mechanism when any configuration used it.
MECHANISMS = [
    [
        ("queued", "queued", "{:,.0f}"),
        ("queue_max_depth", "max queue", "{:,.0f}"),
        ("drain_time_s", "drain s", "{:,.0f}"),
        ("deferred_captured", "deferred captured", "{:,.0f}"),
        ("deferred_failed", "deferred failed", "{:,.0f}"),
        ("queue_rejected", "queue rejected", "{:,.0f}"),
        ("final_confirmation_p95_s", "final confirmation p95 s", "{:,.1f}"),
    ],
    [
        ("compensations", "compensations", "{:,.1f}"),
        ("refunds", "refunds", "{:,.1f}"),
        ("double_charges", "double charges", "{:,.1f}"),
        ("charged_without_order", "charged without order", "{:,.1f}"),
    ],
    [
        ("interrupted", "interrupted", "{:,.1f}"),
        ("resumed", "resumed", "{:,.1f}"),
        ("compensated_after_crash", "compensated after crash", "{:,.1f}"),
        ("recovery_time_s", "recovery s", "{:,.1f}"),
    ],
    [
        ("config_disagreement_s", "nodes ran different configs s", "{:,.1f}"),
        ("config_propagation_max_s", "slowest change reached all nodes s", "{:,.1f}"),
        ("breaker_disagreement_s", "node breakers disagreed s", "{:,.1f}"),
    ],
]
MECHANISMS_TEXT = (
    "Means per run (± 95 % half-width) of the mechanisms some configuration used: "
    "asynchronous capture, sagas, crash recovery, and checkout nodes that disagree while a "
    "configuration change propagates or while each keeps its own breakers."
)
# Columns every run has a value for: they alone do not make a mechanism worth showing.
ALWAYS_SET = {"final_confirmation_p95_s"}


def headline(ci: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per configuration, cells ``mean ± 95 % half-width``."""
    return _table(ci, HEADLINE)


HEADLINE_CLIPPED_NOTE = (
    "Some ± intervals above reach below 0 for a quantity that cannot be negative: they are "
    "symmetric t intervals over few replications that vary a lot; read them as from 0, or "
    "add replications."
)


def headline_note(ci: pd.DataFrame) -> str:
    """A footnote when an interval of the headline table reaches below 0 (every headline
    metric is a count, an amount or a time, never negative); empty otherwise."""
    shown = ci[ci["metric"].isin([m for m, _, _ in HEADLINE])]
    return HEADLINE_CLIPPED_NOTE if bool((shown["ci_low"] < 0).any()) else ""


def mechanisms(ci: pd.DataFrame) -> tuple[list[str], list[list[str]]] | None:
    """The columns of every mechanism some configuration used (None: no such mechanism)."""
    used = ci[(ci["mean"] != 0) & ci["mean"].notna()]["metric"]
    columns = [
        column
        for group in MECHANISMS
        if any(m in set(used) and m not in ALWAYS_SET for m, _, _ in group)
        for column in group
    ]
    return _table(ci, columns) if columns else None


def _table(
    ci: pd.DataFrame, columns: list[tuple[str, str, str]]
) -> tuple[list[str], list[list[str]]]:
    header = ["configuration"] + [h for _, h, _ in columns]
    rows = []
    for config, part in ci.groupby("configuration", sort=False):
        by_metric: dict[str, tuple[float, float, float]] = {
            str(metric): (float(mean), float(low), float(high))
            for metric, mean, low, high in zip(
                part["metric"], part["mean"], part["ci_low"], part["ci_high"], strict=True
            )
        }
        row = [str(config)]
        for metric, _, fmt in columns:
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


def run_time_changes(scenario: Scenario) -> tuple[list[str], list[list[str]]] | None:
    """The scenario's configuration changes and rules, one row each (None: neither)."""
    rows = []
    for c in scenario.config_changes:
        settings = ", ".join(f"{k}={v}" for k, v in c.set.items())
        until = f" until {format_duration(c.until)}" if c.until is not None else ""
        reach = (
            "every node at once"
            if c.propagation is None
            else f"each node after its own delay, mean {format_duration(round(c.propagation.mean))}"
        )
        rows.append(
            [
                f"at {format_duration(c.at)}{until}",
                ", ".join(c.configurations or ["all"]),
                f"set {settings}",
                reach,
            ]
        )
    for r in scenario.rules:
        rows.append(
            [
                f"when {r.dependency} errors > {r.error_rate_above:.0%} over "
                f"{format_duration(r.window)}",
                ", ".join(r.configurations or ["all"]),
                f"{r.action} {r.target or r.dependency} for {format_duration(r.hold)}",
                "every node at once",
            ]
        )
    return (["when", "configurations", "change", "reaches"], rows) if rows else None


def configurations_as_written(loaded: LoadedScenario) -> list[tuple[str, str, str]]:
    """(name, description, YAML) per configuration: the settings as the scenario file wrote
    them, units and explicit defaults kept (the YAML is empty for a configuration that sets
    nothing). A run stored without them shows the validated settings instead, in seconds
    and fractions."""
    out = []
    for name, config in loaded.scenario.configurations.items():
        written = loaded.configurations_as_written.get(name)
        if isinstance(written, dict):
            settings = {k: v for k, v in written.items() if k != "description"}
        else:
            settings = config.model_dump(mode="json", exclude_defaults=True)
            settings.pop("description", None)
        text = yaml.safe_dump(settings, sort_keys=False, allow_unicode=True) if settings else ""
        out.append((name, config.description, text.strip()))
    return out


CLIPPED_NOTE = (
    "An interval marked (clipped) reached below 0 and is shown from 0: revenue lost cannot "
    "be negative, and a t interval over few replications that vary a lot can cross it."
)


def lost_by_cause(lost: pd.DataFrame) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and a footnote (empty when not needed) for revenue lost by cause
    (``sim.analysis.plotdata.revenue_lost``): every cause that lost revenue, then the total
    with its 95 % interval, clipped at 0."""
    causes = causes_shown(lost)
    rows = []
    clipped = False
    for _, r in lost.iterrows():
        total = _money(r["total"])
        if not math.isnan(r["ci_low"]) and r["ci_high"] > r["ci_low"]:
            total += f" [{_money(r['ci_low_clipped'])}, {_money(r['ci_high'])}]"
            if r["ci_low"] < 0:
                total += " (clipped)"
                clipped = True
        rows.append([str(r["configuration"]), *(_money(r[c]) for c in causes), total])
    header = ["configuration", *causes, "total [95 %]"]
    return header, rows, CLIPPED_NOTE if clipped else ""


def _money(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:,.0f}"
