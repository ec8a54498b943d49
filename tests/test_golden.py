"""Golden results: the summary.csv and report.md of a tiny scenario, committed, compared on
every run.

Any change to simulated results shows up here and in review, and so does any change to
what a reader of the report sees (numbers, units, intervals, wording). When a change is
meant to alter them, regenerate on purpose with ``make golden`` (this file run as a script)
and say why in the commit.
"""

from __future__ import annotations

import difflib
import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIO = GOLDEN / "tiny_outage.yaml"
EXPECTED = GOLDEN / "tiny_outage.summary.csv"
EXPECTED_REPORT = GOLDEN / "tiny_outage.report.md"


def produce() -> tuple[str, str]:
    """summary.csv and report.md as ``breakerlab run`` writes them for the golden scenario
    (one process)."""
    with tempfile.TemporaryDirectory() as out:
        command = [
            str(Path(sys.executable).with_name("breakerlab")),
            "run", str(SCENARIO), "--out", out, "--workers", "1",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        (written,) = Path(out).glob("*/*/summary.csv")
        report = written.with_name("report.md").read_text(encoding="utf-8")
        return written.read_text(encoding="utf-8"), report


@pytest.fixture(scope="module")
def produced() -> tuple[str, str]:
    return produce()


def differences(expected: str, actual: str) -> list[str]:
    """What changed, cell by cell, in words a reviewer can read."""
    old = pd.read_csv(io.StringIO(expected))
    new = pd.read_csv(io.StringIO(actual))
    lines = [f"column added: {c}" for c in new.columns.difference(old.columns)]
    lines += [f"column removed: {c}" for c in old.columns.difference(new.columns)]
    if len(old) != len(new):
        return [*lines, f"rows: {len(old)} -> {len(new)}"]
    for column in old.columns.intersection(new.columns, sort=False):
        for i in range(len(old)):
            a, b = old.at[i, column], new.at[i, column]
            if not (a == b or (pd.isna(a) and pd.isna(b))):
                where = f"{old.at[i, 'configuration']} #{old.at[i, 'replication']}"
                lines.append(f"{where} {column}: {a} -> {b}")
    return lines


def test_summary_matches_the_golden_file(produced: tuple[str, str]) -> None:
    actual = produced[0]
    expected = EXPECTED.read_text(encoding="utf-8")
    if actual != expected:
        changed = differences(expected, actual)
        shown = "\n".join(changed[:40]) + (
            f"\n... {len(changed) - 40} more" if len(changed) > 40 else ""
        )
        raise AssertionError(
            "simulated results changed; if on purpose, run `make golden` and commit "
            f"tests/golden/ with the reason:\n{shown or '(formatting only)'}"
        )


def test_the_comparison_names_each_changed_cell() -> None:
    expected = "configuration,replication,revenue_lost\na,0,1.0\nb,0,2.0\n"
    actual = "configuration,replication,revenue_lost,fees\na,0,1.0,3\nb,0,2.5,4\n"
    assert differences(expected, actual) == ["column added: fees", "b #0 revenue_lost: 2.0 -> 2.5"]


def test_report_matches_the_golden_file(produced: tuple[str, str]) -> None:
    actual, expected = produced[1], EXPECTED_REPORT.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), "golden", "now", lineterm="", n=0
        )
        shown = "\n".join(list(diff)[:60])
        raise AssertionError(
            "report.md changed; if on purpose, run `make golden` and commit tests/golden/ "
            f"with the reason:\n{shown}"
        )


def test_the_golden_report_answers_an_incident_review() -> None:
    """What issue 23 asked the report to say, read off the committed golden report."""
    text = EXPECTED_REPORT.read_text(encoding="utf-8")
    assert "## Latency over time: p99 and median" in text  # the figure, by its title
    header = next(
        line for line in text.splitlines() if line.startswith("| configuration | revenue lost (%)")
    )
    for column in (
        "p99, completed (s)",
        "p99, any result (s)",
        "first trip at (s)",
        "first trip after primary outage began (s)",
        "revenue lost (EUR)",
    ):
        assert f"| {column} |" in header, column
    assert "amounts in EUR" in text
    assert "†: the 95 % interval reached past a bound" in text  # clipped, and marked
    assert not re.search(r"\d[eE][+-]?\d", text)  # no scientific notation
    lines = text.splitlines()
    rows = lines[lines.index(header) + 2 : lines.index(header) + 5]
    trips = header.split(" | ").index("trips")
    assert [row.split(" | ")[trips] for row in rows] == ["0", "4", "5"]  # not "4.0"
    assert "nan" not in text.lower()


if __name__ == "__main__":  # make golden
    summary, report = produce()
    EXPECTED.write_text(summary, encoding="utf-8")
    EXPECTED_REPORT.write_text(report, encoding="utf-8")
    print(f"wrote {EXPECTED} and {EXPECTED_REPORT}")
