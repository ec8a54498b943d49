"""The small commands load only what they use: validating a file, writing schemas or the
examples needs no statistics, simulation or Parquet (issue 22: their start-up time is
measured in benchmarks/bench_cli.py, never here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

HEAVY = ("numpy", "pandas", "scipy", "pyarrow", "matplotlib", "simpy", "optuna", "dask")
FLAGSHIP = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"


def heavy_after(commands: list[list[str]], also: str = "") -> set[str]:
    """The HEAVY packages one fresh interpreter has loaded after running ``commands``
    through the command line in turn (each must exit 0), and the code ``also``."""
    probe = (
        f"import sys\n{also}\n"
        "from typer.testing import CliRunner\n"
        "from sim.cli import app\n"
        f"for argv in {commands!r}:\n"
        "    result = CliRunner().invoke(app, argv)\n"
        "    assert result.exit_code == 0, (argv, result.output)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(done.stdout.split()) & set(HEAVY)


def test_validate_schema_and_init_load_nothing_heavy(tmp_path: Path) -> None:
    commands = [
        ["validate", str(FLAGSHIP)],
        ["validate", str(ROOT / "models" / "reference_shop.yaml")],
        ["schema", "--out", str(tmp_path / "schemas")],
        ["init", str(tmp_path / "examples")],
    ]
    assert heavy_after(commands) == set()


def test_import_and_export_load_nothing_heavy(tmp_path: Path) -> None:
    """Translating a configuration in or out reads YAML and writes text: no Parquet or
    NumPy (the atomic writer they share lives apart from the run store)."""
    commands = [
        ["import", str(ROOT / "models" / "production" / "application.yml"),
         "--format", "resilience4j", "--out", str(tmp_path / "payment.yaml")],
        ["export", str(FLAGSHIP), "--format", "resilience4j",
         "--configuration", "breaker-failover", "--out", str(tmp_path / "exported")],
    ]  # fmt: skip
    assert heavy_after(commands) == set()


def test_the_probe_sees_what_is_loaded() -> None:
    assert heavy_after([["validate", str(FLAGSHIP)]], also="import sim.engine.simulation") == {
        "numpy",
        "simpy",
    }
