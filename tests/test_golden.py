"""Golden results: the summary.csv of a tiny scenario, committed, compared on every run.

Any change to simulated results shows up here and in review. When a change is meant to
alter results, regenerate on purpose with ``make golden`` (this file run as a script) and
say why in the commit.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIO = GOLDEN / "tiny_outage.yaml"
EXPECTED = GOLDEN / "tiny_outage.summary.csv"


def produce_summary() -> str:
    """summary.csv as ``breakerlab run`` writes it for the golden scenario (one process)."""
    with tempfile.TemporaryDirectory() as out:
        command = [
            str(Path(sys.executable).with_name("breakerlab")),
            "run", str(SCENARIO), "--out", out, "--workers", "1",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        (written,) = Path(out).glob("*/*/summary.csv")
        return written.read_text(encoding="utf-8")


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


def test_summary_matches_the_golden_file() -> None:
    actual = produce_summary()
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


if __name__ == "__main__":  # make golden
    EXPECTED.write_text(produce_summary(), encoding="utf-8")
    print(f"wrote {EXPECTED}")
