"""A finished run made ready for the store, in the worker that ran it: its summary row and
timeline computed from the exact run, its orders in the store's compact form
(sim.experiment.runfiles). Only that travels back to the experiment, which writes it and
keeps the summary row: memory is bounded by one run, however many there are."""

from __future__ import annotations

import pyarrow as pa

from sim.analysis.summary import summary_row
from sim.analysis.timeline import run_timeline
from sim.engine.records import RunResult
from sim.experiment.runfiles import StoredRun, stored_run


def finished_run(result: RunResult) -> StoredRun:
    """``result`` as the store keeps it (a reducer for ``sim.experiment.replicate``)."""
    frame = run_timeline(result)
    frame["configuration"] = frame["configuration"].astype("category")
    timeline = pa.Table.from_pandas(frame, preserve_index=False)
    return stored_run(result, summary_row(result), timeline)
