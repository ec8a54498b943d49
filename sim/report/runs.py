"""``breakerlab run`` as a library call: validate, simulate (resumably), analyse, write.

Everything is checked before anything is written, so bad input leaves no trace. Then the
run directory is created with ``experiment.json`` and each finished run is saved in it as
it completes; ``resume`` finishes an interrupted directory. The report files are written
at the end, each atomically.
"""

from __future__ import annotations

import difflib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import by_configuration, orders_frame, summarize, timeline_frame
from sim.analysis.hypotheses import Verdict, judge
from sim.analysis.load import RunData, load_run, transitions_frame
from sim.analysis.metrics import unknown_metric
from sim.analysis.precision import Precision
from sim.analysis.stats import paired_differences
from sim.config import LoadedScenario, load_scenario
from sim.config.yamlio import load_yaml
from sim.engine import RunResult
from sim.errors import ConfigError
from sim.experiment import Executor, RunStore, replicate
from sim.experiment.runner import Progress
from sim.report.journal import dumps, journal, versions
from sim.report.write import write_report


@dataclass(frozen=True)
class RunOutput:
    directory: Path
    summary: pd.DataFrame
    ci: pd.DataFrame
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)
    baseline: str = ""
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """A hypothesis failed: its whole interval is on the wrong side."""
        return any(v.outcome == "fail" for v in self.verdicts)


def run_scenario(
    path: str | Path | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    out: str | Path = "reports",
    workers: int | None = None,
    progress: Progress | None = None,
    baseline: str | None = None,
    precision: str | None = None,
    precision_metric: str | None = None,
    max_replications: int | None = None,
    warmup: str | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    resume: str | Path | None = None,
    on_start: Callable[[Path], None] | None = None,
) -> RunOutput:
    """Run every configuration of the scenario at ``path`` (or finish the run directory
    ``resume``) and write its report; see ``breakerlab run --help`` for the options."""
    if resume is not None:
        store = RunStore(Path(resume))
        manifest = store.manifest()
        loaded = LoadedScenario.model_validate(manifest["loaded"])
        settings = manifest["settings"]
    else:
        if path is None:
            raise ConfigError("give a scenario file or --resume DIR")
        loaded = load_scenario(path)
        settings = _settings(
            loaded, replications, seed, baseline, precision, precision_metric,
            max_replications, warmup,
        )  # fmt: skip
        loaded = _with_warmup(loaded, settings["warmup"])
    rule = Precision(**settings["precision"]) if settings["precision"] else None
    count = settings["replications"]
    hint = count * len(loaded.scenario.configurations) if rule is None else None
    # The backend first: an unreachable scheduler is bad input, and must leave nothing.
    with Executor(workers, scheduler=scheduler, dask_local=dask_local, jobs_hint=hint) as backend:
        if resume is None:
            store = RunStore(new_directory(Path(out) / loaded.scenario.name, settings["seed"]))
            manifest = {"loaded": loaded.model_dump(mode="json"), "settings": settings}
            store.create(manifest)
        directory = store.directory
        if on_start:
            on_start(directory)
        results = replicate(
            loaded,
            settings["seed"],
            backend,
            replications=count,
            next_count=rule.next_count() if rule else None,
            cap=rule.cap if rule else None,
            store=store,
            progress=progress,
        )
        backend_name = backend.name
    summary = summarize(results)
    ci = by_configuration(summary)
    base = settings["baseline"]
    differences = paired_differences(summary, base)
    verdicts = judge(loaded.scenario.hypotheses, ci)
    done = int(summary.groupby("configuration").size().min())
    record = journal(
        loaded,
        seed=settings["seed"],
        replications=done,
        baseline=base,
        started=settings["started"],
        finished=now(),
        backend=backend_name,
        verdicts=verdicts,
        extra={"precision": settings["precision"], "resumed": resume is not None},
    )
    _write(directory, loaded, results, summary, ci, differences, base, verdicts, done, record)
    return RunOutput(directory, summary, ci, differences, base, verdicts)


