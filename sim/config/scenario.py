"""An outage scenario: traffic, a fault timeline and the configurations to compare."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, WithJsonSchema, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from sim.config.configuration import (
    DEFAULT_ORDER,
    USES_JITTER,
    USES_MULTIPLIER,
    Bulkhead,
    Configuration,
    HedgingSpec,
    InventoryPolicy,
    Layer,
    NotificationPolicy,
    PaymentPolicy,
    Processing,
    RateLimiterSpec,
    RetrySpec,
    SemaphoreBulkhead,
    SlowStart,
    StagePolicy,
    ThreadPoolBulkhead,
)
from sim.config.experiment import Hypothesis
from sim.config.fields import (
    MAX_PATH_NAME,
    AmountDistribution,
    Duration,
    Fraction,
    LatencyDistribution,
    Name,
    NonNegativeDuration,
    PositiveDuration,
    PositiveRate,
    Strict,
    Text,
)
from sim.config.model import ErrorCategory, ShopModel
from sim.config.trace import Trace


class ProfilePoint(Strict):
    """From ``at`` the arrival rate moves linearly to ``rate`` over ``ramp``."""

    at: NonNegativeDuration
    rate: PositiveRate
    ramp: NonNegativeDuration = 0.0


class Traffic(Strict):
    rate: PositiveRate = Field(description="base arrival rate (Poisson)")
    profile: list[ProfilePoint] = Field(default_factory=list)
    basket: AmountDistribution
    patience: LatencyDistribution = Field(
        description="how long a customer waits for checkout before leaving"
    )
    resubmit: Fraction = Field(
        default=0.0,
        description="share of customers with no confirmation within their patience who "
        "submit the order again",
    )
    cancel_after: LatencyDistribution | None = Field(
        default=None,
        description="how long after an asynchronous order was accepted its customer cancels "
        "it if it is still not charged (none: never)",
    )

    @model_validator(mode="after")
    def _profile_in_order(self) -> Traffic:
        end = 0.0
        for i, point in enumerate(self.profile):
            if point.at < end:
                raise ValueError(
                    f"profile[{i}] starts at {point.at:g}s, before the previous change ends "
                    f"({end:g}s): list changes in time order without overlapping ramps"
                )
            end = point.at + point.ramp
        return self


class FaultBase(Strict):
    target: str = Field(description="a dependency of the model")
    start: NonNegativeDuration
    duration: PositiveDuration
    ramp: NonNegativeDuration = Field(
        default=0.0, description="time for the fault to reach full strength"
    )
    probability: Fraction = Field(default=1.0, description="share of calls affected")

    @property
    def end(self) -> float:
        return self.start + self.duration


class Outage(FaultBase):
    """Connections refused at once."""

    kind: Literal["outage"]


class ErrorRateFault(FaultBase):
    """Affected calls answer with an error of ``category``."""

    kind: Literal["error_rate"]
    category: ErrorCategory = "server_error"


ADD_BARE_LIMIT = 100  # seconds: a latency fault's bare 'add' from here on is refused


class LatencyFault(FaultBase):
    """Affected calls take ``multiplier`` times longer plus ``add``, each jittered."""

    kind: Literal["latency"]
    multiplier: float = Field(default=1.0, ge=0)
    add: NonNegativeDuration = 0.0
    jitter: Fraction = 0.0

    @field_validator("add", mode="before")
    @classmethod
    def _add_has_a_unit(cls, value: Any) -> Any:
        # 'add: 3000' is 50 minutes more per call: a latency in milliseconds without its unit.
        if isinstance(value, int) and not isinstance(value, bool) and value >= ADD_BARE_LIMIT:
            raise ValueError(
                f"a bare number is seconds, so add: {value} delays every affected call by "
                f"{value / 60:g} minutes: write '{value}ms' for milliseconds, or '{value}s' if "
                "you do mean that long"
            )
        return value

    @model_validator(mode="after")
    def _does_something(self) -> LatencyFault:
        if self.multiplier == 1.0 and self.add == 0.0:
            raise ValueError("a latency fault needs a multiplier other than 1 or an add delay")
        return self


class HangFault(FaultBase):
    """No answer at all: only the caller's timeout ends the call."""

    kind: Literal["hang"]


class CapacityFault(FaultBase):
    """The dependency serves at most ``capacity`` calls at once; others queue."""

    kind: Literal["capacity"]
    capacity: int = Field(ge=0)

    @model_validator(mode="after")
    def _whole_dependency(self) -> CapacityFault:
        if self.probability != 1.0 or self.ramp != 0.0:
            raise ValueError(
                "a capacity fault limits the whole dependency: probability and ramp do not apply"
            )
        return self


class FlappingFault(FaultBase):
    """Alternates ``down`` (an outage) and ``up``, starting down."""

    kind: Literal["flapping"]
    down: PositiveDuration
    up: PositiveDuration


class TraceFault(FaultBase):
    """Replays an incident trace (a CSV from monitoring) against the dependency from
    ``start``; ``duration`` defaults to the trace's length. See sim/config/trace.py."""

    kind: Literal["trace"]
    file: str = Field(description="CSV path, relative to the scenario file")
    duration: PositiveDuration = Field(default=1e-9, description="default: the trace's length")
    trace: SkipJsonSchema[Trace | None] = Field(default=None, exclude=True)  # set on load


class CrashFault(FaultBase):
    """``target: checkout`` (one node, ``node``) or ``target: orchestrator`` (the saga
    orchestrator and the capture consumers) stops at ``start`` and restarts after
    ``duration``. Work in flight stops at its next step; on restart a recovery coordinator
    replays the event log and resumes or compensates each interrupted order."""

    kind: Literal["crash"]
    node: int = Field(default=0, ge=0, description="checkout node, for target: checkout")


