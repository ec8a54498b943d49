"""Experiments: which runs to make and where to make them."""

from sim.experiment.runner import RunSpec, plan, run_experiment

__all__ = ["RunSpec", "plan", "run_experiment"]
