"""What common random numbers buy: the interval of a difference between two configurations
when both see the same customers and faults, against independent seeds at the same cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analysis.stats import mean_ci
from sim.analysis.summary import summary_row
from sim.config.scenario import LoadedScenario
from sim.experiment.backends import Backend, Job, Serial


@dataclass(frozen=True)
class CrnComparison:
    metric: str
    replications: int
    difference: float  # mean of a − b with common random numbers
    crn_width: float  # width of its 95 % interval
    independent_width: float  # the same, b run on other seeds

    @property
    def ratio(self) -> float:
        return self.independent_width / self.crn_width if self.crn_width else float("inf")


def compare(
    loaded: LoadedScenario,
    a: str,
    b: str,
    *,
    replications: int,
    seed: int,
    independent_seed: int,
    metric: str = "revenue_lost",
    backend: Backend | None = None,
) -> CrnComparison:
    """3 x ``replications`` runs: ``a`` and ``b`` on ``seed``, ``b`` again on
    ``independent_seed``; the widths of the two intervals of a − b."""
    jobs: list[Job] = [(loaded, a, r, seed) for r in range(replications)]
    jobs += [(loaded, b, r, seed) for r in range(replications)]
    jobs += [(loaded, b, r, independent_seed) for r in range(replications)]
    values: dict[tuple[str, int, int], float] = {}
    for result in (backend or Serial()).run(jobs):
        key = (result.configuration, result.replication, result.seed)
        values[key] = float(summary_row(result)[metric])

    def series(config: str, at: int) -> np.ndarray:
        return np.asarray([values[(config, r, at)] for r in range(replications)])

    first = series(a, seed)
    mean, low, high = mean_ci(first - series(b, seed))
    _, ind_low, ind_high = mean_ci(first - series(b, independent_seed))
    return CrnComparison(metric, replications, mean, high - low, ind_high - ind_low)