Fault = Annotated[
    Outage
    | CrashFault
    | ErrorRateFault
    | LatencyFault
    | HangFault
    | CapacityFault
    | FlappingFault
    | TraceFault,
    Field(discriminator="kind"),
]


# A hypothesis is written as text or as a mapping; the schema says so for editors.
HypothesisEntry = Annotated[
    Hypothesis,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "metric < value, e.g. checkout_p99_s < 2"},
                {
                    "type": "object",
                    "properties": {
                        "check": {"type": "string"},
                        "configurations": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["check"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class Scenario(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=MAX_PATH_NAME)
    description: Text = ""
    model: str = Field(description="path to the shop model, relative to this file")
    model_overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="merged into the model before it is checked, e.g. "
        "{dependencies: {primary: {capacity: 20}}}: what-ifs without copying the model",
    )
    horizon: PositiveDuration = Field(description="arrivals stop here; orders in flight finish")
    warmup: NonNegativeDuration = 0.0
    seed: int = Field(default=0, ge=0)
    replications: int = Field(default=1, ge=1)
    traffic: Traffic
    faults: list[Fault] = Field(default_factory=list)
    configurations: dict[Name, Configuration] = Field(min_length=1)
    baseline: str | None = Field(
        default=None, description="configuration the others are compared with (default: first)"
    )
    rules: list[Rule] = Field(default_factory=list, description="actions on error rates")
    config_changes: list[ConfigChange] = Field(
        default_factory=list, description="policy changes while the scenario runs"
    )
    recovery: RecoveryCheck | None = Field(
        default=None, description="check that goodput recovers after a trigger (metastability)"
    )
    hypotheses: list[HypothesisEntry] = Field(
        default_factory=list, description="steady-state hypotheses judged on the intervals"
    )

    @property
    def baseline_configuration(self) -> str:
        return self.baseline or next(iter(self.configurations))

    @field_validator("warmup")
    @classmethod
    def _warmup_fits(cls, warmup: float, info: ValidationInfo) -> float:
        # A field validator, not a model one, so the message points at the warmup line.
        horizon = info.data.get("horizon")
        if horizon is not None and warmup >= horizon:
            raise ValueError("warmup must be shorter than the horizon")
        return warmup


class RecoveryCheck(Strict):
    """A metastability check: after the trigger ends, does goodput (orders completed per
    second) come back to ``goodput`` of its pre-trigger level within ``within``?"""

    trigger_start: NonNegativeDuration
    trigger_end: NonNegativeDuration
    within: PositiveDuration = 600.0
    goodput: Fraction = Field(default=0.9, gt=0)
    bin: PositiveDuration = Field(default=30.0, description="goodput is averaged per bin")

    @model_validator(mode="after")
    def _ordered(self) -> RecoveryCheck:
        if self.trigger_end <= self.trigger_start:
            raise ValueError("trigger_end must come after trigger_start")
        return self


class ConfigChange(Strict):
    """At ``at``, set policy parameters by dotted path (``payment.breaker.failure_rate_
    threshold: 90``) in the named configurations (default: all); back at ``until``."""

    at: NonNegativeDuration
    until: NonNegativeDuration | None = None
    configurations: list[str] | None = None
    set: dict[str, Any] = Field(min_length=1)
    propagation: LatencyDistribution | None = Field(
        default=None,
        description="delay, per checkout node, before the change (and its undoing) reaches "
        "it; none: every node at once",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ConfigChange:
        if self.until is not None and self.until <= self.at:
            raise ValueError("until must come after at")
        return self


class Rule(Strict):
    """When ``dependency``'s error rate over the last ``window`` exceeds
    ``error_rate_above`` (with at least ``minimum_calls`` calls), act: ``force_open`` its
    breaker (or ``target``'s), ``route_to`` gateway ``target`` first, or ``switch_to_async``.
    The action holds for ``hold``, then lifts; traffic shows whether it is needed again."""

    dependency: str
    error_rate_above: Fraction = Field(gt=0)
    window: PositiveDuration = 30.0
    minimum_calls: int = Field(default=20, ge=1)
    action: Literal["force_open", "route_to", "switch_to_async"]
    target: str | None = None
    hold: PositiveDuration = 30.0
    configurations: list[str] | None = None

    @model_validator(mode="after")
    def _target_fits(self) -> Rule:
        if self.action == "route_to" and self.target is None:
            raise ValueError("route_to needs a target gateway")
        return self


class LoadedScenario(Strict):
    """A scenario with its model resolved and cross-references checked."""

    scenario: Scenario
    shop: ShopModel
    source: str = ""
    configurations_as_written: dict[str, Any] = Field(
        default_factory=dict,
        description="each configuration as the scenario file wrote it (units, explicit "
        "defaults), for the report; the validated ones are in scenario.configurations",
    )

    @property
    def name(self) -> str:
        return self.scenario.name


__all__ = [  # the configuration classes live in sim.config.configuration; importable here too
    "DEFAULT_ORDER",
    "USES_JITTER",
    "USES_MULTIPLIER",
    "Bulkhead",
    "Configuration",
    "Duration",
    "Fault",
    "HedgingSpec",
    "InventoryPolicy",
    "LatencyDistribution",
    "Layer",
    "LoadedScenario",
    "NotificationPolicy",
    "PaymentPolicy",
    "Processing",
    "RateLimiterSpec",
    "RetrySpec",
    "Scenario",
    "SemaphoreBulkhead",
    "SlowStart",
    "StagePolicy",
    "ThreadPoolBulkhead",
]
