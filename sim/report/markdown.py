"""report.md: what was run, what it cost per configuration, and the pictures (the same
figures report.html embeds; ``breakerlab report DIR`` rebuilds both)."""

from __future__ import annotations

import html

import pandas as pd

from sim.analysis.dynamics import first_trip_after_fault
from sim.analysis.hypotheses import Verdict
from sim.analysis.recommend import Recommendation, never_opened
from sim.config.scenario import LoadedScenario
from sim.format import number, share
from sim.report.decision_tables import how_sure, standing_header, standing_rows
from sim.report.figures import Image
from sim.report.tables import (
    HEADLINE_TEXT,
    MECHANISMS_TEXT,
    UNEXERCISED_TEXT,
    configurations_as_written,
    headline,
    headline_note,
    lost_by_cause,
    mechanisms,
    run_time_changes,
)
from sim.report.tables import differences as differences_table
from sim.report.tables import markdown_table as _markdown_table
from sim.units import format_duration

FILES = [
    "## Files",
    "",
    "- `summary.csv`: one row per configuration and replication",
    "- `summary_ci.csv`: per configuration and metric, mean and 95 % interval",
    "- `differences_ci.csv`: per configuration and metric, paired difference with the "
    "baseline and its 95 % interval",
    "- `journal.json`: the scenario as run, versions, seeds, timestamps, every verdict",
    "- `orders/`: one row per order (a Parquet file per run; read the folder)",
    "- `timeline/`: one row per configuration, replication and second (the same)",
    "- `transitions.parquet`: every breaker transition, at its instant",
    "- `report.html`: this report as one self-contained page (images embedded)",
    "- `run.json`: the scenario and model as run, seed and versions",
    "",
]


def render(
    loaded: LoadedScenario,
    ci: pd.DataFrame,
    lost: pd.DataFrame,
    images: list[Image],
    replications: int,
    seed: int,
    *,
    differences: pd.DataFrame | None = None,
    verdicts: list[Verdict] | None = None,
    recommendation: Recommendation | None = None,
    summary: pd.DataFrame | None = None,
) -> str:
    """The report: paired differences and verdicts first, then the details. ``images``
    (from ``sim.report.figures.draw_all``) are linked by file name, or their note shown.
    ``summary`` (one row per run) adds the first trips' times after their fault and marks
    configurations whose breaker never opened."""
    currency = loaded.shop.currency_code
    marks = never_opened(loaded, summary) if summary is not None else {}
    after = first_trip_after_fault(summary, loaded.scenario) if summary is not None else None
    out = title_section(loaded, replications, seed)
    if recommendation is not None:
        out += recommendation_section(recommendation, marks)
    if differences is not None and not differences.empty:
        out += differences_section(differences, currency, marks)
    if verdicts:
        out += hypotheses_section(verdicts)
    out += faults_section(loaded)
    out += results_section(ci, currency, after, marks)
    out += configurations_section(loaded)
    out += lost_section(lost, currency, marks)
    for image in images:
        out += [f"## {image.title}", ""]
        out += [f"![{image.title}]({image.filename})" if image.drawn else safe(image.note), ""]
    return "\n".join([*out, *FILES])


def title_section(loaded: LoadedScenario, replications: int, seed: int) -> list[str]:
    """The scenario's name and description, and what was run: model, horizon, warm-up,
    seed, replications, rate and currency."""
    s = loaded.scenario
    out = [f"# {s.name}", ""]
    if s.description:
        out += [safe(s.description.strip()), ""]
    out += [
        f"Model **{safe(loaded.shop.name)}** · horizon {format_duration(s.horizon)} · "
        f"warm-up {format_duration(s.warmup)} (orders arriving in it are not counted) · "
        f"seed {seed} · {replications} replication(s) per configuration · "
        f"base rate {number(s.traffic.rate, 4)}/s · {money_note(loaded)}",
        "",
    ]
    return out


def differences_section(
    differences: pd.DataFrame, currency: str, marks: dict[str, str]
) -> list[str]:
    """Each configuration against the baseline: paired differences with their intervals."""
    base = str(differences["baseline"].iloc[0])
    return [
        f"## Compared with the baseline {code(base)}",
        "",
        "Mean of the per-replication difference (configuration − baseline) with its 95 % "
        "interval. Every configuration faced the same customers and faults (common random "
        "numbers), so the differences are paired; `*`: the interval excludes zero; pp: "
        "percentage points.",
        "",
        markdown_table(*differences_table(differences, currency, marks)),
        "",
    ]


