"""Sweeps: parameter specs, grids, Latin hypercubes, validated configurations, the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config import load_scenario
from sim.errors import ConfigError
from sim.experiment.params import apply, grid, latin_hypercube, parse_param
from tests.conftest import write_scenario

runner = CliRunner()
THRESHOLD = "payment.breaker.failure_rate_threshold"
WAIT = "payment.breaker.wait_duration_in_open_state"


def test_grid_specs_lists_and_ranges() -> None:
    assert parse_param(f"{THRESHOLD}=20:80:7").values == (20, 30, 40, 50, 60, 70, 80)
    assert parse_param(f"{WAIT}=5s,30s,60s").values == ("5s", "30s", "60s")
    assert parse_param(f"{WAIT}=5s:15s:3").values == ("5s", "10s", "15s")
    ranged = parse_param("payment.timeout=100ms:10s:log")
    assert (ranged.low, ranged.high, ranged.unit, ranged.log) == (0.1, 10.0, "s", True)
    points = grid([parse_param(f"{THRESHOLD}=20:80:7"), parse_param(f"{WAIT}=5s,30s,60s")])
    assert len(points) == 21 and points[0] == {THRESHOLD: 20, WAIT: "5s"}


@pytest.mark.parametrize(
    "spec", ["nopath", "payment=1", f"{THRESHOLD}=", f"{THRESHOLD}=80:20", f"{WAIT}=5s:1m:x"]
)
def test_bad_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_param(spec)


def test_latin_hypercube_stratifies_every_parameter() -> None:
    params = [parse_param(f"{THRESHOLD}=10:90"), parse_param("payment.retry.max_attempts=1:4")]
    points = latin_hypercube(params, 8, seed=3)
    thresholds = sorted(float(p[THRESHOLD]) for p in points)
    assert all(10 + 10 * i <= t <= 10 + 10 * (i + 1) for i, t in enumerate(thresholds))
    attempts = sorted(int(p["payment.retry.max_attempts"]) for p in points)
    assert attempts == [1, 1, 2, 2, 3, 3, 4, 4]
    assert latin_hypercube(params, 8, seed=3) == points


def test_apply_validates_units_and_refuses_bad_values(tmp_path: Path) -> None:
    loaded = load_scenario(write_scenario(tmp_path))
    base = loaded.scenario.configurations["breaker"]
    changed = apply(base, {THRESHOLD: "20%", WAIT: "1m"})
    assert changed.payment.breaker is not None
    assert changed.payment.timeout == base.payment.timeout
    assert changed.payment.breaker.wait_duration_in_open_state == 60.0  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="has no setting 'failur'; did you mean 'failure_rate"):
        apply(base, {"payment.breaker.failur": 1})
    with pytest.raises(ConfigError, match=r"payment\.timeout"):
        apply(base, {"payment.timeout": "-1s"})


@pytest.mark.slow
def test_sweep_cli_writes_a_tidy_table_and_plots(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, horizon="3m", replications=2)
    result = runner.invoke(
        app,
        [
            "sweep", str(path), "--configuration", "breaker",
            "--param", f"{THRESHOLD}=30:70:2", "--param", f"{WAIT}=5s,30s",
            "--out", str(tmp_path / "r"), "--workers", "2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [directory] = (tmp_path / "r" / "tiny-sweep").iterdir()
    table = pd.read_csv(directory / "sweep.csv")
    points = table[~table["is_base"]]
    assert set(points["configuration"]) == {
        f"failure_rate_threshold={t} wait_duration_in_open_state={w}"
        for t in (30, 70)
        for w in ("5s", "30s")
    }
    lost = points[points["metric"] == "revenue_lost"]
    assert sorted(lost[WAIT].unique()) == [5.0, 30.0]
    assert (lost["ci_low"] <= lost["mean"]).all() and lost["diff_mean"].notna().all()
    assert set(lost["replications"]) == {2}
    assert (directory / "sweep_revenue_lost.png").is_file()
    assert (directory / "journal.json").is_file()


def test_sweep_lhs_and_bad_param_exit_codes(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, horizon="3m", replications=1)
    out = tmp_path / "r"
    bad = runner.invoke(app, ["sweep", str(path), "--param", f"{WAIT}=-5s", "--out", str(out)])
    assert bad.exit_code == 2 and "--param" in bad.stderr
    assert not out.exists()
    good = runner.invoke(
        app,
        ["sweep", str(path), "--configuration", "breaker", "--param", f"{THRESHOLD}=10:90",
         "--lhs", "3", "--out", str(out), "--workers", "1"],
    )  # fmt: skip
    assert good.exit_code == 0, good.stderr
    [directory] = (out / "tiny-sweep").iterdir()
    assert (directory / "sweep_revenue_lost.png").is_file()
