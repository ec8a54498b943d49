"""Run every configuration x replication of a scenario, in worker processes.

Each run's randomness depends only on (seed, replication, source name), never on which
process ran it or in what order, so serial and parallel runs give identical results.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from sim.config.scenario import LoadedScenario
from sim.engine import RunResult, simulate

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RunSpec:
    configuration: str
    replication: int

    @property
    def label(self) -> str:
        return f"{self.configuration} #{self.replication}"


def plan(loaded: LoadedScenario, replications: int | None = None) -> list[RunSpec]:
    """Every run of the experiment, configuration-major."""
    count = replications or loaded.scenario.replications
    return [
        RunSpec(config, rep) for config in loaded.scenario.configurations for rep in range(count)
    ]


def _run(loaded: LoadedScenario, spec: RunSpec, seed: int) -> RunResult:
    return simulate(loaded, spec.configuration, spec.replication, seed)


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
    workers = min(workers or os.cpu_count() or 1, len(specs))
    results: dict[RunSpec, RunResult] = {}
    if workers <= 1:
        for done, spec in enumerate(specs, 1):
            results[spec] = _run(loaded, spec, seed)
            if progress:
                progress(done, len(specs), spec.label)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_run, loaded, spec, seed): spec for spec in specs}
            for done, future in enumerate(as_completed(futures), 1):
                spec = futures[future]
                results[spec] = future.result()
                if progress:
                    progress(done, len(specs), spec.label)
    return [results[spec] for spec in specs]
