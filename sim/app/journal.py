"""journal.json: what was run and what was concluded, for audits and CI artefacts."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.analysis.hypotheses import Verdict
from sim.config.scenario import LoadedScenario

PACKAGES = ("breakerlab", "simpy", "numpy", "pandas", "scipy", "dask", "distributed", "optuna")


def versions() -> dict[str, str]:
    """Versions of breakerlab, Python and the libraries a result depends on."""
    out = {name: _version(name) for name in PACKAGES}
    out["python"] = platform.python_version()
    commit = _git_commit()
    if commit:
        out["breakerlab_commit"] = commit
    return out


def journal(
    loaded: LoadedScenario,
    *,
    seed: int,
    replications: int,
    baseline: str,
    started: str,
    finished: str,
    backend: str,
    verdicts: list[Verdict],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The journal's content: the scenario as run (model included), versions, seeds,
    timestamps and every hypothesis verdict."""
    outcomes = [v.outcome for v in verdicts]
    return {
        "scenario": loaded.scenario.model_dump(mode="json"),
        "model": loaded.shop.model_dump(mode="json"),
        "source": loaded.source,
        "seeds": {
            "seed": seed,
            "replications": list(range(replications)),
            "streams": "numpy PCG64, SeedSequence(seed, spawn_key=(replication, crc32(source)))",
        },
        "baseline": baseline,
        "started": started,
        "finished": finished,
        "backend": backend,
        "versions": versions(),
        "verdicts": [v.as_dict() for v in verdicts],
        "result": "fail"
        if "fail" in outcomes
        else "inconclusive"
        if "inconclusive" in outcomes
        else "pass",
        **(extra or {}),
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, default=str)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None