def hypotheses_section(verdicts: list[Verdict]) -> list[str]:
    """Each steady-state hypothesis' verdict on its interval."""
    rows = [[f"**{v.outcome}**", v.configuration, code(v.check), v.interval] for v in verdicts]
    return [
        "## Steady-state hypotheses",
        "",
        markdown_table(["verdict", "configuration", "hypothesis", "95 % interval"], rows),
        "",
        "Pass: the whole interval meets it; fail: none of it does.",
        "",
    ]


def faults_section(loaded: LoadedScenario) -> list[str]:
    """The faults injected, and the changes and rules applied while the run went on."""
    s = loaded.scenario
    out = ["## Faults", ""]
    if s.faults:
        rows = [
            [f.target, f.kind, format_duration(f.start), format_duration(f.duration),
             share(f.probability)]
            for f in s.faults
        ]  # fmt: skip
        out.append(markdown_table(["target", "kind", "start", "duration", "share of calls"], rows))
    else:
        out.append("None: a baseline run.")
    changes = run_time_changes(s)
    if changes is not None:
        out += ["", "## Configuration changes and rules at run time", ""]
        out.append(markdown_table(*changes))
    return out


def results_section(
    ci: pd.DataFrame, currency: str, after: pd.DataFrame | None, marks: dict[str, str]
) -> list[str]:
    """The headline table per configuration, then the resilience mechanisms that acted."""
    out = ["", "## Results per configuration", ""]
    out += [HEADLINE_TEXT, "", markdown_table(*headline(ci, currency, after, marks)), ""]
    if headline_note(ci):
        out += [headline_note(ci), ""]
    if marks:
        out += [UNEXERCISED_TEXT, ""]
    used = mechanisms(ci, currency)
    if used is not None:
        out += ["## Resilience mechanisms", "", MECHANISMS_TEXT, "", markdown_table(*used), ""]
    return out


def configurations_section(loaded: LoadedScenario) -> list[str]:
    """Every configuration as the scenario wrote it (YAML), or what it leaves as is."""
    out = ["## Configurations", ""]
    for name, description, written in configurations_as_written(loaded):
        text = f"{description}." if description else ""
        if written:
            out += [f"- **{safe(name)}**:" + (f" {safe(text)}" if text else ""), "", "  ```yaml"]
            out += [f"  {line}" for line in written.splitlines()]
            out += ["  ```", ""]
        else:
            setup = "the model's timeouts, no retry, no breaker"
            out.append(f"- **{safe(name)}**: " + (f"{safe(text)} {setup}" if text else setup))
    return out


def lost_section(lost: pd.DataFrame, currency: str, marks: dict[str, str]) -> list[str]:
    """Revenue lost per cause and configuration."""
    out = ["", f"## Revenue lost by cause ({currency}, mean per run)", ""]
    header, rows, footnote = lost_by_cause(lost, marks)
    out += [markdown_table(header, rows), ""]
    if footnote:
        out += [footnote, ""]
    return out


def money_note(loaded: LoadedScenario) -> str:
    """Which currency the amounts are in, and whether the model said so."""
    currency = loaded.shop.currency_code
    if loaded.shop.currency is None:
        return f"amounts in {currency} (assumed: the model states no currency)"
    return f"amounts in {currency}"


def recommendation_section(
    recommendation: Recommendation, marks: dict[str, str] | None = None
) -> list[str]:
    """What to pick and how sure we are: the first section of the report; ``marks`` say
    which configurations never exercised their breaker."""
    out = ["## Recommendation", "", f"**{safe(recommendation.line())}**", ""]
    out += [
        markdown_table(
            standing_header(recommendation.decision),
            standing_rows(recommendation.decision, unexercised=marks),
        ),
        "",
    ]
    out += [f"- {safe(note)}" for note in recommendation.notes]
    if recommendation.notes:
        out.append("")
    out += [safe(how_sure(recommendation.decision)), ""]
    return out


def safe(text: object) -> str:
    """A user's string (a name, a description) as Markdown text: ``<``, ``>`` and ``&`` as
    HTML entities, so a ``<script>`` in a name is shown and never run by a viewer that
    renders HTML (report.html escapes them too), and ``|`` kept from splitting a cell."""
    return html.escape(str(text), quote=False).replace("|", "\\|")


def code(text: object) -> str:
    """``text`` as a code span (shown literally, HTML included); a backtick in it would
    end the span, so it becomes a quote."""
    return "`" + str(text).replace("`", "'") + "`"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """The report's tables, every cell made safe except code spans (literal already)."""

    def cell(value: str) -> str:
        is_code = len(value) >= 2 and value.startswith("`") and value.endswith("`")
        return value if is_code else safe(value)

    return _markdown_table([cell(h) for h in header], [[cell(c) for c in row] for row in rows])
