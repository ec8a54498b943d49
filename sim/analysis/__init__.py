"""Records to DataFrames and statistics; the data of every plot. Draws nothing."""

from sim.analysis.stats import by_configuration, mean_ci, paired_differences
from sim.analysis.summary import orders_frame, summarize, summary_row
from sim.analysis.timeline import timeline_frame

__all__ = [
    "by_configuration",
    "mean_ci",
    "orders_frame",
    "paired_differences",
    "summarize",
    "summary_row",
    "timeline_frame",
]
