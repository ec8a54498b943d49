"""Field types shared by the model and scenario schemas: units, strictness, distributions."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from sim.units import (
    DURATION_PATTERN,
    FRACTION_PATTERN,
    RATE_PATTERN,
    format_duration,
    parse_duration,
    parse_fraction,
    parse_rate,
)

MAX_NAME = 256  # characters of a name (shown in tables and figures; a sweep names points)
MAX_PATH_NAME = 100  # characters of a name that becomes a directory (a scenario's)
MAX_TEXT = 10_000  # characters of a description (it is copied into the run's files)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # newlines and tabs kept


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("a name may not hold control characters (line breaks, tabs, escapes)")
    if value != value.strip():
        raise ValueError("a name may not start or end with spaces")
    return value


def _no_control_in_text(value: str) -> str:
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError("control characters other than line breaks and tabs are not allowed")
    return value


# A name shown in tables, figures and file names: 1 to MAX_NAME printable characters.
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NAME), AfterValidator(_no_control)
]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_no_control_in_text)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _quantity_schema(example: str, description: str, pattern: str) -> WithJsonSchema:
    """A number, or a string the pattern accepts: editors then flag ``"60 parsecs"``."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": pattern, "examples": [example]},
            ],
            "description": description,
        }
    )


# Above an hour, a bare number in a file is far likelier milliseconds (or minutes) written
# without a unit than seconds meant: refused with the fix. Floats pass (what a program
# writes back, 7200.0), as does any value with a unit.
BARE_SECONDS_LIMIT = 3600


def _user_duration(value: object) -> float:
    """A duration as typed in a file: ``parse_duration``, refusing a bare whole number of
    more than an hour of seconds (``timeout: 3000`` meant as 3000 ms is 50 minutes)."""
    seconds = parse_duration(value)
    bare = (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.strip().isdigit()
    )
    if bare and seconds > BARE_SECONDS_LIMIT:
        text = str(value).strip()
        spelled = {f"'{text}s'", f"'{format_duration(seconds)}'"}
        raise ValueError(
            f"a bare number is seconds, so {text} is {seconds / 3600:.3g} h: write "
            f"'{text}ms' for milliseconds, or {' or '.join(sorted(spelled))} if you do "
            "mean that long"
        )
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(_user_duration),
    _quantity_schema(
        "250ms",
        "a duration: 250ms, 30s, 1m30s, 10m, 2h, or a bare number of seconds",
        DURATION_PATTERN,
    ),
]
Rate = Annotated[
    float,
    BeforeValidator(parse_rate),
    _quantity_schema(
        "40/s", "a rate: 40/s, 1200/min, 50/h, or a bare number per second", RATE_PATTERN
    ),
]
Fraction = Annotated[
    float,
    BeforeValidator(parse_fraction),
    _quantity_schema("2%", "a share: 2% or a fraction such as 0.02", FRACTION_PATTERN),
]
PositiveDuration = Annotated[Duration, Field(gt=0)]
NonNegativeDuration = Annotated[Duration, Field(ge=0)]
PositiveRate = Annotated[Rate, Field(gt=0)]


class Lognormal(Strict):
    """Lognormal given its median and 99th percentile, the two numbers dashboards show."""

    median: float = Field(gt=0)
    p99: float = Field(gt=0)

    @model_validator(mode="after")
    def _p99_above_median(self) -> Lognormal:
        if self.p99 <= self.median:
            raise ValueError("p99 must be greater than the median")
        return self


class Exponential(Strict):
    # 0 is allowed, as constant: 0 is: a patience of 0 (every customer leaves at once) is a
    # deliberate extreme, and the two ways of writing it must agree.
    mean: float = Field(ge=0)


class Distribution(Strict):
    """Exactly one of: lognormal, exponential, constant, empirical (samples drawn uniformly)."""

    lognormal: Lognormal | None = None
    exponential: Exponential | None = None
    constant: float | None = Field(default=None, ge=0)
    empirical: list[float] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Distribution:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of lognormal, exponential, constant, empirical"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.empirical is not None and min(self.empirical) < 0:
            raise ValueError("empirical samples must be >= 0")
        return self

    @property
    def mean(self) -> float:
        """Mean of the distribution, for reports and sanity checks."""
        import math

        if self.lognormal is not None:
            mu = math.log(self.lognormal.median)
            sigma = (math.log(self.lognormal.p99) - mu) / 2.3263478740408408
            return math.exp(mu + sigma * sigma / 2)
        if self.exponential is not None:
            return self.exponential.mean
        if self.constant is not None:
            return self.constant
        assert self.empirical is not None
        return sum(self.empirical) / len(self.empirical)


class LatencyLognormal(Lognormal):
    median: PositiveDuration
    p99: PositiveDuration


class LatencyExponential(Exponential):
    mean: NonNegativeDuration


class LatencyDistribution(Distribution):
    """A distribution of durations: every quantity takes units (``250ms``, ``2s``)."""

    lognormal: LatencyLognormal | None = None
    exponential: LatencyExponential | None = None
    constant: NonNegativeDuration | None = None
    empirical: list[NonNegativeDuration] | None = Field(default=None, min_length=1)


# Amounts (basket values) are plain numbers.
AmountDistribution = Distribution
