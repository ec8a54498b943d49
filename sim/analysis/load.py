"""A finished run directory as tidy DataFrames, so notebooks, ``breakerlab report`` and the
run itself draw from the same tables.

Layout read: ``summary.csv``, ``summary_ci.csv``, ``differences_ci.csv``,
``orders.parquet``, ``timeline.parquet``, ``transitions.parquet`` (older runs: derived from
the timeline's ``breaker_*`` columns), ``run.json`` and ``configurations.yaml`` (older runs:
none; the report then shows the validated configurations).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.analysis.bounds import bounded
from sim.analysis.hypotheses import Verdict, judge
from sim.analysis.objectives import DecisionSettings
from sim.analysis.recommend import Recommendation, recommend
from sim.analysis.stats import by_configuration, paired_differences
from sim.analysis.stored_tables import check_table, read_run_meta, reason
from sim.config.scenario import LoadedScenario
from sim.config.yamlio import load_yaml
from sim.engine.records import BREAKER_STATE_CODES, RunResult
from sim.errors import ConfigError

TRANSITION_COLUMNS = ["configuration", "replication", "time_s", "breaker", "from_state", "to_state"]
STATE_NAMES = {code: name for name, code in BREAKER_STATE_CODES.items()}
REQUIRED = ("summary.csv", "orders.parquet", "timeline.parquet", "run.json")
CONFIGURATIONS_FILE = "configurations.yaml"  # as the scenario wrote them (optional)


@dataclass(frozen=True)
class RunData:
    """Everything a report or a notebook needs from one run, as DataFrames.

    ``ci`` is the summary with intervals (configuration, metric, mean, ci_low, ci_high,
    replications); ``differences`` the paired differences with ``baseline``.
    """

    loaded: LoadedScenario
    summary: pd.DataFrame
    ci: pd.DataFrame
    differences: pd.DataFrame
    orders: pd.DataFrame
    timeline: pd.DataFrame
    transitions: pd.DataFrame
    baseline: str
    replications: int
    seed: int
    directory: Path | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    recommendation: Recommendation | None = None

    @property
    def configurations(self) -> list[str]:
        """Configuration names in the scenario's order."""
        return [str(c) for c in dict.fromkeys(self.summary["configuration"])]

    def differences_with(self, baseline: str) -> pd.DataFrame:
        """Paired differences against another configuration than the run's baseline."""
        return paired_differences(self.summary, baseline)


def load_run(directory: str | Path) -> RunData:
    """Read a finished run directory; a ConfigError names the missing or unreadable file."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError("not a directory" + _shipped_hint(str(directory)), file=root)
    for name in REQUIRED:
        if not (root / name).is_file():
            hint = " (an interrupted run? finish it with breakerlab run --resume DIR)"
            raise ConfigError(f"not a finished run directory: no {name}{hint}", file=root)
    meta = _json(root / "run.json")
    try:
        loaded = LoadedScenario.model_validate(
            {
                "scenario": meta["scenario"],
                "shop": meta["model"],
                "source": meta.get("source", ""),
                "configurations_as_written": _configurations_as_written(root),
            }
        )
    except (KeyError, ValidationError) as exc:
        raise ConfigError(f"not a run description: {reason(exc)}", file=root / "run.json") from None
    summary = _read(root / "summary.csv", pd.read_csv)
    ci = (
        _read(root / "summary_ci.csv", pd.read_csv) if (root / "summary_ci.csv").is_file() else None
    )
    # Bounded again: a run written before intervals were clipped has no 'clipped' column.
    ci = bounded(by_configuration(summary) if ci is None else ci)
    baseline = str(meta.get("baseline") or loaded.scenario.baseline_configuration)
    path = root / "differences_ci.csv"
    differences = _read(path, pd.read_csv) if path.is_file() else None
    if differences is None or (differences.empty and summary["configuration"].nunique() > 1):
        differences = paired_differences(summary, baseline)
    verdicts = judge(loaded.scenario.hypotheses, ci, loaded.shop.currency_code)
    choice = DecisionSettings.from_dict(meta.get("decision"))
    advice = recommend(loaded, summary, baseline, verdicts, choice)
    timeline = _read(root / "timeline.parquet", pd.read_parquet)
    path = root / "transitions.parquet"
    transitions = (
        _read(path, pd.read_parquet) if path.is_file() else transitions_from_timeline(timeline)
    )
    return RunData(
        loaded=loaded,
        summary=summary,
        ci=ci,
        differences=differences,
        orders=_read(root / "orders.parquet", pd.read_parquet),
        timeline=timeline,
        transitions=transitions,
        baseline=baseline,
        replications=int(meta.get("replications", summary.groupby("configuration").size().min())),
        seed=int(meta.get("seed", loaded.scenario.seed)),
        directory=root,
        verdicts=verdicts,
        recommendation=advice,
    )


def transitions_frame(results: Iterable[RunResult]) -> pd.DataFrame:
    """Every breaker transition of every run, at its exact instant."""
    rows = [
        (r.configuration, r.replication, float(t), name, old, new)
        for r in results
        for t, name, old, new in r.transitions
    ]
    frame = pd.DataFrame(rows, columns=TRANSITION_COLUMNS)
    return frame.astype({"replication": "int64", "time_s": "float64"})


def transitions_from_timeline(timeline: pd.DataFrame) -> pd.DataFrame:
    """Transitions read off the per-second ``breaker_*`` states (for runs written before
    ``transitions.parquet`` existed): stamped with the second they were first seen in, and
    blind to a round trip inside one second."""
    columns = [c for c in timeline.columns if c.startswith("breaker_")]
    frames = []
    for (config, rep), part in timeline.groupby(
        ["configuration", "replication"], sort=False, observed=True
    ):
        part = part.sort_values("second")
        for column in columns:
            states = part[column].ffill().fillna(0).to_numpy(dtype=int)
            before = np.concatenate([[0], states[:-1]])
            changed = np.nonzero(states != before)[0]
            if not changed.size:
                continue
            frames.append(
                pd.DataFrame(
                    {
                        "configuration": str(config),
                        "replication": rep,
                        "time_s": part["second"].to_numpy(dtype=float)[changed],
                        "breaker": column.removeprefix("breaker_"),
                        "from_state": [STATE_NAMES.get(s, str(s)) for s in before[changed]],
                        "to_state": [STATE_NAMES.get(s, str(s)) for s in states[changed]],
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=TRANSITION_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def _shipped_hint(name: str) -> str:
    """For a shipped scenario's name given instead of a run directory: what to do."""
    from sim.examples import shipped_scenarios

    key = name.removesuffix(".yaml").replace("-", "_")
    if "/" in name or key not in shipped_scenarios():
        return ""
    return (
        f"; {key!r} is a shipped scenario: sim.run({key!r}) runs it, and its .data (or "
        "sim.load_run of the directory it wrote) holds the tables"
    )


def _configurations_as_written(root: Path) -> dict[str, Any]:
    """The configurations as the scenario wrote them, from ``configurations.yaml``; empty
    for a run written before that file existed (the report then shows the validated ones)."""
    path = root / CONFIGURATIONS_FILE
    if not path.is_file():
        return {}
    data, _ = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of configurations", file=path)
    return data


def _json(path: Path) -> dict[str, Any]:
    return read_run_meta(path)  # checked: a damaged run.json is bad input, not a bug


def _read(path: Path, reader: Any) -> pd.DataFrame:
    try:
        frame: pd.DataFrame = reader(path)
    except Exception as exc:  # pyarrow and pandas raise many kinds for a damaged file
        raise ConfigError(f"unreadable: {exc}", file=path) from None
    return check_table(frame, path)
