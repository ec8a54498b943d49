"""Headline tables, shared by the terminal and report.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import yaml

from sim.analysis.plotdata import causes_shown
from sim.config.scenario import LoadedScenario, Scenario
from sim.format import CLIPPED_NOTE, DASH, measured, number, unit_of
from sim.units import format_duration

# (metric, heading) in the order people read them; the unit comes from the metric's name.
HEADLINE = [
    ("revenue_lost_pct", "revenue lost"),
    ("revenue_lost", "revenue lost"),
    ("revenue_captured", "captured, net"),
    ("fees", "fees"),
    ("completed", "completed"),
    ("failed", "failed"),
    ("abandoned", "abandoned"),
    ("declined", "declined"),
    ("checkout_p50_s", "p50, completed"),
    ("checkout_p95_s", "p95, completed"),
    ("checkout_p99_s", "p99, completed"),
    ("result_p50_s", "p50, any result"),
    ("result_p99_s", "p99, any result"),
    ("breaker_trips", "trips"),
    ("breaker_open_s", "open"),
    ("first_trip_s", "first trip at"),
    ("dependency_calls", "dependency calls"),
]
HEADLINE_TEXT = (
    "Means over replications with the half-width of their 95 % confidence interval. Revenue "
    "captured is net of gateway fees. Latency: *completed* is the checkout latency of "
    "completed orders; *any result* is how long every customer who got an answer "
    "(completed, failed or declined) waited for it, so a configuration that fails orders "
    "fast is not made to look slow. *First trip at* is the time into the run; *after the "
    "fault began*, the time since the start of the last fault that had begun by then."
)
UNEXERCISED_TEXT = (
    "A configuration marked *breaker never opened* had a breaker that never opened in any "
    "replication: what it saved or cost came from its other settings."
)


def heading(metric: str, text: str, currency: str = "") -> str:
    """A column's heading with the metric's unit: ``revenue lost (EUR)``, ``p99 (s)``."""
    unit = unit_of(metric, currency)
    return f"{text} ({unit})" if unit else text


def difference_heading(metric: str, text: str, currency: str = "") -> str:
    """A difference's heading: as ``heading``, but a difference of two percentages is in
    percentage points (``pp``), so −22.6 is not read as a 22.6 % relative change."""
    return f"{text} (pp)" if metric.endswith("_pct") else heading(metric, text, currency)


def cell(row: Mapping[Any, Any]) -> str:
    """A ci row (mean, ci_low, ci_high, clipped) as ``mean ± half-width``, or
    ``mean [low to high]†`` when clipped at a bound; a dash without data."""
    return measured(
        float(row["mean"]),
        float(row["ci_low"]),
        float(row["ci_high"]),
        clipped=bool(row.get("clipped", False)),
    )


def label(config: str, unexercised: Mapping[str, str] | None) -> str:
    """A configuration's name, with what it never exercised (a breaker that never opened)."""
    if unexercised and config in unexercised:
        return f"{config} ({unexercised[config]})"
    return config


# Columns of the mechanisms a scenario may use, by mechanism (async capture, sagas, crash
# recovery, node topology); the report shows a mechanism when any configuration used it.
MECHANISMS = [
    [
        ("queued", "queued"),
        ("queue_max_depth", "max queue"),
        ("drain_time_s", "drain"),
        ("deferred_captured", "deferred captured"),
        ("deferred_failed", "deferred failed"),
        ("queue_rejected", "queue rejected"),
        ("final_confirmation_p95_s", "final confirmation p95"),
    ],
    [
        ("compensations", "compensations"),
        ("refunds", "refunds"),
        ("double_charges", "double charges"),
        ("charged_without_order", "charged without order"),
    ],
    [
        ("interrupted", "interrupted"),
        ("resumed", "resumed"),
        ("compensated_after_crash", "compensated after crash"),
        ("recovery_time_s", "recovery"),
    ],
    [
        ("config_disagreement_s", "nodes ran different configs"),
        ("config_propagation_max_s", "slowest change reached all nodes"),
        ("breaker_disagreement_s", "node breakers disagreed"),
    ],
]
MECHANISMS_TEXT = (
    "Means per run (± 95 % half-width) of the mechanisms some configuration used: "
    "asynchronous capture, sagas, crash recovery, and checkout nodes that disagree while a "
    "configuration change propagates or while each keeps its own breakers."
)
# Columns every run has a value for: they alone do not make a mechanism worth showing.
ALWAYS_SET = {"final_confirmation_p95_s"}


