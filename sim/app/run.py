"""``breakerlab run`` as a library call: validate, simulate (resumably), analyse, write.

Everything is checked before anything is written, so bad input leaves no trace. Then the
run directory is created with ``experiment.json`` and each finished run is saved in it as
it completes; ``resume`` finishes an interrupted directory. The tables are written next,
each atomically (so they stay even if drawing the report fails), then the report, and
``journal.json`` last: its presence marks a complete run directory.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import stored_orders
from sim.analysis.bounds import intervals
from sim.analysis.finished import finished_run
from sim.analysis.hypotheses import Verdict, judge
from sim.analysis.load import RunData, load_run, runs_of, transitions_frame
from sim.analysis.recommend import Recommendation, recommend
from sim.analysis.stats import paired_differences
from sim.analysis.summary import summary_frame
from sim.app.inputs import RunSettings, run_settings, scenario_of, with_warmup
from sim.app.journal import dumps, journal, versions
from sim.app.pictures import Picture, report_figures, series
from sim.app.rundir import now, placing
from sim.app.workflow import Execution, Notify, replicate_stored
from sim.config import LoadedScenario
from sim.errors import ConfigError
from sim.experiment import RunStore
from sim.experiment.manifest import scenario_from_record
from sim.experiment.runfiles import StoredRun
from sim.experiment.runner import Progress
from sim.report.write import write_report


@dataclass(frozen=True)
class RunOutput:
    """What ``run`` wrote and concluded: the run directory, the summary (one row per
    configuration x replication), its intervals, the paired differences with the baseline
    and the hypotheses' verdicts."""

    directory: Path
    summary: pd.DataFrame
    ci: pd.DataFrame
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)
    baseline: str = ""
    verdicts: list[Verdict] = field(default_factory=list)
    recommendation: Recommendation | None = None
    loaded: LoadedScenario | None = None  # the scenario as run

    @property
    def failed(self) -> bool:
        """A hypothesis failed: its whole interval is on the wrong side."""
        return any(v.outcome == "fail" for v in self.verdicts)

    @property
    def inconclusive(self) -> bool:
        return any(v.outcome == "inconclusive" for v in self.verdicts)

    @property
    def report(self) -> Path:
        return self.directory / "report.html"

    @cached_property
    def data(self) -> RunData:
        """Every table of the run (orders, timeline, transitions too), as ``load_run``."""
        return load_run(self.directory)

    def figures(self) -> dict[str, Picture]:
        """The report's figures by key (``faults``, ``revenue_lost``, ``latency``...)."""
        return report_figures(self.data)

    def over_time(self, column: str, **options: Any) -> Picture | None:
        """A timeline column per configuration over time (see ``pictures.series``)."""
        return series(self.data, column, **options)

    def to_json(self) -> dict[str, Any]:
        """What ``breakerlab run --json`` prints (NaN becomes null on output)."""
        result = "fail" if self.failed else "inconclusive" if self.inconclusive else "pass"
        return {
            "command": "run",
            "directory": str(self.directory),
            "report": str(self.report),
            "baseline": self.baseline,
            "replications": int(self.summary.groupby("configuration").size().min()),
            "result": result,
            "recommendation": self.recommendation.as_dict() if self.recommendation else None,
            "hypotheses": [v.as_dict() for v in self.verdicts],
            "results": self.ci,
            "differences": self.differences,
        }


def run_scenario(
    scenario: str | Path | LoadedScenario | None = None,
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
    objective: str | None = None,
    indifference: str | None = None,
    scheduler: Any = None,
    dask_local: int | None = None,
    resume: str | Path | None = None,
    trust_code: bool = False,
    allow_large: bool = False,
    on_start: Callable[[Path], None] | None = None,
    notify: Notify | None = None,
) -> RunOutput:
    """Run every configuration of ``scenario`` (a file, a shipped scenario's name or a
    loaded scenario), or finish the run directory ``resume``, and write its report.

    ``objective`` (``METRIC`` or ``METRIC:max``, default revenue_lost) and ``indifference``
    (δ: ``2%`` of the baseline's mean by default, or an absolute amount) set what the
    recommendation decides on. ``trust_code`` lets ``resume`` import the breaker classes
    the directory names. An experiment too large for this machine's memory is refused
    before anything is written, unless ``allow_large`` (see ``sim.app.runsize``).
    ``scheduler`` is a Dask scheduler address or a connected ``distributed.Client``;
    ``on_start`` gets the run directory once created, ``notify`` one-line messages (the
    Dask dashboard's address). See ``breakerlab run --help`` for the other options.
    """
    execution = Execution(workers, scheduler, dask_local, on_start, notify)
    if resume is not None:
        if scenario is not None:
            raise ConfigError(
                "give a scenario or --resume DIR, not both: a resumed run finishes the "
                "experiment its directory records",
                path="--resume",
            )
        loaded, settings, resumed = _resumed(Path(resume), trust_code)
    elif scenario is None:
        raise ConfigError("give a scenario file or --resume DIR")
    else:
        loaded, resumed = scenario_of(scenario), None
        settings = run_settings(
            loaded, replications, seed, baseline, precision, precision_metric,
            max_replications, warmup, objective, indifference,
        )  # fmt: skip
        loaded = with_warmup(loaded, settings.warmup)
    rule = settings.precision
    made = replicate_stored(
        execution, "run", loaded, settings, finished_run,
        root=Path(out) / loaded.scenario.name, resumed=resumed, keep_orders=True,
        allow_large=allow_large, progress=progress,
        next_count=rule.next_count() if rule else None, cap=rule.cap if rule else None,
    )  # fmt: skip
    return _write(made.directory, loaded, made.results, settings, made.backend, resumed is not None)


