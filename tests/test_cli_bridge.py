"""`breakerlab calibrate` and `breakerlab export` through the real CLI: what they write, what
they print, and exit 2 with nothing written on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chaoslib.experiment import ensure_experiment_is_valid
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
CALLS = ROOT / "models" / "calibration" / "sample_calls.csv"
runner = CliRunner()


@pytest.mark.slow
def test_calibrate_writes_a_model_and_scenario_that_validate(tmp_path: Path) -> None:
    out = tmp_path / "cal"
    result = runner.invoke(app, ["calibrate", str(CALLS), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "primary: latency lognormal" in result.stdout
    assert "secondary: latency empirical" in result.stdout
    names = {p.name for p in out.iterdir()}
    assert {"model.yaml", "scenario.yaml", "fit.csv", "qq.png"} <= names
    checked = runner.invoke(app, ["validate", str(out / "model.yaml"), str(out / "scenario.yaml")])
    assert checked.exit_code == 0, checked.stderr
    assert checked.stdout.count("ok: ") == 2


def test_calibrate_names_the_bad_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "calls.csv"
    lines = CALLS.read_text(encoding="utf-8").splitlines()[:5]
    header = lines[0].split(",")
    column = next(i for i, name in enumerate(header) if "latency" in name)
    broken = lines[3].split(",")
    broken[column] = "fast"
    bad.write_text("\n".join([*lines[:3], ",".join(broken), lines[4]]) + "\n", encoding="utf-8")
    out = tmp_path / "cal"
    result = runner.invoke(app, ["calibrate", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{bad}:4" in result.stderr and header[column] in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_export_by_name_passes_chaostoolkit_validation(tmp_path: Path) -> None:
    args = ["export", "flash_sale_gateway_outage", "--configuration", "breaker-failover"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "flash-sale-gateway-outage-export" / "breaker-failover.chaostoolkit.json"
    assert f"wrote {out}" in result.stdout
    ensure_experiment_is_valid(json.loads(out.read_text(encoding="utf-8")))


def test_export_lists_faults_it_cannot_map(tmp_path: Path) -> None:
    args = ["export", "checkout_node_crash", "--configuration", "recovery"]
    result = runner.invoke(app, [*args, "--format", "toxiproxy", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "checkout-node-crash-export" / "recovery.toxiproxy.json"
    assert "not exported (no Toxiproxy equivalent)" in result.stderr
    assert "crash" in result.stderr
    json.loads(out.read_text(encoding="utf-8"))


def test_export_refuses_bad_input_with_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    base = ["export", "flash_sale_gateway_outage", "--out", str(out)]
    for extra in (["--configuration", "nope"], ["--configuration", "breaker-failover",
                  "--upstream", "primary"], ["--configuration", "breaker-failover",
                  "--format", "gremlin"]):  # fmt: skip
        result = runner.invoke(app, [*base, *extra])
        assert result.exit_code == 2, (extra, result.output)
        assert "Traceback" not in result.output
    assert not out.exists()