def headline(
    ci: pd.DataFrame,
    currency: str = "",
    after_fault: pd.DataFrame | None = None,
    unexercised: Mapping[str, str] | None = None,
) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per configuration, cells ``mean ± 95 % half-width``, units
    in the headings. ``after_fault`` (``sim.analysis.dynamics.first_trip_after_fault``)
    adds the first trip's time after its fault began; ``unexercised`` marks configurations
    whose breaker never opened."""
    header, rows = _table(ci, HEADLINE, currency, unexercised)
    if after_fault is None or after_fault.empty:
        return header, rows
    faults = set(after_fault["fault"].dropna())
    single = len(faults) == 1
    after = header.index(heading("first_trip_s", "first trip at")) + 1
    title = f"after {next(iter(faults))} began" if single else "after its fault began"
    header.insert(after, f"first trip {title} (s)")
    by_config = {str(r["configuration"]): r for r in after_fault.to_dict("records")}
    for row, config in zip(rows, _configurations(ci), strict=True):
        found = by_config.get(config)
        text = DASH if found is None else cell(found)
        if found is not None and not single and text != DASH:
            text += f" ({found['fault']})"
        row.insert(after, text)
    return header, rows


def headline_note(ci: pd.DataFrame) -> str:
    """The footnote for an interval of the headline table clipped at a bound (every
    headline metric is a count, an amount or a time: never negative); empty otherwise."""
    shown = ci[ci["metric"].isin([m for m, _ in HEADLINE])]
    return CLIPPED_NOTE if "clipped" in shown.columns and bool(shown["clipped"].any()) else ""


def mechanisms(ci: pd.DataFrame, currency: str = "") -> tuple[list[str], list[list[str]]] | None:
    """The columns of every mechanism some configuration used (None: no such mechanism)."""
    used = ci[(ci["mean"] != 0) & ci["mean"].notna()]["metric"]
    columns = [
        column
        for group in MECHANISMS
        if any(m in set(used) and m not in ALWAYS_SET for m, _ in group)
        for column in group
    ]
    return _table(ci, columns, currency) if columns else None


def _configurations(ci: pd.DataFrame) -> list[str]:
    return [str(c) for c in dict.fromkeys(ci["configuration"])]


def _table(
    ci: pd.DataFrame,
    columns: list[tuple[str, str]],
    currency: str = "",
    unexercised: Mapping[str, str] | None = None,
) -> tuple[list[str], list[list[str]]]:
    header = ["configuration"] + [heading(m, h, currency) for m, h in columns]
    rows = []
    for config, part in ci.groupby("configuration", sort=False):
        by_metric = {str(r["metric"]): r for r in part.to_dict("records")}
        row = [label(str(config), unexercised)]
        row += [cell(by_metric[m]) if m in by_metric else DASH for m, _ in columns]
        rows.append(row)
    return header, rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# The metrics a comparison with the baseline leads with.
DIFFERENCES = [
    ("revenue_lost", "Δ revenue lost"),
    ("revenue_lost_pct", "Δ revenue lost"),
    ("revenue_captured", "Δ captured, net"),
    ("completed", "Δ completed"),
    ("checkout_p99_s", "Δ p99, completed"),
    ("result_p99_s", "Δ p99, any result"),
    ("breaker_trips", "Δ trips"),
]


def interval(mean: float, low: float, high: float) -> str:
    """``mean [low to high]``, with ``*`` when the interval excludes zero."""
    text = measured(mean, low, high, sign=True, style="span")
    if high > low and (low > 0 or high < 0):
        text += " *"
    return text


def differences(
    diff: pd.DataFrame, currency: str = "", unexercised: Mapping[str, str] | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per configuration, cells ``mean difference [95 % interval]``
    against the baseline; ``*`` marks a difference whose interval excludes zero."""
    header = ["configuration"] + [difference_heading(m, h, currency) for m, h in DIFFERENCES]
    rows = []
    for config, part in diff.groupby("configuration", sort=False):
        by_metric = {
            str(m): (float(a), float(lo), float(hi))
            for m, a, lo, hi in zip(
                part["metric"], part["mean"], part["ci_low"], part["ci_high"], strict=True
            )
        }
        row = [label(str(config), unexercised)]
        for metric, _ in DIFFERENCES:
            row.append(interval(*by_metric[metric]) if metric in by_metric else DASH)
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


def lost_by_cause(
    lost: pd.DataFrame, unexercised: Mapping[str, str] | None = None
) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and a footnote (empty when not needed) for revenue lost by cause
    (``sim.analysis.plotdata.revenue_lost``): every cause that lost revenue, then the total
    with its 95 % interval, clipped at 0 and marked."""
    causes = causes_shown(lost)
    rows = []
    clipped = False
    for _, r in lost.iterrows():
        low = float(r["ci_low_clipped"])
        mark = bool(r["ci_low"] < 0)
        clipped = clipped or mark
        total = measured(float(r["total"]), low, float(r["ci_high"]), clipped=mark, style="span")
        rows.append([label(str(r["configuration"]), unexercised)])
        rows[-1] += [number(float(r[c]), 1) for c in causes]  # whole amounts, or a fraction
        rows[-1].append(total)
    header = ["configuration", *causes, "total [95 %]"]
    return header, rows, CLIPPED_NOTE if clipped else ""
