"""What common random numbers buy: the interval of a difference between two configurations
when both see the same customers and faults, against independent seeds at the same cost,
and how sure we are of that ratio (a bootstrap over replications)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.analysis.stats import mean_ci
from sim.analysis.summary import summary_row
from sim.config.scenario import LoadedScenario
from sim.experiment.backends import Backend, Job, Serial


@dataclass(frozen=True)
class CrnComparison:
    """Per replication r: ``a[r]`` and ``b[r]`` on the same seed (common random numbers),
    ``b_independent[r]`` the same configuration b on another seed."""

    metric: str
    a: np.ndarray
    b: np.ndarray
    b_independent: np.ndarray

    @property
    def replications(self) -> int:
        return int(self.a.size)

    @property
    def difference(self) -> float:
        """Mean of a − b with common random numbers."""
        return float(np.mean(self.a - self.b))

    @property
    def crn_width(self) -> float:
        """Width of the 95 % interval of the mean of a − b, same seeds."""
        _, low, high = mean_ci(self.a - self.b)
        return high - low

    @property
    def independent_width(self) -> float:
        """The same width with b on independent seeds."""
        _, low, high = mean_ci(self.a - self.b_independent)
        return high - low

    @property
    def ratio(self) -> float:
        """How many times narrower the interval is with common random numbers."""
        return self.independent_width / self.crn_width if self.crn_width else float("inf")

    def ratio_interval(
        self, level: float = 0.95, resamples: int = 4000, seed: int = 0
    ) -> tuple[float, float]:
        """A bootstrap interval (BCa, scipy) of ``ratio``: replications resampled with
        replacement, each keeping its three runs together (they share a's run). NaN with
        too few replications for a resample to vary (fewer than about ten)."""
        result = stats.bootstrap(
            (self.a - self.b, self.a - self.b_independent),
            _spread_ratio,
            paired=True,
            vectorized=True,
            confidence_level=level,
            n_resamples=resamples,
            rng=np.random.default_rng(seed),
        )
        interval = result.confidence_interval
        return float(interval.low), float(interval.high)


def _spread_ratio(crn: np.ndarray, independent: np.ndarray, axis: int = -1) -> np.ndarray:
    """Standard deviation of the independent differences over that of the paired ones: the
    ratio of the two intervals' widths at the same number of replications."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample of one replication
        spread = np.std(independent, ddof=1, axis=axis) / np.std(crn, ddof=1, axis=axis)
    ratio: np.ndarray = spread
    return ratio


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
    ``independent_seed``; the metric of each, per replication."""
    jobs = [Job(loaded, a, r, seed, summary_row) for r in range(replications)]
    jobs += [Job(loaded, b, r, seed, summary_row) for r in range(replications)]
    jobs += [Job(loaded, b, r, independent_seed, summary_row) for r in range(replications)]
    values: dict[tuple[str, int, int], float] = {}
    for done in (backend or Serial()).run(jobs):
        key = (done.configuration, done.replication, done.seed)
        values[key] = float(done.value[metric])

    def series(config: str, at: int) -> np.ndarray:
        return np.asarray([values[(config, r, at)] for r in range(replications)])

    return CrnComparison(metric, series(a, seed), series(b, seed), series(b, independent_seed))
