"""Experiments: which runs to make, where to make them, and keeping them as they finish.

The names below are imported on first use (PEP 562): ``sim.experiment.sizing``, which
``validate`` needs, must not load the store's pyarrow or the runner's executors.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.experiment.backends import Executor, Finished, Job
    from sim.experiment.runner import RunSpec, plan, replicate, run_experiment, run_specs
    from sim.experiment.store import RunStore

_WHERE = {
    "Executor": "backends",
    "Finished": "backends",
    "Job": "backends",
    "RunSpec": "runner",
    "plan": "runner",
    "replicate": "runner",
    "run_experiment": "runner",
    "run_specs": "runner",
    "RunStore": "store",
}
__all__ = [
    "Executor",
    "Finished",
    "Job",
    "RunSpec",
    "RunStore",
    "plan",
    "replicate",
    "run_experiment",
    "run_specs",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'sim.experiment' has no attribute {name!r}")
    return getattr(import_module(f"sim.experiment.{_WHERE[name]}"), name)
