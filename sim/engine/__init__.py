"""SimPy processes that carry orders through the pipeline. Emits flat records only:
never imports pandas, matplotlib or yaml."""

from sim.engine.records import OUTCOMES, RunResult
from sim.engine.run import customers, simulate

__all__ = ["OUTCOMES", "RunResult", "customers", "simulate"]
