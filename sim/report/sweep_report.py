"""A sweep's report.md: what was varied, the decision (what to do, the equivalent region,
what to avoid, how sure), each point's standing, and the plots."""

from __future__ import annotations

from collections.abc import Sequence

from sim.analysis.landscape import Landscape
from sim.report.decision_tables import how_sure, standing_header, standing_rows
from sim.report.tables import markdown_table


def render(
    scenario: str,
    base: str,
    points: int,
    replications: int,
    params: Sequence[str],
    land: Landscape,
    images: Sequence[str],
) -> str:
    """The report, decision first; ``images`` are file names beside it."""
    out = [f"# Sweep of {base} in {scenario}", ""]
    out += [f"{points} points x {replications} replications; parameters:", ""]
    out += [f"- `{p}`" for p in params]
    out += ["", "## Decision", ""]
    out += [f"- {line}" for line in land.summary_lines()]
    out += ["", how_sure(land.decision), ""]
    names = {c: land.label(c) for c in land.points["candidate"]}
    names[land.decision.base] = f"{base} (base)"
    out += ["## Points", ""]
    rows = standing_rows(land.decision, names, land.unexercised)
    out += [markdown_table(standing_header(land.decision), rows), ""]
    out += [
        "`sweep.csv`: one row per point and metric (per-point 95 % intervals, not adjusted "
        "for multiplicity); `decision.csv`: one row per point with its standing and its "
        "simultaneous interval against the base; `decision.json`: the decision.",
        "",
    ]
    out += [f"![{name}]({name})" for name in images]
    return "\n".join(out) + "\n"
