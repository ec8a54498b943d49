"""make validate rewrites docs/validation.md's engine checks and keeps the sections other
checks wrote below its KEPT line (the libraries' differential figures, calibration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import validate_engine
from benchmarks.validation_cases import Case


def test_sections_below_the_kept_line_survive_a_rewrite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    case = Case("A case with no checks", "how it maps", [])
    out = tmp_path / "validation.md"
    kept = f"{validate_engine.KEPT}\n\n## Presets against the real libraries\n\n| a | b |\n"
    out.write_text("# old engine checks\n\nstale\n\n" + kept, encoding="utf-8")
    monkeypatch.setattr(validate_engine, "validate", lambda *args: [case])
    assert validate_engine.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "stale" not in text and "## A case with no checks" in text
    assert text.endswith(kept)
    assert validate_engine.main(["--quick", "--out", str(out)]) == 0  # and again: kept once
    assert out.read_text(encoding="utf-8").count(validate_engine.KEPT) == 1


def test_the_published_report_has_its_kept_sections() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "validation.md").read_text("utf-8")
    kept = text.split(validate_engine.KEPT)[1]
    assert "## Presets and retry schedules against the real libraries" in kept
    assert "## Calibration: true against fitted" in kept
