"""An outage scenario: traffic, a fault timeline and the configurations to compare."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema

from sim.config.breakers import ALL, BreakerChoice
from sim.config.experiment import Hypothesis
from sim.config.fields import (
    AmountDistribution,
    Duration,
    Fraction,
    LatencyDistribution,
    NonNegativeDuration,
    PositiveDuration,
    PositiveRate,
    Strict,
)
from sim.config.model import ErrorCategory, FailureCategory, ShopModel
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


class LatencyFault(FaultBase):
    """Affected calls take ``multiplier`` times longer plus ``add``, each jittered."""

    kind: Literal["latency"]
    multiplier: float = Field(default=1.0, ge=0)
    add: NonNegativeDuration = 0.0
    jitter: Fraction = 0.0

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


BackoffFamily = Literal[
    "fixed",
    "linear",
    "exponential",
    "randomized",
    "full_jitter",
    "equal_jitter",
    "decorrelated_jitter",
    "polly_decorrelated_v2",
]
# Which families take a growth multiplier, and which are randomized by ``jitter``: the
# others carry their own randomness. sim.resilience.backoff enforces the same sets.
USES_MULTIPLIER = frozenset({"exponential", "randomized", "full_jitter", "equal_jitter"})
USES_JITTER = frozenset({"fixed", "linear", "exponential", "randomized"})


class RetrySpec(Strict):
    """Retries. ``max_attempts`` includes the first call (resilience4j);
    ``max_retry_attempts`` does not (Polly): give one of them."""

    max_attempts: int | None = Field(default=None, ge=1)
    max_retry_attempts: int | None = Field(default=None, ge=0)
    wait: NonNegativeDuration = 0.5
    backoff: BackoffFamily = "exponential"
    multiplier: float = Field(default=1.0, ge=1)
    max_wait: NonNegativeDuration | None = None
    jitter: Fraction = 0.0
    retry_on: list[FailureCategory] = Field(default_factory=lambda: list(ALL))
    deadline: PositiveDuration | None = Field(
        default=None, description="bound on all attempts together, from the first"
    )
    budget: Literal["aws", "token_bucket", "envoy"] | None = Field(
        default=None, description="retry budget shared by every call to the dependency"
    )

    @model_validator(mode="after")
    def _consistent(self) -> RetrySpec:
        if self.max_attempts is not None and self.max_retry_attempts is not None:
            raise ValueError("give max_attempts (counts the first call) or max_retry_attempts")
        if self.backoff not in USES_MULTIPLIER and self.multiplier != 1:
            raise ValueError(f"backoff {self.backoff!r} takes no multiplier")
        if self.backoff not in USES_JITTER and self.jitter:
            raise ValueError(f"backoff {self.backoff!r} is randomized already: drop jitter")
        if self.backoff == "randomized" and not self.jitter:
            raise ValueError("backoff 'randomized' needs a jitter (randomization factor) > 0")
        return self

    @property
    def attempts(self) -> int:
        """Attempts including the first call, whichever convention was written."""
        if self.max_retry_attempts is not None:
            return self.max_retry_attempts + 1
        return 3 if self.max_attempts is None else self.max_attempts


class SemaphoreBulkhead(Strict):
    """resilience4j Bulkhead: at most ``max_concurrent_calls``; others wait up to
    ``max_wait_duration`` (0: rejected at once)."""

    type: Literal["semaphore"] = "semaphore"
    max_concurrent_calls: int = Field(default=25, ge=1)
    max_wait_duration: NonNegativeDuration = 0.0


class ThreadPoolBulkhead(Strict):
    """resilience4j ThreadPoolBulkhead as a Java ThreadPoolExecutor: core threads first,
    then the queue, then extra threads up to the maximum, then rejection."""

    type: Literal["thread_pool"]
    core_thread_pool_size: int = Field(default=9, ge=1)
    max_thread_pool_size: int = Field(default=10, ge=1)
    queue_capacity: int = Field(default=100, ge=0)

    @model_validator(mode="after")
    def _sizes(self) -> ThreadPoolBulkhead:
        if self.max_thread_pool_size < self.core_thread_pool_size:
            raise ValueError("max_thread_pool_size must be >= core_thread_pool_size")
        return self


Bulkhead = Annotated[
    Annotated[SemaphoreBulkhead, Tag("semaphore")]
    | Annotated[ThreadPoolBulkhead, Tag("thread_pool")],
    Discriminator(lambda v: v.get("type", "semaphore") if isinstance(v, dict) else v.type),
]


class RateLimiterSpec(Strict):
    """resilience4j RateLimiter: ``limit_for_period`` calls per ``limit_refresh_period``;
    a caller waits up to ``timeout_duration`` for a permit, else it is rejected."""

    limit_for_period: int = Field(default=50, ge=1)
    limit_refresh_period: PositiveDuration = 500e-9
    timeout_duration: NonNegativeDuration = 5.0


class HedgingSpec(Strict):
    """Polly hedging: up to ``max_hedged_attempts`` extra attempts, each launched when the
    previous ones have not answered within ``delay`` (0: all at once; negative: only after
    a failure). The first success wins."""

    max_hedged_attempts: int = Field(default=1, ge=1, le=10)
    delay: Duration = 2.0


Layer = Literal["retry", "hedging", "circuit_breaker", "rate_limiter", "time_limiter", "bulkhead"]
DEFAULT_ORDER: tuple[Layer, ...] = (
    "retry",
    "hedging",
    "circuit_breaker",
    "rate_limiter",
    "time_limiter",
    "bulkhead",
)


class StagePolicy(Strict):
    """The resilience stack around one stage's dependency calls, outermost first in
    ``order`` (default resilience4j's: Retry(CircuitBreaker(RateLimiter(TimeLimiter(
    Bulkhead(call))))), with hedging, when set, just inside retry)."""

    timeout: PositiveDuration | None = Field(default=None, description="default: the model's")
    retry: RetrySpec | None = None
    breaker: BreakerChoice | None = None
    bulkhead: Bulkhead | None = None
    rate_limiter: RateLimiterSpec | None = None
    hedging: HedgingSpec | None = None
    order: list[Layer] | None = Field(
        default=None, description="outermost first; must name each layer once"
    )

    @model_validator(mode="after")
    def _order_complete(self) -> StagePolicy:
        if self.order is not None and sorted(self.order) != sorted(DEFAULT_ORDER):
            raise ValueError(f"order must name each of {', '.join(DEFAULT_ORDER)} exactly once")
        return self

    @property
    def layers(self) -> tuple[Layer, ...]:
        return tuple(self.order) if self.order is not None else DEFAULT_ORDER


class InventoryPolicy(StagePolicy):
    """Cached availability with a grace buffer: while the inventory service fails, checkout
    may sell up to ``grace_units`` per product from a cache entry younger than ``cache_ttl``
    (refreshed by every successful reservation). Units sold that no longer existed are
    oversold."""

    cache_ttl: NonNegativeDuration = Field(default=0.0, description="0: no cache")
    grace_units: int = Field(default=0, ge=0, description="per product, per outage")


def _sms_default() -> StagePolicy:
    return StagePolicy(retry=RetrySpec(max_attempts=4, wait=30.0, multiplier=2.0))


class NotificationPolicy(StagePolicy):
    """The confirmation chain's stack: the fields here apply to every channel, and
    ``in_app``, ``email``, ``sms`` replace them for one channel (SMS retries with
    exponential backoff unless told otherwise). ``fallback_chain: false`` stops after the
    e-mail: no SMS."""

    fallback_chain: bool = True
    in_app: StagePolicy | None = None
    email: StagePolicy | None = None
    sms: StagePolicy = Field(default_factory=_sms_default)

    def channel(self, role: str) -> StagePolicy:
        """The stack of one channel."""
        own: StagePolicy | None = getattr(self, role)
        if own is not None:
            return own
        return StagePolicy(**{k: getattr(self, k) for k in StagePolicy.model_fields})


class SlowStart(Strict):
    """Envoy-style slow start: a gateway whose breaker has just closed gets a share of its
    traffic that grows from ``min_weight`` to full over ``window``, as
    (time since recovery / window) ** (1 / aggression)."""

    window: PositiveDuration = 60.0
    aggression: float = Field(default=1.0, gt=0)
    min_weight: Fraction = 0.1


class PaymentPolicy(StagePolicy):
    """Payment orchestration: which gateway first, which next, and the stack around each
    gateway (every gateway gets its own breaker built from ``breaker``)."""

    routing: Literal["priority", "weighted", "health", "least_outstanding"] = Field(
        default="priority",
        description="priority: model order; weighted: by weights; health: by moving averages "
        "of success and latency; least_outstanding: fewest calls in flight",
    )
    gateways: list[str] | None = Field(
        default=None, description="gateways used, in priority order (default: the model's)"
    )
    weights: dict[str, float] | None = Field(default=None, description="routing: weighted")
    failover: bool = Field(
        default=False, description="on a failure or an open breaker, try the next gateway"
    )
    fallback: str | None = Field(
        default=None,
        description="shorthand: the primary, then this gateway on failure (failover on)",
    )
    slow_start: SlowStart | None = None
    health_smoothing: Fraction = Field(
        default=0.1, gt=0, description="weight of the newest call in health moving averages"
    )

    @model_validator(mode="after")
    def _routing_fits(self) -> PaymentPolicy:
        if self.routing == "weighted" and not self.weights:
            raise ValueError("routing 'weighted' needs weights, e.g. {primary: 70, secondary: 30}")
        if self.weights and any(w < 0 for w in self.weights.values()):
            raise ValueError("weights must be >= 0")
        if self.fallback is not None and self.gateways is not None:
            raise ValueError("give gateways (with failover) or the fallback shorthand, not both")
        return self

    def gateway_order(self, model_gateways: list[str]) -> list[str]:
        """The gateways this configuration uses, in priority order."""
        if self.fallback is not None:
            return [model_gateways[0], self.fallback]
        return list(self.gateways) if self.gateways is not None else list(model_gateways)

    @property
    def fails_over(self) -> bool:
        return self.failover or self.fallback is not None


class Processing(Strict):
    """Synchronous or asynchronous capture (the paper's Table 4). ``async``: checkout
    reserves stock and queues the order; ``consumers`` competing consumers charge and record
    it later. ``hybrid``: synchronous while the primary gateway's breaker is closed,
    asynchronous while it is open."""

    mode: Literal["sync", "async", "hybrid"] = "sync"
    workflow: Literal["simple", "saga"] = Field(
        default="simple",
        description="saga: reserve, authorise, record, capture, hand to fulfilment, each "
        "compensated (release, void, refund) if a later step fails after its retries",
    )
    consumers: int = Field(default=8, ge=1)
    queue_capacity: int = Field(default=100_000, ge=1, description="full: orders rejected")
    retry_delay: PositiveDuration = Field(
        default=5.0, description="a consumer's pause before retrying a charge that failed"
    )
    crash_recovery: bool = Field(
        default=True,
        description="on restart after a crash, replay the event log and resume or compensate "
        "interrupted orders; off: they stay stuck",
    )


class Configuration(Strict):
    """A resilience set-up; stages left out keep the model's timeout and no retry or breaker."""

    description: str = ""
    inventory: InventoryPolicy = InventoryPolicy()
    payment: PaymentPolicy = PaymentPolicy()
    order_record: StagePolicy = StagePolicy()
    fulfillment: StagePolicy = StagePolicy()
    notification: NotificationPolicy = NotificationPolicy()
    idempotency_keys: bool = Field(
        default=True, description="a resubmitted order is recognised and costs nothing"
    )
    processing: Processing = Field(default_factory=lambda: Processing())


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
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
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
    configurations: dict[str, Configuration] = Field(min_length=1)
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

    @model_validator(mode="after")
    def _times_fit(self) -> Scenario:
        if self.warmup >= self.horizon:
            raise ValueError("warmup must be shorter than the horizon")
        return self


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

    @property
    def name(self) -> str:
        return self.scenario.name


__all__ = ["Duration", "Fault", "LatencyDistribution", "LoadedScenario", "Scenario"]
