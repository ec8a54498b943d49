"""Experiments: which runs to make, where to make them, and keeping them as they finish."""

from sim.experiment.backends import Executor, Finished, Job
from sim.experiment.runner import RunSpec, plan, replicate, run_experiment, run_specs
from sim.experiment.store import RunStore

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
