"""Experiments: which runs to make, where to make them, and keeping them as they finish."""

from sim.experiment.backends import Executor
from sim.experiment.runner import RunSpec, plan, replicate, run_experiment, run_specs
from sim.experiment.store import RunStore

__all__ = ["Executor", "RunSpec", "RunStore", "plan", "replicate", "run_experiment", "run_specs"]
