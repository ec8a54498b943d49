"""The skeleton run, sweep and tune share, in the order they go through it:

1. check the inputs (each workflow's own ``*_settings``), then whether the experiment fits
   this machine and its breaker classes load (``check_fits``), before anything is written;
2. open the executor (``executing``): an unreachable Dask scheduler is bad input and must
   leave nothing, so it comes before the directory; say where Dask's dashboard is;
3. make the run directory and its store, or reopen the one being resumed (``start_store``;
   tune keeps no store: ``start_directory``), and tell ``on_start`` where it is;
4. run (``sim.experiment.replicate``, or tune's stages), each run stored as it finishes;
5. place every output file atomically (``sim.app.rundir.placing``), journal.json last: its
   presence marks a complete directory.

Run and sweep go through steps 1 (``check_fits``) to 4 in one call, ``replicate_stored``;
tune takes the steps one by one, around its three stages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from sim.app.rundir import new_directory
from sim.app.runsize import check_breaker_classes, check_run_size
from sim.config import LoadedScenario
from sim.experiment import Executor, RunStore, replicate
from sim.experiment.backends import Backend
from sim.experiment.manifest import scenario_record

if TYPE_CHECKING:
    from sim.engine import RunResult
    from sim.experiment.runner import NextCount, Progress

Notify = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Execution:
    """Where a workflow's simulation runs are made, and who hears about it: ``workers``
    processes, or a Dask ``scheduler`` (an address or a connected ``distributed.Client``),
    or a local Dask cluster of ``dask_local`` workers; ``on_start`` gets the run directory
    once made, ``notify`` one-line notices (the Dask dashboard's address)."""

    workers: int | None = None
    scheduler: Any = None
    dask_local: int | None = None
    on_start: Callable[[Path], None] | None = None
    notify: Notify | None = None


def check_fits(
    scenarios: Sequence[LoadedScenario],
    runs: int,
    *,
    keep_orders: bool = True,
    allow_large: bool = False,
) -> None:
    """Refuse, before anything is written, ``runs`` runs of each scenario that this
    machine's memory cannot hold (unless ``allow_large``), or a breaker class that does not
    load (``sim.app.runsize``)."""
    for loaded in scenarios:
        check_run_size(loaded, runs, keep_orders=keep_orders, allow_large=allow_large)
        check_breaker_classes(loaded)


@contextmanager
def executing(execution: Execution, jobs_hint: int | None = None) -> Iterator[Backend]:
    """The executor the runs are made in, its Dask dashboard announced when there is one;
    ``jobs_hint`` (the runs planned, when known) sizes a process pool."""
    with Executor(
        execution.workers,
        scheduler=execution.scheduler,
        dask_local=execution.dask_local,
        jobs_hint=jobs_hint,
    ) as backend:
        if backend.dashboard and execution.notify:
            execution.notify(f"Dask dashboard: {backend.dashboard}")
        yield backend


def start_store(
    execution: Execution,
    resumed: RunStore | None,
    root: Path,
    seed: int,
    manifest: Callable[[], dict[str, Any]],
) -> RunStore:
    """The store ``resumed``, or that of a fresh run directory under ``root`` with
    ``manifest()`` written in it (what ``--resume`` reads back); ``on_start`` is told its
    directory."""
    store = resumed
    if store is None:
        store = RunStore(new_directory(root, seed))
        store.create(manifest())
    if execution.on_start:
        execution.on_start(store.directory)
    return store


def start_directory(execution: Execution, root: Path, seed: int) -> Path:
    """A fresh run directory under ``root`` for a workflow that keeps no store (tune keeps
    its trials in Optuna's storage); ``on_start`` is told where it is."""
    directory = new_directory(root, seed)
    if execution.on_start:
        execution.on_start(directory)
    return directory


class StoredSettings(Protocol):
    """What a stored workflow's settings give the skeleton (RunSettings, SweepSettings)."""

    @property
    def seed(self) -> int: ...

    @property
    def replications(self) -> int: ...

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Replicated(Generic[T]):
    """What ``replicate_stored`` made: the run directory, every run's result as
    ``reducer`` kept it (in plan order) and the executor's name, for the journal."""

    directory: Path
    results: list[T]
    backend: str


def replicate_stored(
    execution: Execution,
    kind: Literal["run", "sweep"],
    loaded: LoadedScenario,
    settings: StoredSettings,
    reducer: Callable[[RunResult], T],
    *,
    root: Path,
    resumed: RunStore | None,
    keep_orders: bool,
    allow_large: bool,
    progress: Progress | None = None,
    next_count: NextCount | None = None,
    cap: int | None = None,
) -> Replicated[T]:
    """Steps 1 to 4 for run and sweep: refuse what does not fit, open the executor, make
    the run directory under ``root`` (or reopen ``resumed``), then every configuration's
    replications (more while ``next_count`` asks, up to ``cap``), each stored as it
    finishes. experiment.json records ``kind``, the scenario and ``settings``."""
    configurations = len(loaded.scenario.configurations)
    count = settings.replications
    check_fits(
        [loaded], max(count, cap or count) * configurations,
        keep_orders=keep_orders, allow_large=allow_large,
    )  # fmt: skip
    jobs = count * configurations if next_count is None else None  # else: not known yet
    with executing(execution, jobs) as backend:
        store = start_store(
            execution, resumed, root, settings.seed,
            lambda: {"kind": kind, "loaded": scenario_record(loaded),
                     "settings": settings.as_dict()},
        )  # fmt: skip
        results = replicate(
            loaded, settings.seed, backend, replications=count, next_count=next_count,
            cap=cap, store=store, progress=progress, reducer=reducer,
        )  # fmt: skip
        return Replicated(store.directory, results, backend.name)
