"""The shop: checkout capacity, the six pipeline stages and the dependencies they call."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from sim.config.fields import (
    Distribution,
    Fraction,
    LatencyDistribution,
    Name,
    NonNegativeDuration,
    PositiveDuration,
    Strict,
    Text,
)

ErrorCategory = Literal["timeout", "connection", "server_error"]
# What a resilience policy can see fail: a dependency's errors, plus "rejected" when a
# bulkhead or rate limiter refuses the call before it reaches the dependency.
FailureCategory = Literal["timeout", "connection", "server_error", "rejected"]
STAGES = ("cart", "inventory", "payment", "order_record", "fulfillment", "notification")
DEFAULT_CURRENCY = "EUR"


def _currency_code(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError(f"expected a three-letter ISO 4217 code such as EUR or USD, got {value!r}")
    return value


Currency = Annotated[
    str,
    AfterValidator(_currency_code),
    Field(json_schema_extra={"pattern": "^[A-Z]{3}$", "examples": ["EUR", "USD", "GBP"]}),
]


class Checkout(Strict):
    """Checkout nodes behind a round-robin load balancer, each with its own worker pool."""

    nodes: int = Field(default=1, ge=1)
    workers: int = Field(ge=1, description="concurrent checkouts per node")


class ErrorRates(Strict):
    """Baseline share of calls failing, by category. ``timeout``: no answer until the
    caller's timeout; ``connection``: refused at once; ``server_error``: answered with 5xx."""

    timeout: Fraction = 0.0
    connection: Fraction = 0.0
    server_error: Fraction = 0.0

    @model_validator(mode="after")
    def _at_most_one(self) -> ErrorRates:
        if self.timeout + self.connection + self.server_error > 1:
            raise ValueError("error rates add up to more than 100%")
        return self


class Fee(Strict):
    """What a gateway charges per captured payment: a percentage plus a fixed amount."""

    percent: Fraction = 0.0
    fixed: float = Field(default=0.0, ge=0)


class Dependency(Strict):
    latency: LatencyDistribution
    errors: ErrorRates = ErrorRates()
    capacity: int | None = Field(
        default=None, ge=1, description="max concurrent calls; beyond it calls queue"
    )
    refuse_latency: NonNegativeDuration = Field(
        default=0.005, description="how long a refused connection takes to fail"
    )
    serves_abandoned: bool = Field(
        default=False,
        description="queued calls whose caller timed out are still served (no cancellation): "
        "the wasted work behind retry storms and metastable failures",
    )
    fee: Fee | None = Field(default=None, description="payment gateways only")
    decline_rate: Fraction = Field(default=0.0, description="payment gateways only")


class CartStage(Strict):
    latency: LatencyDistribution = LatencyDistribution(constant=0.0)


class CallStage(Strict):
    dependency: str
    timeout: PositiveDuration


class PaymentStage(Strict):
    gateways: list[str] = Field(min_length=1, description="the first is the primary")
    timeout: PositiveDuration


class NotificationStage(Strict):
    """The confirmation chain (the paper's Table 3): in-app while the customer is still on
    the page; else e-mail, confirmed by a delivery receipt; else SMS; else customer service."""

    in_app: str = Field(description="synchronous; needs the customer's session still open")
    email: str = Field(description="asynchronous; a delivery receipt is expected")
    sms: str = Field(description="the last channel; retried with backoff")
    timeout: PositiveDuration
    acknowledged: Fraction = Field(
        default=0.9, description="share of in-app confirmations the customer actually sees"
    )
    receipt_delay: LatencyDistribution = Field(
        default=LatencyDistribution(lognormal={"median": 20.0, "p99": 240.0}),
        description="from the provider accepting an e-mail to its delivery receipt",
    )
    receipt_loss: Fraction = Field(default=0.01, description="accepted e-mails never delivered")
    receipt_timeout: PositiveDuration = Field(
        default=600.0, description="how long to wait for the receipt before sending an SMS"
    )

    @property
    def channels(self) -> list[str]:
        """The channel dependencies, in the order they are tried."""
        return [self.in_app, self.email, self.sms]


class Stages(Strict):
    """cart, inventory, payment and order_record run while the customer waits;
    fulfillment and notification run after the confirmation page, off the checkout worker."""

    cart: CartStage = CartStage()
    inventory: CallStage
    payment: PaymentStage
    order_record: CallStage
    fulfillment: CallStage
    notification: NotificationStage


class Catalogue(Strict):
    """Finite stock: each order buys one unit of a product drawn by Zipf popularity."""

    products: int = Field(ge=1)
    popularity: float = Field(default=1.0, ge=0, description="Zipf exponent; 0: all alike")
    stock: Distribution = Field(description="units per product at the start, rounded")


# Letters, digits, _ . -: breaker names add "@node" and ":category" to a dependency's name.
DependencyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]+$", max_length=64)]


class ShopModel(Strict):
    name: Name
    description: Text = ""
    currency: Currency | None = Field(
        default=None,
        description="ISO 4217 code of every amount: baskets, fees, revenue (none: EUR, and "
        "reports say it was assumed)",
    )
    checkout: Checkout
    stages: Stages
    dependencies: dict[DependencyName, Dependency] = Field(min_length=1)
    catalogue: Catalogue | None = Field(default=None, description="none: unlimited stock")

    @property
    def currency_code(self) -> str:
        """The currency every amount is in: the model's, else EUR."""
        return self.currency or DEFAULT_CURRENCY

    def stage_dependencies(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every dependency name a stage refers to, with its field path."""
        stages = self.stages
        refs: list[tuple[tuple[str | int, ...], str]] = [
            (("stages", "inventory", "dependency"), stages.inventory.dependency),
            (("stages", "order_record", "dependency"), stages.order_record.dependency),
            (("stages", "fulfillment", "dependency"), stages.fulfillment.dependency),
        ]
        refs += [
            (("stages", "payment", "gateways", i), g) for i, g in enumerate(stages.payment.gateways)
        ]
        refs += [
            (("stages", "notification", role), getattr(stages.notification, role))
            for role in ("in_app", "email", "sms")
        ]
        return refs
