"""A loaded scenario as manifest data and back, incident traces included: the scenario's
own dump leaves out the trace rows it read from CSV (they are not scenario fields), so a
resumed experiment would otherwise replay no incident.

A manifest is read from a directory that may come from someone else, so reading it runs
no code; only a breaker ``class:`` it names would, when simulated, and resuming such a
directory needs the caller's explicit trust.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from sim.config.scenario import LoadedScenario, TraceFault
from sim.config.trace import Trace
from sim.errors import ConfigError
from sim.experiment.stored import problem


def scenario_record(loaded: LoadedScenario) -> dict[str, Any]:
    """``loaded`` as JSON-ready data that validates back to it, with the rows of every
    replayed trace."""
    traces = {
        str(i): trace.model_dump(mode="json")
        for i, fault in enumerate(loaded.scenario.faults)
        if (trace := getattr(fault, "trace", None)) is not None
    }
    # By alias: an outside breaker's "class" is how validation recognises it again.
    return {**loaded.model_dump(mode="json", by_alias=True), "traces": traces}


def scenario_from_record(
    data: dict[str, Any], where: str, *, trust_code: bool = False
) -> LoadedScenario:
    """The scenario ``scenario_record`` wrote, traces attached again; a ConfigError
    naming ``where`` if the record does not describe one, or if it names breaker classes
    (code to import and run) and ``trust_code`` is not given."""
    classes = sorted(set(class_paths(data)))
    if classes and not trust_code:
        raise ConfigError(
            f"names breaker classes ({', '.join(classes)}) that resuming would import and "
            "run; resume only a directory you trust, with --trust-code",
            file=where,
        )
    if not isinstance(data, dict):
        raise ConfigError("not a scenario record: expected a mapping", file=where)
    record = dict(data)
    traces = record.pop("traces", {})
    try:
        loaded = LoadedScenario.model_validate(record)
        faults = list(loaded.scenario.faults)
        for index, trace in traces.items():
            if not isinstance(faults[int(index)], TraceFault):
                raise ValueError(f"traces: fault {index} is not a trace fault")
            faults[int(index)] = faults[int(index)].model_copy(
                update={"trace": Trace.model_validate(trace)}
            )
        for index, fault in enumerate(faults):
            if isinstance(fault, TraceFault) and fault.trace is None:
                raise ValueError(f"traces: no rows for trace fault {index}")
    except ValidationError as exc:
        # One line: the first problem, not pydantic's multi-line dump.
        raise ConfigError(f"not a scenario record: {problem(exc)}", file=where) from None
    except (ValueError, IndexError, TypeError, AttributeError) as exc:
        raise ConfigError(f"not a scenario record: {exc}", file=where) from None
    scenario = loaded.scenario.model_copy(update={"faults": faults})
    return loaded.model_copy(update={"scenario": scenario})


def class_paths(data: Any) -> list[str]:
    """Every breaker ``class`` (``package.module:Name``) named anywhere in ``data``."""
    if isinstance(data, list):
        return [path for item in data for path in class_paths(item)]
    if not isinstance(data, dict):
        return []
    found = [v for k, v in data.items() if k in ("class", "class_path") and isinstance(v, str)]
    return found + [path for value in data.values() for path in class_paths(value)]
