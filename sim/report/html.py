"""report.html: one self-contained file per run (styles inline, images as base64 data URIs,
no scripts, nothing fetched), readable offline and safe to attach to a ticket."""

from __future__ import annotations

import base64
from html import escape

from sim.analysis import dynamics, plotdata
from sim.analysis.load import RunData
from sim.analysis.recommend import never_opened
from sim.format import clock, number
from sim.report.decision_tables import how_sure, standing_header, standing_rows
from sim.report.figures import Image
from sim.report.markdown import money_note
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
from sim.units import format_duration

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.meta { color: #555; } nav a { margin-right: 0.8em; white-space: nowrap; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 13px; display: block;
        overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; } tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
.pass { color: #2e7d32; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
.inconclusive { color: #b26a00; font-weight: bold; } code { background: #f4f4f4; }
pre { background: #f4f4f4; padding: 0.5em 0.8em; margin: 0.3em 0; overflow-x: auto; }
.note { color: #555; font-style: italic; }
"""


def table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table; every cell escaped."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render(data: RunData, images: list[Image]) -> str:
    """The whole page: verdicts and differences first, then the run's figures."""
    s = data.loaded.scenario
    parts: list[tuple[str, str, str]] = []  # (anchor, title, html)
    if data.recommendation is not None:
        parts.append(("recommendation", "Recommendation", _recommendation(data)))
    if data.verdicts:
        rows = [
            f'<tr><td class="{v.outcome}">{v.outcome}</td><td>{escape(v.configuration)}</td>'
            f"<td><code>{escape(v.check)}</code></td>"
            f"<td>{escape(v.interval)}</td></tr>"
            for v in data.verdicts
        ]
        head = "".join(f"<th>{h}</th>" for h in ("verdict", "configuration", "hypothesis", "95 %"))
        text = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        text += "<p>Pass: the whole interval meets it; fail: none of it does.</p>"
        parts.append(("hypotheses", "Steady-state hypotheses", text))
    by_key = {image.key: image for image in images}
    faults = _faults(data)
    if "faults" in by_key:
        faults = _figure(by_key.pop("faults")) + faults
    changes = run_time_changes(s)
    if changes is not None:
        faults += "<h3>Configuration changes and rules at run time</h3>" + table(*changes)
    parts.append(("faults", "Scenario and fault timeline", faults))
    parts.append(("results", "Results per configuration", _results(data)))
    parts.append(("configurations", "Configurations", _configurations(data)))
    lost = _lost_by_cause(data)
    if "revenue_lost" in by_key:
        lost = _figure(by_key.pop("revenue_lost")) + lost
    currency = data.loaded.shop.currency_code
    parts.append(("revenue_lost", f"Revenue lost by configuration and cause ({currency})", lost))
    for image in by_key.values():
        extra = _breaker_trips(data) if image.key == "breakers" and image.drawn else ""
        parts.append((image.key, image.title, _figure(image) + extra))
    parts.append(("files", "Files", _files()))
    nav = " ".join(f'<a href="#{a}">{escape(t)}</a>' for a, t, _ in parts)
    sections = "".join(f'<section id="{a}"><h2>{escape(t)}</h2>{h}</section>' for a, t, h in parts)
    meta = (
        f"Model <b>{escape(data.loaded.shop.name)}</b> · horizon {format_duration(s.horizon)} · "
        f"warm-up {format_duration(s.warmup)} (orders arriving in it are not counted) · "
        f"seed {data.seed} · {data.replications} replication(s) per configuration · "
        f"base rate {number(s.traffic.rate, 4)}/s · baseline <code>{escape(data.baseline)}</code>"
        f" · {escape(money_note(data.loaded))}"
    )
    description = f"<p>{escape(s.description.strip())}</p>" if s.description else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(s.name)}: breakerlab report</title><style>{STYLE}</style></head>"
        f'<body><h1>{escape(s.name)}</h1>{description}<p class="meta">{meta}</p>'
        f"<nav>{nav}</nav>{sections}</body></html>\n"
    )


def _recommendation(data: RunData) -> str:
    """What to pick, the standings, what was never exercised, and the guarantee."""
    advice = data.recommendation
    assert advice is not None
    notes = "".join(f"<li>{escape(n)}</li>" for n in advice.notes)
    return (
        f'<p class="{"pass" if advice.verdict == "adopt" else "inconclusive"}">'
        f"{escape(advice.line())}</p>"
        + table(
            standing_header(advice.decision),
            standing_rows(advice.decision, unexercised=never_opened(data.loaded, data.summary)),
        )
        + (f"<ul>{notes}</ul>" if notes else "")
        + f"<p>{escape(how_sure(advice.decision)).replace('`', '')}</p>"
    )


def _figure(image: Image) -> str:
    """The embedded figure, or the line said in place of a chart that had nothing to show."""
    if not image.drawn:
        return f'<p class="note">{escape(image.note)}</p>'
    return (
        f'<figure><img src="{data_uri(image.png)}" alt="{escape(image.title)}">'
        f"<figcaption>{escape(image.title)}</figcaption></figure>"
    )


def _faults(data: RunData) -> str:
    schedule = dynamics.fault_schedule(data.loaded.scenario)
    if schedule.empty:
        return "<p>No faults: a baseline run.</p>"
    rows = [
        [
            str(f["target"]),
            str(f["label"]),
            format_duration(float(f["start_s"])),
            format_duration(float(f["end_s"])),
            format_duration(float(f["ramp_s"])),
        ]
        for _, f in schedule.iterrows()
    ]
    return table(["target", "fault", "from", "to", "ramp"], rows)


def _results(data: RunData) -> str:
    currency = data.loaded.shop.currency_code
    marks = never_opened(data.loaded, data.summary)
    after = dynamics.first_trip_after_fault(data.summary, data.loaded.scenario)
    out = ""
    if not data.differences.empty:
        out += (
            f"<h3>Paired difference with the baseline <code>{escape(data.baseline)}</code></h3>"
            "<p>Mean of the per-replication difference (configuration − baseline) with its "
            "95 % interval. Every configuration faced the same customers and faults (common "
            "random numbers), so the differences are paired; <b>*</b>: the interval excludes "
            "zero; pp: percentage points.</p>"
            + table(*differences_table(data.differences, currency, marks))
        )
    text = escape(HEADLINE_TEXT).replace("*", "")
    out += f"<h3>Means with 95 % intervals</h3><p>{text}</p>"
    out += table(*headline(data.ci, currency, after, marks))
    note = headline_note(data.ci)
    if note:
        out += f"<p>{escape(note)}</p>"
    if marks:
        out += f"<p>{escape(UNEXERCISED_TEXT).replace('*', '')}</p>"
    used = mechanisms(data.ci, currency)
    if used is not None:
        out += f"<h3>Resilience mechanisms</h3><p>{escape(MECHANISMS_TEXT)}</p>" + table(*used)
    return out


def _configurations(data: RunData) -> str:
    items = []
    for name, description, written in configurations_as_written(data.loaded):
        text = f"{escape(description)}. " if description else ""
        setup = (
            f"<pre><code>{escape(written)}</code></pre>"
            if written
            else "the model's timeouts, no retry, no breaker"
        )
        items.append(f"<li><b>{escape(name)}</b>: {text}{setup}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _lost_by_cause(data: RunData) -> str:
    marks = never_opened(data.loaded, data.summary)
    header, rows, footnote = lost_by_cause(plotdata.revenue_lost(data.summary), marks)
    return table(header, rows) + (f"<p>{escape(footnote)}</p>" if footnote else "")


def _breaker_trips(data: RunData) -> str:
    trips = dynamics.breaker_trips(data.transitions, data.replications)
    if trips.empty:
        return "<p>No breaker opened.</p>"
    scenario = data.loaded.scenario
    rows = []
    for _, r in trips.iterrows():
        first = float(r["first_open_s"])
        after, fault = dynamics.since_fault(first, scenario)
        since = "–" if fault is None else f"{number(after)} s after {fault} began"
        shown = f"{number(first, 5)} s ({clock(first)})" if first >= 60 else f"{number(first)} s"
        rows.append([str(r["configuration"]), str(r["breaker"]), number(r["trips"]), shown, since])
    header = ["configuration", "breaker", "openings per run", "first opening", "after the fault"]
    return table(header, rows)


def _files() -> str:
    files = [
        ("report.md", "this report in Markdown, with the PNG files beside it"),
        ("summary.csv", "one row per configuration and replication"),
        ("summary_ci.csv", "per configuration and metric: mean and 95 % interval"),
        ("differences_ci.csv", "paired differences with the baseline and their intervals"),
        ("orders/", "one row per order (a Parquet file per run; read the folder)"),
        ("timeline/", "one row per configuration, replication and second (the same)"),
        ("transitions.parquet", "every breaker transition, at its instant"),
        ("journal.json", "the scenario as run, versions, seeds, timestamps, verdicts"),
        ("run.json", "the scenario and model as run, seed and versions"),
    ]
    items = "".join(f"<li><code>{n}</code>: {escape(w)}</li>" for n, w in files)
    return (
        f"<ul>{items}</ul><p>Rebuild this page from them with "
        "<code>breakerlab report DIR</code>; load them in Python with "
        "<code>sim.analysis.load.load_run(DIR)</code>.</p>"
    )
