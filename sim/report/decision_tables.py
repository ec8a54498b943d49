"""A decision as the report shows it: the standings table and the sentence that says how
sure it is. Shared by report.md, report.html and the sweep's and study's reports."""

from __future__ import annotations

from collections.abc import Mapping

from sim.analysis.decision import Decision
from sim.format import DASH, measured, number, quantity, share


def standing_header(decision: Decision) -> list[str]:
    """The standings table's header, the metric and its unit named."""
    unit = f" ({decision.unit})" if decision.unit else ""
    return [
        "configuration",
        f"{decision.metric}{unit}, mean",
        f"− base{unit} [simultaneous {share(1 - decision.alpha)}]",
        "standing",
    ]


def standing_rows(
    decision: Decision,
    names: Mapping[str, str] | None = None,
    unexercised: Mapping[str, str] | None = None,
) -> list[list[str]]:
    """One row per candidate: its mean, its difference from the base with the decision's
    simultaneous interval, and its standing (best, tied, avoid...). ``names`` relabels
    candidates (a sweep's point names as parameter values); ``unexercised`` adds what a
    candidate never exercised (a breaker that never opened) to its standing."""
    rows = []
    for s in decision.standings:
        label = (names or {}).get(s.candidate, s.candidate)
        if s.candidate == decision.base:
            versus = "(base)"
        else:
            v = s.vs_base
            versus = measured(v.mean, v.ci_low, v.ci_high, sign=True, style="span")
        standing = s.status + ("; avoid: worse than the base by more than δ" if s.avoid else "")
        if s.reason:
            standing += f" ({s.reason})"
        if unexercised and s.candidate in unexercised:
            standing += f"; {unexercised[s.candidate]}"
        rows.append([label, number(s.mean) if s.mean == s.mean else DASH, versus, standing])
    return rows


def how_sure(decision: Decision) -> str:
    """The guarantee in one paragraph, with δ, α and what the data resolve."""
    d = decision
    looks = f", over {d.looks} looks" if d.looks > 1 else ""
    zone = d.zone
    better = "lower" if d.direction == "minimize" else "higher"
    text = " ".join(
        [
            f"Decided on `{d.metric}` ({better} is better) with an indifference zone",
            f"δ = {zone}: a configuration is adopted only when its whole simultaneous",
            f"interval against `{d.base}` lies beyond δ. Procedure: Hsu's multiple",
            "comparisons with the best (Bonferroni form, valid under common random numbers)",
            f"and Bonferroni comparisons with the base{looks}; every statement here holds",
            f'together with probability at least {share(1 - d.alpha)}. "Tied" means not told',
            "apart from the best within δ.",
        ]
    )
    if d.resolution > 0:
        text += f" The comparisons still open are ±{quantity(d.resolution, d.unit)} wide" + (
            f"; about {d.replications_hint} replications per candidate would resolve δ."
            if d.replications_hint
            else "."
        )
    return text
