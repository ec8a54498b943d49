"""breakerlab: a discrete-event failure simulator for e-commerce order pipelines.

The Python API, in one import (each name is loaded on first use, so ``import sim`` and the
CLI stay fast)::

    import sim

    loaded = sim.load_scenario("scenarios/flash_sale_gateway_outage.yaml")  # or its name
    run = sim.run(loaded, replications=3)     # or a file, or a shipped scenario's name
    data = sim.load_run(run.directory)        # every table of a run directory (= run.data)
    run.figures()["latency"]                  # the report's figures, shown in Jupyter
    swept = sim.sweep(loaded, ["payment.breaker.failure_rate_threshold=20:80:4"])
    tuned = sim.tune(loaded, ["payment.breaker.failure_rate_threshold=10:90"], trials=20)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sim.version import __version__

if TYPE_CHECKING:
    from sim.analysis.load import RunData as RunData
    from sim.analysis.load import load_run as load_run
    from sim.app.pictures import Picture as Picture
    from sim.app.pictures import incident_trace as incident_trace
    from sim.app.run import RunOutput as RunOutput
    from sim.app.run import rebuild_report as rebuild_report
    from sim.app.run import run_scenario as run
    from sim.app.sweep import SweepOutput as SweepOutput
    from sim.app.sweep import run_sweep as sweep
    from sim.app.tune import TuneOutput as TuneOutput
    from sim.app.tune import run_tune as tune
    from sim.config import LoadedScenario as LoadedScenario
    from sim.engine import RunResult as RunResult
    from sim.errors import ConfigError as ConfigError
    from sim.errors import InvariantError as InvariantError
    from sim.examples import load_scenario as load_scenario
    from sim.examples import shipped_scenarios as shipped_scenarios

# Public name -> (module, attribute).
_EXPORTS = {
    "load_scenario": ("sim.examples", "load_scenario"),  # a file or a shipped name
    "run": ("sim.app.run", "run_scenario"),
    "load_run": ("sim.analysis.load", "load_run"),
    "rebuild_report": ("sim.app.run", "rebuild_report"),
    "sweep": ("sim.app.sweep", "run_sweep"),
    "tune": ("sim.app.tune", "run_tune"),
    "shipped_scenarios": ("sim.examples", "shipped_scenarios"),
    "incident_trace": ("sim.app.pictures", "incident_trace"),
    "LoadedScenario": ("sim.config", "LoadedScenario"),
    "RunOutput": ("sim.app.run", "RunOutput"),
    "RunData": ("sim.analysis.load", "RunData"),
    "RunResult": ("sim.engine", "RunResult"),
    "SweepOutput": ("sim.app.sweep", "SweepOutput"),
    "TuneOutput": ("sim.app.tune", "TuneOutput"),
    "Picture": ("sim.app.pictures", "Picture"),
    "ConfigError": ("sim.errors", "ConfigError"),
    "InvariantError": ("sim.errors", "InvariantError"),
}

__all__ = [
    "ConfigError",
    "InvariantError",
    "LoadedScenario",
    "Picture",
    "RunData",
    "RunOutput",
    "RunResult",
    "SweepOutput",
    "TuneOutput",
    "__version__",
    "incident_trace",
    "load_run",
    "load_scenario",
    "rebuild_report",
    "run",
    "shipped_scenarios",
    "sweep",
    "tune",
]


def __getattr__(name: str) -> Any:
    """Load a public name on first use (PEP 562); ``sim.format`` is the module of the
    number formatter every report uses (``sim.format.measured(mean, low, high, "EUR")``)."""
    if name == "format":
        return importlib.import_module("sim.format")
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'sim' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, "format"})
