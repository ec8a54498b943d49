"""A configuration: the resilience stack of each stage, payment orchestration, inventory
grace, the confirmation chain, processing mode. What a scenario compares."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from sim.config.breakers import ALL, BreakerChoice
from sim.config.fields import (
    Duration,
    Fraction,
    LatencyDistribution,
    NonNegativeDuration,
    PositiveDuration,
    Strict,
    Text,
)
from sim.config.model import FailureCategory

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
    workflow: Literal["simple", "saga", "choreography"] = Field(
        default="simple",
        description="saga: reserve, authorise, record, capture, hand to fulfilment, each "
        "compensated (release, void, refund) if a later step fails after its retries, run "
        "by an orchestrator; choreography: the same steps, each service reacting to the "
        "previous one's event on a broker (no orchestrator to crash; each hop takes "
        "event_delay)",
    )
    event_delay: LatencyDistribution = Field(
        default_factory=lambda: LatencyDistribution(constant=0.05),
        description="choreography: delivery time of one event from a service to the next",
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


class BreakerState(Strict):
    """Where breaker state lives when the shop runs several checkout nodes. ``shared``: one
    state in a shared store; each node re-reads it when its copy is older than
    ``read_delay`` (0: always current). ``per_node``: every node has its own breakers for
    inventory, payment and the order record, and trips them on its own calls only."""

    scope: Literal["shared", "per_node"] = "shared"
    read_delay: NonNegativeDuration = Field(
        default=0.0, description="shared scope: how stale a node's copy of the state may get"
    )

    @model_validator(mode="after")
    def _delay_needs_shared(self) -> BreakerState:
        if self.scope == "per_node" and self.read_delay > 0:
            raise ValueError("read_delay applies to shared breaker state only")
        return self


class Configuration(Strict):
    """A resilience set-up; stages left out keep the model's timeout and no retry or breaker."""

    description: Text = ""
    inventory: InventoryPolicy = InventoryPolicy()
    payment: PaymentPolicy = PaymentPolicy()
    order_record: StagePolicy = StagePolicy()
    fulfillment: StagePolicy = StagePolicy()
    notification: NotificationPolicy = NotificationPolicy()
    idempotency_keys: bool = Field(
        default=True, description="a resubmitted order is recognised and costs nothing"
    )
    processing: Processing = Field(default_factory=lambda: Processing())
    breaker_state: BreakerState = Field(default_factory=lambda: BreakerState())
