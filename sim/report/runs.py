"""``breakerlab run`` as a library call: validate, simulate, analyse, write atomically."""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.analysis import by_configuration, orders_frame, plotdata, summarize, timeline_frame
from sim.config import LoadedScenario, load_scenario
from sim.engine import RunResult
from sim.experiment import run_experiment
from sim.experiment.runner import Progress
from sim.report import markdown, plots


@dataclass(frozen=True)
class RunOutput:
    directory: Path
    summary: pd.DataFrame
    ci: pd.DataFrame


def run_scenario(
    path: str | Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    out: str | Path = "reports",
    workers: int | None = None,
    progress: Progress | None = None,
) -> RunOutput:
    """Run every configuration of the scenario at ``path`` and write its report.

    The scenario is fully validated before anything runs, and the run directory appears
    only once complete (written beside it, then renamed), so a failure leaves nothing.
    """
    loaded = load_scenario(path)
    seed = loaded.scenario.seed if seed is None else seed
    count = replications or loaded.scenario.replications
    results = run_experiment(
        loaded, replications=count, seed=seed, workers=workers, progress=progress
    )
    summary = summarize(results)
    ci = by_configuration(summary)
    root = Path(out) / loaded.scenario.name
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incomplete-", dir=root))
    try:
        _write(staging, loaded, results, summary, ci, count, seed)
        directory = _final_name(root, seed)
        staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(root.iterdir()):
            root.rmdir()
        raise
    return RunOutput(directory, summary, ci)


def write_report(
    directory: Path,
    loaded: LoadedScenario,
    summary: pd.DataFrame,
    ci: pd.DataFrame,
    orders: pd.DataFrame,
    timeline: pd.DataFrame,
    replications: int,
    seed: int,
) -> None:
    """Plots and report.md from the tables of a run."""
    faults = plotdata.fault_windows(loaded.scenario)
    lost = plotdata.revenue_lost(summary)
    images = {
        "revenue_lost": plots.revenue_lost_bars(lost),
        "revenue_over_time": plots.revenue_lines(
            plotdata.revenue_over_time(timeline, loaded.scenario.horizon), faults
        ),
        "latency": plots.latency_lines(
            plotdata.latency_over_time(orders, loaded.scenario.horizon), faults
        ),
    }
    states = plotdata.breaker_states(timeline)
    if not states.empty:
        images["breakers"] = plots.breaker_bands(states, faults)
    names = {}
    for key, fig in images.items():
        names[key] = f"{key}.png"
        plots.save(fig, directory / names[key])
    text = markdown.render(loaded, ci, lost, names, replications, seed)
    (directory / "report.md").write_text(text, encoding="utf-8")


def _write(
    directory: Path,
    loaded: LoadedScenario,
    results: list[RunResult],
    summary: pd.DataFrame,
    ci: pd.DataFrame,
    replications: int,
    seed: int,
) -> None:
    orders = orders_frame(results)
    timeline = timeline_frame(results)
    summary.to_csv(directory / "summary.csv", index=False, float_format="%.6f")
    ci.to_csv(directory / "summary_ci.csv", index=False, float_format="%.6f")
    orders.to_parquet(directory / "orders.parquet", index=False)
    timeline.to_parquet(directory / "timeline.parquet", index=False)
    write_report(directory, loaded, summary, ci, orders, timeline, replications, seed)
    meta = {
        "scenario": loaded.scenario.model_dump(mode="json"),
        "model": loaded.shop.model_dump(mode="json"),
        "source": loaded.source,
        "seed": seed,
        "replications": replications,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            "breakerlab": _version("breakerlab"),
            "simpy": _version("simpy"),
            "numpy": _version("numpy"),
            "python": platform.python_version(),
        },
    }
    (directory / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _final_name(root: Path, seed: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{stamp}-seed{seed}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stamp}-seed{seed}-{n}"
    return candidate


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"
