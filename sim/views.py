"""What run, sweep and tune print on the terminal: their results tables and verdict lines.

Kept apart from ``sim.cli`` so the commands stay argument parsing and one call each. Cells
are formatted as in the report's tables (``sim.report.tables``): a value with no data (a
percentile of no orders) is a dash, never ``nan``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.terminal import consoles, print_table, say

if TYPE_CHECKING:
    import pandas as pd


def show_run(result: Any, *, tables: bool) -> None:
    """A finished run: paired differences and headline tables, verdicts, the report's
    paths."""
    from sim.report.tables import differences, headline

    if tables and not result.differences.empty:
        print_table(
            f"paired difference with {result.baseline} [95 % interval]; *: excludes 0",
            *differences(result.differences),
        )
    if tables:
        print_table("mean ± 95 % interval half-width", *headline(result.ci))
    for verdict in result.verdicts:
        say(verdict.describe())
    say(f"report: {result.directory / 'report.md'}")
    say(f"html: {result.report}")


def sweep_table(points: int, table: pd.DataFrame) -> None:
    """Revenue lost and checkout p99 at each point of a sweep, with intervals."""
    from rich.table import Table

    from sim.report.tables import cell

    shown = table[table["metric"].isin(["revenue_lost_pct", "checkout_p99_s"])]
    title = f"{points} points: mean ± 95 % interval half-width"
    rich_table = Table(title=title, title_justify="left")
    for column in ("configuration", "metric", "mean"):
        rich_table.add_column(column)
    for row in shown.to_dict("records"):
        rich_table.add_row(
            str(row["configuration"]),
            str(row["metric"]),
            cell(row["mean"], row["ci_low"], row["ci_high"], "{:.4g}"),
        )
    consoles.out.print(rich_table)


def show_tune(result: Any) -> None:
    """A finished study: the winner, how it did against the base on fresh seeds, where
    its policy was written."""
    from sim.report.tables import interval

    say(f"winner: {result.winner}")
    fresh = result.fresh
    diff = fresh[fresh["kind"] == "tuned − base"]
    for row in diff[diff["metric"].isin(["revenue_lost", "checkout_p99_s"])].itertuples():
        shown = interval(row.mean, row.ci_low, row.ci_high, "{:+.4g}")
        say(f"fresh seeds, {row.scenario}: tuned − base {row.metric} = {shown}")
    say(f"policy: {result.directory / 'policy.yaml'}")
