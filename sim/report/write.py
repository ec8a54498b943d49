"""A run's report files from its tables: the figures (PNG), report.md and report.html."""

from __future__ import annotations

from pathlib import Path

from sim.analysis import plotdata
from sim.analysis.load import RunData
from sim.report import html, markdown
from sim.report.figures import draw_all


def write_report(directory: Path, data: RunData) -> list[Path]:
    """The figures (PNG), report.md and report.html of a run, from its tables; the paths
    written. report.html embeds the very PNG bytes report.md links to."""
    images = draw_all(data)
    written = []
    for image in images:
        (directory / image.filename).write_bytes(image.png)
        written.append(directory / image.filename)
    lost = plotdata.revenue_lost(data.summary)
    text = markdown.render(
        data.loaded,
        data.ci,
        lost,
        {image.key: image.filename for image in images},
        data.replications,
        data.seed,
        differences=data.differences,
        verdicts=data.verdicts,
    )
    (directory / "report.md").write_text(text, encoding="utf-8")
    (directory / "report.html").write_text(html.render(data, images), encoding="utf-8")
    return [*written, directory / "report.md", directory / "report.html"]
