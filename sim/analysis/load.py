"""A finished run directory as tidy DataFrames, so notebooks, ``breakerlab report`` and the
run itself draw from the same tables.

Layout read: ``summary.csv``, ``summary_ci.csv``, ``differences_ci.csv``, the orders and
timeline tables (``orders/`` and ``timeline/``: one Parquet file per run, written by the
run store; directories of an older breakerlab have ``orders.parquet`` and
``timeline.parquet`` instead), ``transitions.parquet`` (older runs: derived from the
timeline's ``breaker_*`` columns), ``run.json`` and ``configurations.yaml`` (older runs:
none; the report then shows the validated configurations).

The orders table is read when first asked for (``RunData.orders``): the report draws its
order figures a configuration at a time instead (``RunData.order_figures``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.analysis import stored_orders
from sim.analysis.bounds import bounded
from sim.analysis.hypotheses import Verdict, judge
from sim.analysis.mitigations import GatewayShares
from sim.analysis.objectives import DecisionSettings
from sim.analysis.plotdata import LatencyOverTime
from sim.analysis.recommend import Recommendation, recommend
from sim.analysis.stats import by_configuration, paired_differences
from sim.analysis.stored_tables import check_table, read_run_meta, reason
from sim.config.scenario import LoadedScenario
from sim.config.yamlio import load_yaml
from sim.engine.records import BREAKER_STATE_CODES, RunResult
from sim.errors import ConfigError
from sim.experiment.runfiles import StoredRun

TRANSITION_COLUMNS = ["configuration", "replication", "time_s", "breaker", "from_state", "to_state"]
STATE_NAMES = {code: name for name, code in BREAKER_STATE_CODES.items()}
REQUIRED = ("summary.csv", "run.json")
TABLES = ("orders", "timeline")  # folders of the store's per-run files
OLDER = ("orders.parquet", "timeline.parquet")  # the same tables, from breakerlab < format 3
CONFIGURATIONS_FILE = "configurations.yaml"  # as the scenario wrote them (optional)


@dataclass(frozen=True)
class RunData:
    """Everything a report or a notebook needs from one run, as DataFrames.

    ``ci`` is the summary with intervals (configuration, metric, mean, ci_low, ci_high,
    replications); ``differences`` the paired differences with ``baseline``. ``orders`` is
    read from ``directory`` when first used (or given as ``orders_frame``).
    """

    loaded: LoadedScenario
    summary: pd.DataFrame
    ci: pd.DataFrame
    differences: pd.DataFrame
    timeline: pd.DataFrame
    transitions: pd.DataFrame
    baseline: str
    replications: int
    seed: int
    directory: Path | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    recommendation: Recommendation | None = None
    orders_frame: pd.DataFrame | None = None

    @property
    def configurations(self) -> list[str]:
        """Configuration names in the scenario's order."""
        return [str(c) for c in dict.fromkeys(self.summary["configuration"])]

    @property
    def runs(self) -> list[tuple[str, int]]:
        """(configuration, replication) of every run, in the summary's order."""
        return runs_of(self.summary)

    @cached_property
    def orders(self) -> pd.DataFrame:
        """One row per order of every run (see README, "orders")."""
        if self.orders_frame is not None:
            return self.orders_frame
        if self.directory is None:
            raise ValueError("no orders: this RunData has neither a directory nor a frame")
        older = self.directory / OLDER[0]
        if older.is_file():
            return _read(older, pd.read_parquet)
        return stored_orders.orders(self.directory, self.runs, self.configurations)

    def latency_over_time(self, horizon: float, bin_s: float) -> pd.DataFrame:
        """``plotdata.latency_over_time`` of the orders: from the orders table when it is
        at hand, else read a run at a time from the run directory (the same table, in
        memory that does not grow with the runs)."""
        if self._orders_at_hand():
            table = LatencyOverTime(horizon, bin_s, self.configurations)
            table.add(self.orders)
            return table.frame()
        assert self.directory is not None
        parts = []
        for configuration in self.configurations:  # one configuration's bins at a time
            table = LatencyOverTime(horizon, bin_s, [configuration])
            runs = [run for run in self.runs if run[0] == configuration]
            stored_orders.feed(self.directory, runs, self.configurations, table)
            parts.append(table.frame())
        return pd.concat(parts, ignore_index=True)

    def gateway_shares(self, horizon: float, bin_s: float) -> pd.DataFrame:
        """``mitigations.gateway_shares`` of the orders, read as ``latency_over_time``."""
        table = GatewayShares(horizon, bin_s)
        if self._orders_at_hand():
            table.add(self.orders)
        else:
            assert self.directory is not None
            stored_orders.feed(self.directory, self.runs, self.configurations, table)
        return table.frame()

    def _orders_at_hand(self) -> bool:
        """The orders table is in memory already, or there is nothing else to read."""
        return "orders" in self.__dict__ or self.orders_frame is not None or self._older()

    def _older(self) -> bool:
        return self.directory is None or (self.directory / OLDER[0]).is_file()

    def differences_with(self, baseline: str) -> pd.DataFrame:
        """Paired differences against another configuration than the run's baseline."""
        return paired_differences(self.summary, baseline)


def runs_of(summary: pd.DataFrame) -> list[tuple[str, int]]:
    """(configuration, replication) of every run of a summary, in its order."""
    pairs = zip(summary["configuration"], summary["replication"], strict=True)
    return [(str(c), int(r)) for c, r in pairs]


def load_run(directory: str | Path) -> RunData:
    """Read a finished run directory; a ConfigError names the missing or unreadable file."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError("not a directory" + _shipped_hint(str(directory)), file=root)
    older = all((root / name).is_file() for name in OLDER)
    needed = [*REQUIRED, *(OLDER if older else (f"{t}/" for t in TABLES))]
    for name in needed:
        there = (root / name).is_dir() if name.endswith("/") else (root / name).is_file()
        if not there:
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
    if older:
        timeline = _read(root / OLDER[1], pd.read_parquet)
    else:
        timeline = check_table(stored_orders.timeline(root, runs_of(summary)), root / TABLES[1])
    path = root / "transitions.parquet"
    transitions = (
        _read(path, pd.read_parquet) if path.is_file() else transitions_from_timeline(timeline)
    )
    return RunData(
        loaded=loaded,
        summary=summary,
        ci=ci,
        differences=differences,
        timeline=timeline,
        transitions=transitions,
        baseline=baseline,
        replications=int(meta.get("replications", summary.groupby("configuration").size().min())),
        seed=int(meta.get("seed", loaded.scenario.seed)),
        directory=root,
        verdicts=verdicts,
        recommendation=advice,
    )


def transitions_frame(results: Iterable[RunResult | StoredRun]) -> pd.DataFrame:
    """Every breaker transition of every run, at its exact instant."""
    rows = [
        (r.configuration, r.replication, float(t), name, old, new)
        for r in results
        for t, name, old, new in (
            r.record["transitions"] if isinstance(r, StoredRun) else r.transitions
        )
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
