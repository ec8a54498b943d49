"""SimPy processes that carry orders through the pipeline. Emits flat records only:
never imports pandas, matplotlib or yaml.

The names below are imported on first use (PEP 562): a light module of the package
(``sim.engine.limits``) can be read without loading SimPy and the engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.engine.records import OUTCOMES, RunResult
    from sim.engine.simulation import customers, simulate

_WHERE = {
    "OUTCOMES": "records",
    "RunResult": "records",
    "customers": "simulation",
    "simulate": "simulation",
}
__all__ = ["OUTCOMES", "RunResult", "customers", "simulate"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'sim.engine' has no attribute {name!r}")
    return getattr(import_module(f"sim.engine.{_WHERE[name]}"), name)
