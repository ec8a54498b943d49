"""What run, sweep and tune print on the terminal: their results tables and verdict lines.

Kept apart from ``sim.cli`` so the commands stay argument parsing and one call each. Cells
are formatted as in the report's tables (``sim.report.tables``): a value with no data (a
percentile of no orders) is a dash, never ``nan``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.format import measured, number, unit_of
from sim.terminal import consoles, print_table, say

if TYPE_CHECKING:
    import pandas as pd

    from sim.analysis.landscape import Landscape


def show_run(result: Any, *, tables: bool) -> None:
    """A finished run: paired differences and headline tables, verdicts, the report's
    paths."""
    from sim.analysis.dynamics import first_trip_after_fault
    from sim.analysis.recommend import never_opened
    from sim.report.tables import differences, headline, headline_note

    loaded = result.loaded
    currency = loaded.shop.currency_code if loaded is not None else ""
    marks = never_opened(loaded, result.summary) if loaded is not None else {}
    if tables and not result.differences.empty:
        print_table(
            f"paired difference with {result.baseline} [95 % interval]; *: excludes 0",
            *differences(result.differences, currency, marks),
        )
    if tables:
        after = first_trip_after_fault(result.summary, loaded.scenario) if loaded else None
        print_table(
            "mean ± 95 % interval half-width" + (f"; amounts in {currency}" if currency else ""),
            *headline(result.ci, currency, after, marks),
        )
        if headline_note(result.ci):
            say(headline_note(result.ci))
    for verdict in result.verdicts:
        say(verdict.describe())
    if result.recommendation is not None:
        say(f"recommendation: {result.recommendation.line()}")
        for note in result.recommendation.notes if tables else ():
            say(f"  note: {note}")
    say(f"report: {result.directory / 'report.md'}")
    say(f"html: {result.report}")


def sweep_table(points: int, table: pd.DataFrame, land: Landscape | None = None) -> None:
    """One row per point: its parameters, mean, and difference with the base on the
    decision's metric with the simultaneous interval, marked ★ (best), = (shown within δ of
    it), ≈ (not told apart from it) or ✗ (worse than the base by more than δ); then the
    decision's lines. Without a decision: revenue lost % and p99 with 95 % intervals."""
    from rich.table import Table

    if land is None:
        shown = table[table["metric"].isin(["revenue_lost_pct", "checkout_p99_s"])]
        rich_table = Table(title=f"{points} points: mean ± 95 % half-width", title_justify="left")
        for column in ("configuration", "metric", "mean"):
            rich_table.add_column(column)
        for row in shown.to_dict("records"):
            rich_table.add_row(
                str(row["configuration"]),
                str(row["metric"]),
                measured(row["mean"], row["ci_low"], row["ci_high"], unit_of(row["metric"])),
            )
        consoles.out.print(rich_table)
        return
    print_decision_table(points, land)
    for line in land.summary_lines():
        say(line)


def print_decision_table(points: int, land: Landscape) -> None:
    """The points of a sweep against its base, on the decision's metric."""
    from rich.table import Table

    from sim.report.decision_tables import standing_rows

    d = land.decision
    unit = f" ({d.unit})" if d.unit else ""
    title = (
        f"{points} points: {d.metric}{unit}, − base with simultaneous 95 % interval\n"
        "★ best  = within δ of it  ≈ not told apart from it  ✗ worse than the base by > δ"
    )
    rich_table = Table(title=title, title_justify="left")
    for path in land.params:
        rich_table.add_column(path.rsplit(".", 1)[-1], justify="right")
    for column in ("mean", "− base", ""):
        rich_table.add_column(column, justify="right")
    marks = {"best": "★", "within δ of the best": "=", "may be the best": "≈"}
    rows = standing_rows(d)
    for standing, row in zip(d.standings, rows, strict=True):
        values = land.values(standing.candidate)
        mark = marks.get(standing.status, "")
        if standing.avoid:
            mark += "✗"
        if standing.candidate in land.unexercised:
            mark += f" {land.unexercised[standing.candidate]}"
        shown = [land.show(p, v) for p, v in values.items()]
        rich_table.add_row(*shown, row[1], row[2], mark)
    consoles.out.print(rich_table)


def show_tune(result: Any) -> None:
    """A finished study: the verdict, the winner, how it did against the base on fresh
    seeds, the equivalent region, the runs used, and where the policy or region went."""
    from sim.report.tune_report import headline

    decision = result.decision
    if decision is not None:
        say(f"{decision.verdict}: {headline(decision)}")
        for note in (*decision.notes, *decision.selection.decision.notes):
            say(f"  note: {note}")
    else:
        say(f"winner: {result.winner}")
    fresh = result.fresh
    if not fresh.empty:
        diff = fresh[fresh["kind"] == "tuned − base"]
        for row in diff[diff["metric"].isin(["revenue_lost", "checkout_p99_s"])].itertuples():
            decided = decision.selection.decision if decision is not None else None
            unit = decided.unit if decided is not None and row.metric == decided.metric else ""
            unit = unit or unit_of(str(row.metric), "")
            shown = measured(row.mean, row.ci_low, row.ci_high, unit, sign=True, style="span")
            say(f"fresh seeds, {row.scenario}: tuned − base {row.metric} = {shown} (95 %)")
    if result.runs:
        say("simulation runs: " + ", ".join(f"{k} {number(v)}" for k, v in result.runs.items()))
    if result.policy is not None:
        say(f"policy: {result.policy}")
    else:
        say(f"region: {result.directory / 'region.yaml'} (no policy.yaml: the base is kept)")
    say(f"report: {result.directory / 'report.md'}")
