"""A workflow's inputs, every one checked before anything is written: the scenario (a
file, a shipped name or one already loaded) and the settings of ``breakerlab run``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.app.runsize import check_run_size
from sim.config import LoadedScenario, load_any, load_scenario
from sim.config.yamlio import load_yaml
from sim.errors import ConfigError, did_you_mean
from sim.units import parse_duration

if TYPE_CHECKING:
    from sim.analysis.objectives import DecisionSettings
    from sim.analysis.precision import Precision


def scenario_of(scenario: str | Path | LoadedScenario) -> LoadedScenario:
    """A scenario loaded and checked: as given, from a file, or shipped by name
    (``flash_sale_gateway_outage``)."""
    if isinstance(scenario, LoadedScenario):
        return scenario
    return load_scenario(scenario_path(scenario))


def scenario_path(name_or_path: str | Path) -> Path:
    """A file as given when it exists or is written as a path (its absence is then the
    loader's to report), else the shipped scenario of that name."""
    path = Path(name_or_path)
    if path.exists() or isinstance(name_or_path, Path) or len(path.parts) > 1:
        return path
    from sim.examples import find_scenario

    return find_scenario(str(name_or_path))


def describe_file(name_or_path: str | Path, *, allow_large: bool = False) -> tuple[Path, str]:
    """Load and check a scenario or model file (or a shipped scenario by name): its path
    and one line on what it holds. Bad input raises, as loading does; so does a scenario
    too large for this machine, unless ``allow_large``."""
    path = scenario_path(name_or_path)
    loaded = load_any(path)
    if isinstance(loaded, LoadedScenario):
        runs = loaded.scenario.replications * len(loaded.scenario.configurations)
        check_run_size(loaded, runs, allow_large=allow_large)
        return path, (
            f"scenario {loaded.scenario.name!r}: model {loaded.shop.name!r}, "
            f"{len(loaded.scenario.faults)} fault(s), "
            f"{len(loaded.scenario.configurations)} configuration(s)"
        )
    return path, f"model {loaded.name!r}: {len(loaded.dependencies)} dependencies"


@dataclass(frozen=True)
class RunSettings:
    """A run's settings, every one checked (``run_settings``). experiment.json keeps them
    (``as_dict``) so that ``--resume`` finishes the same experiment (``from_dict``)."""

    seed: int
    replications: int
    baseline: str
    precision: Precision | None  # replications until the interval is this narrow
    warmup: float
    decision: DecisionSettings
    started: str  # when the run began (ISO 8601)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "replications": self.replications,
            "baseline": self.baseline,
            "precision": self.precision.as_dict() if self.precision else None,
            "warmup": self.warmup,
            "decision": self.decision.as_dict(),
            "started": self.started,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        """From a manifest ``sim.experiment.stored.check_manifest`` has checked."""
        from sim.analysis.objectives import DecisionSettings
        from sim.analysis.precision import Precision

        precision = data["precision"]
        return cls(
            seed=int(data["seed"]),
            replications=int(data["replications"]),
            baseline=str(data["baseline"]),
            precision=Precision(**precision) if precision else None,
            warmup=float(data["warmup"]),
            decision=DecisionSettings.from_dict(data.get("decision")),
            started=str(data["started"]),
        )


def run_settings(
    loaded: LoadedScenario,
    replications: int | None,
    seed: int | None,
    baseline: str | None,
    precision: str | None,
    precision_metric: str | None,
    max_replications: int | None,
    warmup: str | None,
    objective: str | None = None,
    indifference: str | None = None,
) -> RunSettings:
    """The experiment's settings, every one checked: a ConfigError names what is wrong."""
    # Imported here: validate and init use this module's file helpers, and these load
    # the statistics (pandas, scipy.stats) a run needs and they do not.
    from sim.app.deciding import decision_settings
    from sim.app.rundir import now

    scenario = loaded.scenario
    base = baseline or scenario.baseline_configuration
    if base not in scenario.configurations:
        names = list(scenario.configurations)
        raise ConfigError(
            f"unknown configuration {base!r}{did_you_mean(base, names)} "
            f"(known: {', '.join(names)})",
            path="--baseline",
        )
    check_hypothesis_metrics(loaded)
    return RunSettings(
        seed=scenario.seed if seed is None else seed,
        replications=replications or scenario.replications,
        baseline=base,
        precision=_precision(loaded, precision, precision_metric, max_replications),
        warmup=_warmup(loaded, warmup),
        decision=decision_settings([loaded], objective, indifference),
        started=now(),
    )


def _precision(
    loaded: LoadedScenario,
    precision: str | None,
    precision_metric: str | None,
    max_replications: int | None,
) -> Precision | None:
    """``--precision`` on ``--precision-metric`` (default revenue_lost), or None."""
    from sim.analysis.metrics import unknown_metric
    from sim.analysis.precision import Precision

    if precision is None:
        return None
    metric = precision_metric or "revenue_lost"
    problem = unknown_metric(metric, loaded)
    if problem:
        raise ConfigError(problem, path="--precision-metric")
    try:
        return Precision.parse(precision, metric, max_replications or 50)
    except ValueError as exc:
        raise ConfigError(str(exc), path="--precision") from None


def _warmup(loaded: LoadedScenario, warmup: str | None) -> float:
    """``--warmup`` in seconds, shorter than the horizon; the scenario's own without it."""
    if warmup is None:
        return loaded.scenario.warmup
    try:
        warm = parse_duration(warmup)
    except ValueError as exc:
        raise ConfigError(str(exc), path="--warmup") from None
    if not 0 <= warm < loaded.scenario.horizon:
        raise ConfigError("warm-up must be shorter than the horizon", path="--warmup")
    return warm


def check_hypothesis_metrics(loaded: LoadedScenario) -> None:
    """Every hypothesis names a metric of the summary, else a ConfigError with its line."""
    from sim.analysis.metrics import unknown_metric

    problems = [
        (i, message)
        for i, h in enumerate(loaded.scenario.hypotheses)
        if (message := unknown_metric(h.metric, loaded))
    ]
    if not problems:
        return
    i, message = problems[0]
    if loaded.source and Path(loaded.source).is_file():
        _, lines = load_yaml(Path(loaded.source))
        raise lines.error(message, ("hypotheses", i))
    raise ConfigError(message, path=f"hypotheses[{i}]")


def with_warmup(loaded: LoadedScenario, warmup: float) -> LoadedScenario:
    """The scenario with another warm-up (``--warmup``)."""
    if warmup == loaded.scenario.warmup:
        return loaded
    scenario = loaded.scenario.model_copy(update={"warmup": warmup})
    return loaded.model_copy(update={"scenario": scenario})
