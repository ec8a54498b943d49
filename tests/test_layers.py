"""The layer contracts of pyproject.toml ([tool.importlinter], docs/architecture.md) hold
on the tree, and `make lint` would catch an import that runs back up or a forbidden
library: each is planted in a copy of ``sim/`` and lint-imports must refuse it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture(autouse=True)
def _lint_imports_installed() -> None:
    """The tests run with the dev extras (make test installs them): a missing
    import-linter fails here rather than passing the layer checks unseen."""
    assert LINT_IMPORTS.exists(), "import-linter missing: pip install -e .[dev] (make test does)"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports run on the ``sim`` package found at ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_tree_keeps_every_contract() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("sim/config/yamlio.py", "from sim.analysis import stats", "Layers point one way"),
        ("sim/engine/records.py", "import sim.report.plots", "Layers point one way"),
        ("sim/units.py", "from sim.errors import ConfigError", "Layers point one way"),
        ("sim/resilience/windows.py", "import simpy", "no SimPy"),
        ("sim/config/fields.py", "import simpy", "no SimPy"),
        (
            "sim/resilience/breaker.py",
            "from sim.resilience import nodebreakers",
            "Inside resilience",
        ),
        ("sim/engine/pool.py", "import pandas", "never tables, figures or YAML"),
        ("sim/engine/pool.py", "import yaml", "never tables, figures or YAML"),
        ("sim/analysis/stats.py", "import matplotlib.pyplot", "compute, never draw"),
        ("sim/export/mapping.py", "from sim import dists", "Export reads only"),
        ("sim/config/formats/common.py", "import sim.config.loader", "never on their loader"),
    ],
)
def test_lint_refuses_a_planted_import(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    planted = tmp_path / module
    planted.write_text(
        planted.read_text(encoding="utf-8") + f"\n\ndef _planted() -> None:\n    {line}\n",
        encoding="utf-8",
    )
    result = lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
    assert module.removesuffix(".py").replace("/", ".") in broken
