"""`breakerlab import` and `breakerlab export --format <production format>` through the
real CLI: what they print and write, what they list, exit 2 on bad input."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.config.configuration import Configuration, StagePolicy
from sim.config.formats import import_file
from sim.resilience.policy import BreakerPolicy

ROOT = Path(__file__).resolve().parents[1]
APPLICATION = ROOT / "models" / "production" / "application.yml"
FLAGSHIP = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"
runner = CliRunner()


def test_import_prints_the_blocks_and_lists_what_is_left_out(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["import", str(APPLICATION), "--format", "resilience4j", "--instance", "payment"]
    )
    assert result.exit_code == 0, result.stderr
    blocks = yaml.safe_load(result.stdout)
    assert list(blocks) == ["payment"]
    assert StagePolicy.model_validate(blocks["payment"]).timeout == 2.0
    assert "registerHealthIndicator" in result.stderr and "cancelRunningFuture" in result.stderr
    assert "inventory" not in result.stderr  # another instance's keys are not listed
    out = tmp_path / "payment.yaml"
    written = runner.invoke(
        app, ["import", str(APPLICATION), "--format", "resilience4j", "--out", str(out)]
    )
    assert written.exit_code == 0, written.stderr
    assert set(yaml.safe_load(out.read_text())) == {"payment", "inventory"}


def test_import_bad_key_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "application.yml"
    bad.write_text("resilience4j:\n  retry:\n    instances:\n      payment: {maxAtempts: 3}\n")
    result = runner.invoke(app, ["import", str(bad), "--format", "resilience4j"])
    assert result.exit_code == 2
    assert f"{bad}:4:" in result.stderr and "did you mean 'maxAttempts'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_export_production_to_stdout_and_to_a_file(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "export",
            str(FLAGSHIP),
            "--configuration",
            "breaker-failover",
            "--format",
            "resilience4j",
            "--out",
            "-",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "resilience4j:" in result.stdout and "payment.fallback" in result.stderr
    written = runner.invoke(
        app,
        [
            "export",
            str(FLAGSHIP),
            "--configuration",
            "no-breaker",
            "--format",
            "envoy",
            "--out",
            str(tmp_path),
        ],
    )
    assert written.exit_code == 0, written.stderr
    out = tmp_path / "flash-sale-gateway-outage-export" / "no-breaker.envoy.yaml"
    assert import_file(out, "envoy").blocks["payment"]["timeout"] == "10s"


def test_export_a_tuned_winner_from_a_tune_run_directory(tmp_path: Path) -> None:
    run = tmp_path / "tune-x"
    run.mkdir()
    tuned = {
        "payment": {
            "timeout": 2.5,
            "breaker": {"preset": "polly", "failure_ratio": 0.3, "break_duration": 12.0},
        }
    }
    (run / "policy.yaml").write_text(
        "# Tuned by breakerlab tune\n" + yaml.safe_dump({"tuned": tuned})
    )
    root = tmp_path / "reports"
    result = runner.invoke(app, ["export", str(run), "--format", "dotnet", "--out", str(root)])
    assert result.exit_code == 0, result.stderr
    out = root / "tune-x-export" / "tuned.dotnet.json"  # --out is a reports root, as for run
    assert f"wrote {out}" in result.stdout
    back = StagePolicy.model_validate(import_file(out, "dotnet").blocks["payment"])
    assert back.timeout == 2.5 and back.breaker is not None
    wanted = Configuration.model_validate(tuned).payment.breaker
    assert wanted is not None
    assert BreakerPolicy.from_spec(back.breaker) == BreakerPolicy.from_spec(wanted)


def test_export_of_a_scenario_needs_a_configuration(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", str(FLAGSHIP), "--format", "hystrix", "--out", str(tmp_path / "h")]
    )
    assert result.exit_code == 2
    assert "--configuration" in result.stderr
    assert not (tmp_path / "h").exists()


def test_the_cli_offers_every_format_there_is() -> None:
    """The CLI's choices are spelled out (importing the formats would slow --help): they
    must stay the formats sim.config.formats reads and writes."""
    from sim.cli.options import ExportFormat, ImportFormat
    from sim.config.formats import EXPORTERS, FORMATS

    assert [f.value for f in ImportFormat] == list(FORMATS)
    assert [f.value for f in ExportFormat] == ["chaostoolkit", "toxiproxy", *EXPORTERS]
