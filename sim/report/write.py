"""A run's report files from its tables: the figures (PNG), report.md, report.html, and
configurations.yaml (the configurations as the scenario wrote them, which the report shows
and ``breakerlab report DIR`` reads back)."""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.analysis import plotdata
from sim.analysis.load import CONFIGURATIONS_FILE, RunData
from sim.report import html, markdown
from sim.report.figures import draw_all


def write_report(directory: Path, data: RunData) -> list[Path]:
    """The figures (PNG), report.md, report.html and configurations.yaml of a run, from
    its tables; the paths written. report.html embeds the very PNG bytes report.md links to;
    a chart with nothing to show is a line of text in both."""
    images = draw_all(data)
    written = []
    for image in images:
        if image.drawn:
            (directory / image.filename).write_bytes(image.png)
            written.append(directory / image.filename)
    lost = plotdata.revenue_lost(data.summary)
    text = markdown.render(
        data.loaded,
        data.ci,
        lost,
        images,
        data.replications,
        data.seed,
        differences=data.differences,
        verdicts=data.verdicts,
        recommendation=data.recommendation,
        summary=data.summary,
    )
    (directory / "report.md").write_text(text, encoding="utf-8")
    (directory / "report.html").write_text(html.render(data, images), encoding="utf-8")
    configurations = directory / CONFIGURATIONS_FILE
    if data.loaded.configurations_as_written:
        configurations.write_text(
            yaml.safe_dump(
                data.loaded.configurations_as_written, sort_keys=False, allow_unicode=True
            ),
            encoding="utf-8",
        )
        written.append(configurations)
    return [*written, directory / "report.md", directory / "report.html"]
