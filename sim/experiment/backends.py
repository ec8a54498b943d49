"""Where runs execute: in this process, a local process pool, or a Dask cluster.

A backend takes jobs (scenario, configuration, replication, seed, and an optional reducer
applied in the worker) and yields their results as they finish. Each run's randomness
depends only on (seed, replication, source name), so the backend and the order of
completion never change a result.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import importlib.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NamedTuple, Protocol

from sim.config.scenario import LoadedScenario
from sim.engine import RunResult, simulate
from sim.errors import ConfigError

CONNECT_TIMEOUT = "20s"  # how long to wait for a Dask scheduler before giving up
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Turns a run into what is kept of it (e.g. its summary row), in the worker, so the run's
# per-order arrays never travel back. A picklable top-level function.
Reducer = Callable[[RunResult], Any]


class Job(NamedTuple):
    loaded: LoadedScenario
    configuration: str
    replication: int
    seed: int
    reducer: Reducer | None = None


@dataclass(frozen=True)
class Finished:
    """One job's outcome: the RunResult, or what the job's reducer made of it."""

    configuration: str
    replication: int
    seed: int
    value: Any


def run_job(job: Job) -> Finished:
    """One run; a module-level function so process pools and Dask can ship it."""
    result = simulate(job.loaded, job.configuration, job.replication, job.seed)
    value = job.reducer(result) if job.reducer is not None else result
    return Finished(job.configuration, job.replication, job.seed, value)


def die_with_parent(parent: int) -> None:
    """Run in each pool worker as it starts: the worker ends when ``parent`` does, so a
    run killed with SIGKILL (which no cleanup code sees) leaves no orphans holding CPUs.

    On Linux the kernel sends the worker SIGKILL when its parent dies (prctl's
    PR_SET_PDEATHSIG); elsewhere a daemon thread checks the parent every second."""
    if _kernel_kills_orphans():
        if os.getppid() != parent:  # the parent died before the request was made
            os._exit(1)
        return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _kernel_kills_orphans() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


class Backend(Protocol):
    name: str
    workers: int
    dashboard: str | None  # a Dask dashboard's address

    def run(self, jobs: Sequence[Job]) -> Iterator[Finished]:
        """Results of ``jobs`` in the order they finish."""
        ...

    def close(self) -> None: ...


class Serial:
    name = "serial"
    workers = 1
    dashboard: str | None = None

    def run(self, jobs: Sequence[Job]) -> Iterator[Finished]:
        for job in jobs:
            yield run_job(job)

    def close(self) -> None:
        pass


class Processes:
    """A local process pool kept open across batches (tuning runs many small ones)."""

    name = "processes"
    dashboard: str | None = None

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def run(self, jobs: Sequence[Job]) -> Iterator[Finished]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, initializer=die_with_parent, initargs=(os.getpid(),)
            )
        pending: set[Future[Finished]] = {self._pool.submit(run_job, job) for job in jobs}
        try:
            for future in as_completed(pending):
                pending.discard(future)  # a finished run is held by its caller alone
                finished = future.result()
                del future
                yield finished
                del finished
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class Dask:
    """Runs on a Dask cluster: an existing scheduler's address, a ``distributed.Client``
    already connected (left open: it is the caller's), or a local cluster of ``local``
    worker processes started here. Workers need breakerlab installed."""

    name = "dask"

    def __init__(self, scheduler: Any = None, local: int | None = None) -> None:
        self._distributed: Any = importlib.import_module("distributed")
        self._cluster: Any = None
        self._client: Any = None
        self._owned = True
        if scheduler is not None and not isinstance(scheduler, str):
            if not isinstance(scheduler, self._distributed.Client):
                raise ConfigError(
                    f"expected a scheduler address or a distributed.Client, got "
                    f"{type(scheduler).__name__}",
                    path="scheduler",
                )
            self._client, self._owned = scheduler, False
        else:
            address = scheduler
            if address is None:
                self._cluster = self._distributed.LocalCluster(
                    n_workers=local or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                )
                address = self._cluster.scheduler_address
            try:
                self._client = self._distributed.Client(address, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                self.close()
                raise ConfigError(f"cannot reach the Dask scheduler: {exc}", file=address) from None
        self.workers = max(1, sum(self._client.nthreads().values()))
        self.dashboard: str | None = self._client.dashboard_link
        if self._cluster is not None and importlib.util.find_spec("bokeh") is None:
            self.dashboard = f"{self.dashboard} (served only with bokeh installed)"

    def run(self, jobs: Sequence[Job]) -> Iterator[Finished]:
        futures = self._client.map(run_job, list(jobs), pure=False)
        try:
            for future in self._distributed.as_completed(futures):
                yield future.result()
        finally:
            self._client.cancel(futures)

    def close(self) -> None:
        if self._client is not None and self._owned:
            self._client.close()
        self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


class Executor:
    """A backend as a context manager: ``with Executor(workers=4) as backend: ...``.

    ``scheduler`` (a ``tcp://host:port`` address or a connected ``distributed.Client``) or
    ``dask_local`` (a worker count) pick Dask; otherwise ``workers`` processes (default: all
    cores; 1 runs in this process).
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        scheduler: Any = None,
        dask_local: int | None = None,
        jobs_hint: int | None = None,
    ) -> None:
        self.backend: Backend
        if scheduler is not None or dask_local is not None:
            self.backend = Dask(scheduler, dask_local)
            return
        count = workers or os.cpu_count() or 1
        if jobs_hint is not None:
            count = min(count, max(1, jobs_hint))
        self.backend = Serial() if count <= 1 else Processes(count)

    def __enter__(self) -> Backend:
        return self.backend

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.backend.close()
