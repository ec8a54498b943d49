"""Records to DataFrames and statistics; the data of every plot. Draws nothing.

The names below are imported on first use (PEP 562), so importing one light module of the
package (``sim.analysis.metrics`` for a metric's name, say) does not load pandas and
scipy.stats for commands that compute no statistics.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.analysis.stats import by_configuration, mean_ci, paired_differences
    from sim.analysis.summary import orders_frame, summarize, summary_row
    from sim.analysis.timeline import timeline_frame

_WHERE = {
    "by_configuration": "stats",
    "mean_ci": "stats",
    "paired_differences": "stats",
    "orders_frame": "summary",
    "summarize": "summary",
    "summary_row": "summary",
    "timeline_frame": "timeline",
}
__all__ = [
    "by_configuration",
    "mean_ci",
    "orders_frame",
    "paired_differences",
    "summarize",
    "summary_row",
    "timeline_frame",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'sim.analysis' has no attribute {name!r}")
    return getattr(import_module(f"sim.analysis.{_WHERE[name]}"), name)
