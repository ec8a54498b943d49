"""report.html: self-contained, every figure the issue asks for, every image a valid PNG
(decoded in Python, and rendered by headless Chromium when it is installed), and
``breakerlab report DIR`` rebuilds it from the stored results alone."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib.image
import pytest
from PIL import Image
from typer.testing import CliRunner

from sim.analysis.load import load_run
from sim.app.run import RunOutput, run_scenario
from sim.cli import app
from sim.config import LoadedScenario, load_scenario
from sim.report.figures import draw_all
from sim.report.html import render
from tests.conftest import write_scenario

IMG = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", re.IGNORECASE)
DATA_PNG = "data:image/png;base64,"
SECTIONS = (
    "faults",  # scenario and fault timeline
    "results",  # per configuration, intervals and paired differences
    "revenue_lost",  # by configuration with interval bars, split by cause
    "revenue_over_time",
    "latency",
    "breakers",
    "queue",
    "confirmations",
    "amplification",
)
runner = CliRunner()


@dataclass(frozen=True)
class Report:
    run: RunOutput
    html: str

    @property
    def directory(self) -> Path:
        return self.run.directory


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = tmp_path_factory.mktemp("html")
    scenario = write_scenario(
        root,
        name="tiny-html",
        hypotheses=["checkout_p99_s < 30", {"check": "revenue_lost_pct < 1%"}],
        model_overrides={"checkout": {"workers": 2}},  # few workers: orders queue for one
    )
    run = run_scenario(scenario, out=root / "reports", workers=1)
    return Report(run, (run.directory / "report.html").read_text("utf-8"))


def images(html: str) -> list[str]:
    return IMG.findall(html)


def decode(src: str) -> bytes:
    assert src.startswith(DATA_PNG), f"not an embedded PNG: {src[:60]!r}"
    return base64.b64decode(src.removeprefix(DATA_PNG), validate=True)


def without_images(html: str) -> str:
    return IMG.sub("<img>", html)


@pytest.mark.slow
def test_report_html_is_written_beside_report_md(report: Report) -> None:
    assert (report.directory / "report.md").is_file()
    assert report.html.startswith("<!DOCTYPE html>")
    assert "</html>" in report.html


def test_every_image_is_an_embedded_png_that_decodes(report: Report) -> None:
    found = images(report.html)
    assert len(found) >= len(SECTIONS) - 1  # "results" is tables only
    for src in found:
        data = decode(src)
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # checks the PNG's structure and CRCs
        pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert pixels.std() > 0, "a blank image"


def test_report_is_self_contained(report: Report) -> None:
    html = without_images(report.html)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert not re.search(r"(src|href)=\"(?!#|data:)", html), "a reference to another file"
    assert "url(" not in html
    assert "http://" not in html and "https://" not in html


def test_report_has_every_section_the_issue_asks_for(report: Report) -> None:
    for section in SECTIONS:
        assert f'<section id="{section}">' in report.html, f"no {section} section"
    for section in set(SECTIONS) - {"results"}:
        part = report.html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
        assert images(part), f"no figure in the {section} section"
    assert "Paired difference with the baseline" in report.html
    assert "95 % interval" in report.html
    assert 'class="pass"' in report.html or 'class="fail"' in report.html  # the verdicts


def test_html_embeds_the_same_figures_report_md_links(report: Report) -> None:
    markdown = (report.directory / "report.md").read_text("utf-8")
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown)
    embedded = [decode(src) for src in images(report.html)]
    assert sorted(embedded) == sorted((report.directory / name).read_bytes() for name in linked)


@pytest.mark.slow
def test_breakerlab_report_rebuilds_from_stored_results(report: Report, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(report.directory, copy, ignore=shutil.ignore_patterns("runs"))
    for path in [*copy.glob("*.png"), copy / "report.md", copy / "report.html"]:
        path.unlink()
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.stderr
    assert f"html: {copy / 'report.html'}" in result.stdout
    rebuilt = (copy / "report.html").read_text("utf-8")
    assert without_images(rebuilt) == without_images(report.html)
    assert len(images(rebuilt)) == len(images(report.html))
    assert (copy / "report.md").read_text("utf-8") == (report.directory / "report.md").read_text(
        "utf-8"
    )
    assert not [p for p in copy.iterdir() if p.name.startswith(".report-")]


@pytest.mark.slow
def test_breakerlab_report_on_a_run_without_transitions_derives_them(
    report: Report, tmp_path: Path
) -> None:
    copy = tmp_path / "old"
    shutil.copytree(report.directory, copy, ignore=shutil.ignore_patterns("runs"))
    (copy / "transitions.parquet").unlink()
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.stderr
    assert images((copy / "report.html").read_text("utf-8"))


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_breakerlab_report_on_bad_input_exits_2_naming_the_file(
    report: Report, tmp_path: Path, damage: str
) -> None:
    copy = tmp_path / "bad"
    shutil.copytree(report.directory, copy, ignore=shutil.ignore_patterns("runs"))
    target = sorted((copy / "timeline").iterdir())[0]  # one run's timeline
    if damage == "missing":
        target.unlink()
    else:
        target.write_bytes(b"not parquet")
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert str(target) in result.stderr


def test_breakerlab_report_on_a_missing_directory_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere" in result.stderr


CHECK_IMAGES = """<script>
window.addEventListener("load", () => {
  const all = Array.from(document.images);
  const broken = all.filter((i) => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0));
  document.body.setAttribute("data-images", String(all.length));
  document.body.setAttribute("data-broken", String(broken.length));
});
</script></body>"""


# The names Chromium and Chrome install under (distributions, Google's packages, the
# headless shell); BREAKERLAB_BROWSER names any other binary.
BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "chrome-headless-shell",
    "headless_shell",
)


def find_browser() -> str | None:
    """A headless-capable Chromium: $BREAKERLAB_BROWSER, one of the usual names on PATH,
    or the Chromium Playwright installed (when the playwright package is there)."""
    named = os.environ.get("BREAKERLAB_BROWSER")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # no driver or no browser downloaded: nothing to run
        return None
    return path if Path(path).is_file() else None


def test_every_image_renders_in_headless_chromium(report: Report, tmp_path: Path) -> None:
    binary = find_browser()
    if binary is None:
        pytest.skip(
            f"no Chromium found ({', '.join(BROWSERS)}, $BREAKERLAB_BROWSER or Playwright's): "
            "only the Python-side PNG check ran"
        )
    page = tmp_path / "page.html"
    page.write_text(report.html.replace("</body>", CHECK_IMAGES), encoding="utf-8")
    done = subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    body = re.search(r"<body\b[^>]*>", done.stdout)
    assert body, f"no body in Chromium's DOM:\n{done.stdout[:500]}\n{done.stderr[-2000:]}"
    count = re.search(r'data-images="(\d+)"', body.group(0))
    broken = re.search(r'data-broken="(\d+)"', body.group(0))
    assert count and broken, f"the check did not run: {body.group(0)}"
    assert int(count.group(1)) == len(images(report.html))
    assert int(broken.group(1)) == 0, "Chromium could not render every image"


def section(html: str, anchor: str) -> str:
    return html.split(f'<section id="{anchor}">', 1)[1].split("</section>", 1)[0]


def test_configurations_are_shown_as_the_scenario_wrote_them(report: Report) -> None:
    part = section(report.html, "configurations")
    assert "<pre><code>payment:" in part
    for written in (
        "timeout: 2s",
        "failure_rate_threshold: 50%",
        "wait_duration_in_open_state: 10s",
        "fallback: secondary",
    ):
        assert written in part, written
    assert "{" not in part, "a Python dict repr instead of YAML"
    assert "the model's timeouts, no retry, no breaker" in part  # the empty one
    markdown = (report.directory / "report.md").read_text("utf-8")
    assert "```yaml" in markdown and "failure_rate_threshold: 50%" in markdown


def test_configurations_as_written_survive_the_run_manifest(tmp_path: Path) -> None:
    """experiment.json stores the loaded scenario as JSON and --resume validates it again."""
    loaded = load_scenario(write_scenario(tmp_path))
    stored = json.loads(json.dumps(loaded.model_dump(mode="json")))
    again = LoadedScenario.model_validate(stored)
    assert again.configurations_as_written == loaded.configurations_as_written
    assert again.configurations_as_written["breaker"]["payment"]["timeout"] == "2s"


@pytest.mark.slow
def test_an_all_zero_chart_is_replaced_by_a_line(report: Report, tmp_path: Path) -> None:
    """No revenue lost anywhere: the bars are left out and one line says why."""
    summary = report.run.summary.copy()
    lost = [c for c in summary.columns if c.startswith("revenue_lost")]
    summary[lost] = 0.0
    data = load_run(report.directory)
    images = draw_all(replace(data, summary=summary))
    (bars,) = [image for image in images if image.key == "revenue_lost"]
    assert not bars.drawn and "no configuration lost any revenue" in bars.note
    html = render(replace(data, summary=summary), images)
    assert "no configuration lost any revenue" in section(html, "revenue_lost")
