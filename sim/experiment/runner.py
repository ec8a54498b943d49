"""Run every configuration x replication of a scenario, on any backend, keeping each
finished run on disk when given a store.

Each run's randomness depends only on (seed, replication, source name), never on which
process ran it or in what order, so serial, process-pool and Dask runs give identical results.
A ``reducer`` (e.g. ``sim.analysis.summary.summary_row``) is applied in the worker, so only
what it keeps travels back and is stored: sweeps and tuning trials keep no per-order rows,
and a stored run (``sim.analysis.finished.stored_run``) travels as compact tables that the
store writes and the experiment then drops, so memory is bounded by one run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from sim.config.scenario import LoadedScenario
from sim.engine import RunResult
from sim.experiment.backends import Backend, Executor, Job, Reducer
from sim.experiment.store import RunStore

T = TypeVar("T")
Progress = Callable[[int, int, str], None]
# Given every result so far (plan order), how many replications each configuration needs.
NextCount = Callable[[list[Any], int], int]


@dataclass(frozen=True)
class RunSpec:
    configuration: str
    replication: int

    @property
    def label(self) -> str:
        return f"{self.configuration} #{self.replication}"


def plan(loaded: LoadedScenario, replications: int | None = None, start: int = 0) -> list[RunSpec]:
    """Every run of the experiment, configuration-major, replications ``start`` and up."""
    count = replications or loaded.scenario.replications
    return [
        RunSpec(config, rep)
        for config in loaded.scenario.configurations
        for rep in range(start, count)
    ]


def run_specs(
    loaded: LoadedScenario,
    specs: Sequence[RunSpec],
    seed: int,
    backend: Backend,
    *,
    store: RunStore | None = None,
    done: dict[RunSpec, Any] | None = None,
    progress: Progress | None = None,
    total: int | None = None,
    reducer: Reducer | None = None,
) -> dict[RunSpec, Any]:
    """Results of ``specs`` (RunResults, or what ``reducer`` keeps of each); runs already
    in ``done`` are not run again, and each new one is saved to ``store`` as it finishes."""
    results = dict(done or {})
    missing = [spec for spec in specs if spec not in results]
    count = len(results)
    total = total or count + len(missing)
    if progress and count:
        progress(count, total, "resumed")
    jobs = [Job(loaded, s.configuration, s.replication, seed, reducer) for s in missing]
    for finished in backend.run(jobs):
        spec = RunSpec(finished.configuration, finished.replication)
        value = finished.value
        if store is not None:  # saved, and only what the experiment needs kept in memory
            value = store.save(value, (spec.configuration, spec.replication))
        results[spec] = value
        del finished  # the run's full tables, freed before the next one arrives
        count += 1
        if progress:
            progress(count, total, spec.label)
    return results


@overload
def replicate(
    loaded: LoadedScenario,
    seed: int,
    backend: Backend,
    *,
    replications: int,
    next_count: NextCount | None = None,
    cap: int | None = None,
    store: RunStore | None = None,
    progress: Progress | None = None,
    reducer: None = None,
) -> list[RunResult]: ...


@overload
def replicate(
    loaded: LoadedScenario,
    seed: int,
    backend: Backend,
    *,
    replications: int,
    next_count: NextCount | None = None,
    cap: int | None = None,
    store: RunStore | None = None,
    progress: Progress | None = None,
    reducer: Callable[[RunResult], T],
) -> list[T]: ...


def replicate(
    loaded: LoadedScenario,
    seed: int,
    backend: Backend,
    *,
    replications: int,
    next_count: NextCount | None = None,
    cap: int | None = None,
    store: RunStore | None = None,
    progress: Progress | None = None,
    reducer: Reducer | None = None,
) -> list[Any]:
    """``replications`` runs of every configuration; then, with ``next_count``, more until it
    answers no more (or ``cap``). Results in plan order: RunResults, or with ``reducer``
    what it keeps of each (then ``store`` holds those, and resumes from them).

    The stopping rule sees only results, never timing or worker count, so the number of
    replications, like every result, is the same however the runs were executed.
    """
    done: dict[RunSpec, Any] = {}
    if store is not None:
        done = {RunSpec(c, r): value for (c, r), value in store.load().items()}
    count = replications
    limit = max(cap or count, count)
    while True:
        specs = plan(loaded, count)
        done = run_specs(
            loaded, specs, seed, backend, store=store, done=done, progress=progress,
            reducer=reducer,
        )  # fmt: skip
        ordered = [done[spec] for spec in specs]
        if next_count is None or count >= limit:
            return ordered
        wanted = min(next_count(ordered, count), limit)
        if wanted <= count:
            return ordered
        count = wanted


def run_experiment(
    loaded: LoadedScenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[RunResult]:
    """All runs' results in plan order. ``workers=1`` runs in this process."""
    specs = plan(loaded, replications)
    seed = loaded.scenario.seed if seed is None else seed
    with Executor(workers, jobs_hint=len(specs)) as backend:
        results = run_specs(loaded, specs, seed, backend, progress=progress)
    return [results[spec] for spec in specs]
