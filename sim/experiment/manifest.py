"""A loaded scenario as manifest data and back, incident traces included: the scenario's
own dump leaves out the trace rows it read from CSV (they are not scenario fields), so a
resumed experiment would otherwise replay no incident."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from sim.config.scenario import LoadedScenario
from sim.config.trace import Trace
from sim.errors import ConfigError


def scenario_record(loaded: LoadedScenario) -> dict[str, Any]:
    """``loaded`` as JSON-ready data, with the rows of every replayed trace."""
    traces = {
        str(i): trace.model_dump(mode="json")
        for i, fault in enumerate(loaded.scenario.faults)
        if (trace := getattr(fault, "trace", None)) is not None
    }
    return {**loaded.model_dump(mode="json"), "traces": traces}


def scenario_from_record(data: dict[str, Any], where: str) -> LoadedScenario:
    """The scenario ``scenario_record`` wrote, traces attached again; a ConfigError
    naming ``where`` if the record does not describe one."""
    record = dict(data)
    traces = record.pop("traces", {})
    try:
        loaded = LoadedScenario.model_validate(record)
        faults = list(loaded.scenario.faults)
        for index, trace in traces.items():
            faults[int(index)] = faults[int(index)].model_copy(
                update={"trace": Trace.model_validate(trace)}
            )
    except (ValidationError, ValueError, IndexError, TypeError) as exc:
        raise ConfigError(f"not a scenario record: {exc}", file=where) from None
    scenario = loaded.scenario.model_copy(update={"faults": faults})
    return loaded.model_copy(update={"scenario": scenario})
