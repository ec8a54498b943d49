"""Sequential replication: add replications until the chosen metric's 95 % interval is
narrow enough in every configuration (or a cap is reached)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sim.analysis.stats import replications_needed
from sim.analysis.summary import summary_frame, summary_row
from sim.experiment.runfiles import StoredRun

DEFAULT_METRIC = "revenue_lost"
DEFAULT_CAP = 50


@dataclass(frozen=True)
class Precision:
    """Stop when the half-width is below ``target``: a share of the mean when ``relative``
    (``5%``), else in the metric's own unit (``0.5``)."""

    metric: str
    target: float
    relative: bool
    cap: int = DEFAULT_CAP

    @classmethod
    def parse(cls, text: str, metric: str = DEFAULT_METRIC, cap: int = DEFAULT_CAP) -> Precision:
        """``5%`` (relative) or ``0.5`` (absolute); ValueError on anything else."""
        raw = text.strip()
        relative = raw.endswith("%")
        try:
            number = float(raw.removesuffix("%"))
        except ValueError:
            raise ValueError(
                f"expected a relative half-width like '5%' or an absolute one like 0.5, "
                f"got {text!r}"
            ) from None
        if not math.isfinite(number) or number <= 0:
            raise ValueError(f"the precision target must be positive, got {text!r}")
        return cls(metric, number / 100 if relative else number, relative, cap)

    def describe(self) -> str:
        goal = f"{self.target:.1%} of the mean" if self.relative else f"{self.target:g}"
        return f"half-width of {self.metric} below {goal} (at most {self.cap} replications)"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def next_count(self) -> Callable[[list[Any], int], int]:
        """The stopping rule for ``sim.experiment.replicate``: from RunResults, or from
        stored runs (their summary rows)."""

        def decide(results: list[Any], count: int) -> int:
            summary = summary_frame(
                r.row if isinstance(r, StoredRun) else summary_row(r) for r in results
            )
            return replications_needed(
                summary, self.metric, self.target, relative=self.relative, cap=self.cap
            )

        return decide
