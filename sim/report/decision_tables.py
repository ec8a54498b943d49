"""A decision as the report shows it: the standings table and the sentence that says how
sure it is. Shared by report.md, report.html and the sweep's and study's reports."""

from __future__ import annotations

import math

from sim.analysis.decision import Decision, plain

STANDING_HEADER = ["configuration", "mean", "vs base (simultaneous 95 %)", "standing"]


def standing_rows(decision: Decision, names: dict[str, str] | None = None) -> list[list[str]]:
    """One row per candidate: its mean, its difference from the base with the decision's
    simultaneous interval, and its standing (best, tied, avoid...). ``names`` relabels
    candidates (a sweep's point names as parameter values)."""
    rows = []
    for s in decision.standings:
        label = (names or {}).get(s.candidate, s.candidate)
        if s.candidate == decision.base:
            versus = "(base)"
        elif math.isnan(s.vs_base.mean):
            versus = "–"
        else:
            versus = (
                f"{_signed(s.vs_base.mean)} [{_signed(s.vs_base.ci_low)} to "
                f"{_signed(s.vs_base.ci_high)}]"
            )
        standing = s.status + ("; avoid: worse than the base by more than δ" if s.avoid else "")
        if s.reason:
            standing += f" ({s.reason})"
        rows.append([label, plain(s.mean) if math.isfinite(s.mean) else "–", versus, standing])
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
            f'together with probability at least {_percent(1 - d.alpha)}. "Tied" means not told',
            "apart from the best within δ.",
        ]
    )
    if d.resolution > 0:
        text += f" The comparisons still open are ±{plain(d.resolution)} wide" + (
            f"; about {d.replications_hint} replications per candidate would resolve δ."
            if d.replications_hint
            else "."
        )
    return text


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + plain(value)


def _percent(share: float) -> str:
    """95%, 97.5%: no more digits than the share has."""
    return f"{100 * share:.4g}%"