def _settings(
    loaded: LoadedScenario,
    replications: int | None,
    seed: int | None,
    baseline: str | None,
    precision: str | None,
    precision_metric: str | None,
    max_replications: int | None,
    warmup: str | None,
) -> dict[str, Any]:
    """The experiment's settings, every one checked: a ConfigError names what is wrong."""
    scenario = loaded.scenario
    base = baseline or scenario.baseline_configuration
    if base not in scenario.configurations:
        names = sorted(scenario.configurations)
        hint = difflib.get_close_matches(base, names, n=1)
        raise ConfigError(
            f"unknown configuration {base!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            + f" (known: {', '.join(names)})",
            path="--baseline",
        )  # fmt: skip
    check_hypothesis_metrics(loaded)
    rule = None
    if precision is not None:
        metric = precision_metric or "revenue_lost"
        problem = unknown_metric(metric, loaded)
        if problem:
            raise ConfigError(problem, path="--precision-metric")
        try:
            rule = Precision.parse(precision, metric, max_replications or 50)
        except ValueError as exc:
            raise ConfigError(str(exc), path="--precision") from None
    warm = scenario.warmup
    if warmup is not None:
        from sim.units import parse_duration

        try:
            warm = parse_duration(warmup)
        except ValueError as exc:
            raise ConfigError(str(exc), path="--warmup") from None
        if not 0 <= warm < scenario.horizon:
            raise ConfigError("warm-up must be shorter than the horizon", path="--warmup")
    return {
        "seed": scenario.seed if seed is None else seed,
        "replications": replications or scenario.replications,
        "baseline": base,
        "precision": rule.as_dict() if rule else None,
        "warmup": warm,
        "started": now(),
    }


def check_hypothesis_metrics(loaded: LoadedScenario) -> None:
    """Every hypothesis names a metric of the summary, else a ConfigError with its line."""
    problems = [
        (i, message)
        for i, h in enumerate(loaded.scenario.hypotheses)
        if (message := unknown_metric(h.metric, loaded))
    ]
    if not problems:
        return
    i, message = problems[0]
    if loaded.source and Path(loaded.source).is_file():
        _, lines = load_yaml(Path(loaded.source))
        raise lines.error(message, ("hypotheses", i))
    raise ConfigError(message, path=f"hypotheses[{i}]")


def _with_warmup(loaded: LoadedScenario, warmup: float) -> LoadedScenario:
    if warmup == loaded.scenario.warmup:
        return loaded
    scenario = loaded.scenario.model_copy(update={"warmup": warmup})
    return loaded.model_copy(update={"scenario": scenario})


def rebuild_report(directory: str | Path) -> Path:
    """``breakerlab report DIR``: report.md, report.html and the figures again from the
    stored tables (no simulation), each file replaced atomically; the report.html path."""
    data = load_run(directory)
    root = Path(directory)
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=root))
    try:
        for path in write_report(staging, data):
            path.replace(root / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root / "report.html"


def _write(
    directory: Path,
    loaded: LoadedScenario,
    results: list[RunResult],
    summary: pd.DataFrame,
    ci: pd.DataFrame,
    differences: pd.DataFrame,
    baseline: str,
    verdicts: list[Verdict],
    replications: int,
    record: dict[str, Any],
) -> None:
    """Every report file, written in a staging folder and then moved in one by one, each
    with an atomic rename; journal.json comes last and marks the report complete."""
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=directory))
    try:
        seed = int(record["seeds"]["seed"])
        orders = orders_frame(results)
        timeline = timeline_frame(results)
        transitions = transitions_frame(results)
        summary.to_csv(staging / "summary.csv", index=False, float_format="%.6f")
        ci.to_csv(staging / "summary_ci.csv", index=False, float_format="%.6f")
        differences.to_csv(staging / "differences_ci.csv", index=False, float_format="%.6f")
        orders.to_parquet(staging / "orders.parquet", index=False)
        timeline.to_parquet(staging / "timeline.parquet", index=False)
        transitions.to_parquet(staging / "transitions.parquet", index=False)
        data = RunData(
            loaded, summary, ci, differences, orders, timeline, transitions,
            baseline, replications, seed, verdicts=verdicts,
        )  # fmt: skip
        write_report(staging, data)
        meta = {
            "scenario": loaded.scenario.model_dump(mode="json"),
            "model": loaded.shop.model_dump(mode="json"),
            "source": loaded.source,
            "seed": seed,
            "replications": replications,
            "baseline": baseline,
            "created": record["finished"],
            "versions": versions(),
        }
        (staging / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        (staging / "journal.json").write_text(dumps(record), encoding="utf-8")
        names = sorted(p.name for p in staging.iterdir() if p.name != "journal.json")
        for name in [*names, "journal.json"]:
            (staging / name).replace(directory / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def new_directory(root: Path, seed: int) -> Path:
    """A fresh run directory under ``root``, created here (never one that exists)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        candidate = root / (f"{stamp}-seed{seed}" + (f"-{n}" if n > 1 else ""))
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