def _resumed(directory: Path, trust_code: bool) -> tuple[LoadedScenario, RunSettings, RunStore]:
    """An interrupted run, as its directory records it: the scenario, settings and store."""
    store = RunStore(directory)
    manifest = store.manifest("run")
    loaded = scenario_from_record(manifest["loaded"], str(store.directory), trust_code=trust_code)
    return loaded, RunSettings.from_dict(manifest["settings"]), store


def _write(
    directory: Path,
    loaded: LoadedScenario,
    results: list[StoredRun],
    settings: RunSettings,
    backend: str,
    resumed: bool,
) -> RunOutput:
    """Every output file, each placed atomically: the tables first, so they stay if the
    report fails; journal.json last, marking the directory complete. The orders and
    timeline tables are the store's per-run files, already in place (``orders/``,
    ``timeline/``): the report reads them from there, a run at a time."""
    seed, base = settings.seed, settings.baseline
    with placing(directory) as placer:
        place = placer.place
        summary = summary_frame(r.row for r in results)
        placer.csv("summary.csv", summary, "%.6f")
        ci = intervals(summary)  # clipped at each metric's bounds, and marked
        placer.csv("summary_ci.csv", ci, "%.6f")
        differences = paired_differences(summary, base)
        placer.csv("differences_ci.csv", differences, "%.6f")
        timeline = stored_orders.timeline(directory, runs_of(summary))
        transitions = transitions_frame(results)
        place("transitions.parquet", lambda p: transitions.to_parquet(p, index=False))
        verdicts = judge(loaded.scenario.hypotheses, ci, loaded.shop.currency_code)
        choice = settings.decision
        advice = recommend(loaded, summary, base, verdicts, choice)
        done = int(summary.groupby("configuration").size().min())
        finished = now()
        meta = {
            "scenario": loaded.scenario.model_dump(mode="json"),
            "model": loaded.shop.model_dump(mode="json"),
            "source": loaded.source,
            "seed": seed,
            "replications": done,
            "baseline": base,
            "decision": choice.as_dict(),
            "created": finished,
            "versions": versions(),
        }
        placer.text("run.json", json.dumps(meta, indent=2))
        data = RunData(
            loaded, summary, ci, differences, timeline, transitions, base, done, seed,
            directory=directory, verdicts=verdicts, recommendation=advice,
        )  # fmt: skip
        _place_report(directory, data)
        record = journal(
            loaded,
            seed=seed,
            replications=done,
            baseline=base,
            started=settings.started,
            finished=finished,
            backend=backend,
            verdicts=verdicts,
            extra={
                "precision": settings.precision.as_dict() if settings.precision else None,
                "resumed": resumed,
                "recommendation": advice.as_dict(),
            },
        )
        placer.text("journal.json", dumps(record))
    return RunOutput(directory, summary, ci, differences, base, verdicts, advice, loaded)


def _place_report(directory: Path, data: RunData) -> None:
    """The figures, report.md and report.html, drawn aside and then moved in."""
    with placing(directory) as placer:
        for path in write_report(placer.staging, data):
            placer.move_in(path)


def rebuild_report(directory: str | Path) -> Path:
    """``breakerlab report DIR``: report.md, report.html and the figures again from the
    stored tables (no simulation), each file replaced atomically; the report.html path."""
    data = load_run(directory)
    root = Path(directory)
    _place_report(root, data)
    return root / "report.html"
