"""Configuration parameters addressed by dotted paths (``payment.breaker.wait_duration_in_
open_state``): parsing ``--param`` specs, grids and Latin hypercubes of values, and building
validated configurations from them.

A configuration is changed by dumping it to a dict, setting the key and validating it again,
so units (``30s``, ``50%``) work and a bad value is refused with the field's own message.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.config.messages import fields_at
from sim.config.scenario import Configuration
from sim.config.settings import with_settings
from sim.errors import ConfigError, did_you_mean
from sim.units import parse_duration

Value = int | float | str
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zµ%/]*)\s*$")


@dataclass(frozen=True)
class Param:
    """One ``--param``: a list of values (``a,b,c`` or a grid ``start:stop:count``), or a
    range ``low:high`` (``:log`` for a log scale) for Latin hypercubes and tuning."""

    path: str
    values: tuple[Value, ...] = ()
    low: float | None = None
    high: float | None = None
    unit: str = ""
    integer: bool = False
    log: bool = False

    @property
    def is_range(self) -> bool:
        return self.low is not None

    @property
    def short(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def value(self, x: float) -> Value:
        """The configuration value of a number in this parameter's range and unit."""
        if self.integer:
            return round(x)
        x = float(f"{x:.6g}")
        return f"{x:g}{self.unit}" if self.unit else x


def _split_number(text: str, where: str) -> tuple[float, str]:
    match = _NUMBER.match(text)
    if not match:
        raise ConfigError(f"expected a number with an optional unit, got {text!r}", path=where)
    return float(match.group(1)), match.group(2)


def _scalar(text: str) -> Value:
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_param(spec: str) -> Param:
    """``path=20:80:7`` (7 values from 20 to 80), ``path=5s,30s,60s``, ``path=20:80`` or
    ``path=1ms:1s:log`` (ranges, for ``--lhs`` and tuning)."""
    where = f"--param {spec}"
    path, sep, text = spec.partition("=")
    path = path.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+", path) or not text:
        raise ConfigError(
            "write PATH=VALUES, e.g. payment.breaker.failure_rate_threshold=20:80:7 or "
            "payment.breaker.wait_duration_in_open_state=5s,30s,60s",
            path=where,
        )
    if ":" not in text:
        values = tuple(_scalar(v) for v in text.split(",") if v.strip())
        if not values:
            raise ConfigError("no values", path=where)
        return Param(path, values=values)
    parts = text.split(":")
    log = parts[-1].strip() == "log"
    if log:
        parts = parts[:-1]
    if len(parts) not in (2, 3) or (log and len(parts) != 2):
        raise ConfigError("a range is low:high, low:high:log or start:stop:count", path=where)
    (low, unit), (high, unit_high) = (_split_number(p, where) for p in parts[:2])
    if unit != unit_high:
        try:  # 100ms:10s: both durations, in seconds
            low, high, unit = parse_duration(parts[0]), parse_duration(parts[1]), "s"
        except ValueError:
            raise ConfigError(
                f"both ends need the same unit ({unit!r}, {unit_high!r})", path=where
            ) from None
    if high < low:
        raise ConfigError("the range's end is below its start", path=where)
    if log and low <= 0:
        raise ConfigError("a log range must be positive", path=where)
    integer = not unit and all(re.fullmatch(r"\s*[-+]?\d+\s*", p) for p in parts[:2])
    param = Param(path, low=low, high=high, unit=unit, integer=integer, log=log)
    if len(parts) == 2:
        return param
    try:
        count = int(parts[2])
    except ValueError:
        raise ConfigError(f"the count {parts[2]!r} is not a whole number", path=where) from None
    if count < 1:
        raise ConfigError("the count must be at least 1", path=where)
    grid = np.linspace(low, high, count) if count > 1 else np.asarray([low])
    if integer and not np.allclose(grid, np.round(grid)):
        integer = False
    param = Param(path, low=low, high=high, unit=unit, integer=integer)
    return Param(path, values=tuple(dict.fromkeys(param.value(x) for x in grid)))


def grid(params: list[Param]) -> list[dict[str, Value]]:
    """Every combination of the parameters' values."""
    for p in params:
        if p.is_range and not p.values:
            raise ConfigError(
                f"{p.path}: a grid needs values or start:stop:count (low:high is for --lhs)",
                path="--param",
            )
    combos = itertools.product(*(p.values for p in params))
    return [dict(zip((p.path for p in params), combo, strict=True)) for combo in combos]


def latin_hypercube(params: list[Param], n: int, seed: int) -> list[dict[str, Value]]:
    """``n`` points of a Latin hypercube (scipy.stats.qmc) over the parameters' ranges;
    a list of values is sampled as a categorical, evenly."""
    from scipy.stats import qmc

    sample = qmc.LatinHypercube(d=len(params), seed=seed).random(n)
    points = []
    for row in sample:
        point: dict[str, Value] = {}
        for p, u in zip(params, row, strict=True):
            if not p.is_range:
                point[p.path] = p.values[min(int(u * len(p.values)), len(p.values) - 1)]
            else:
                assert p.low is not None and p.high is not None
                if p.integer:  # equal strata for every whole number in [low, high]
                    whole = math.floor(p.low + u * (p.high - p.low + 1))
                    point[p.path] = int(min(whole, p.high))
                    continue
                if p.log:
                    x = math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))
                else:
                    x = p.low + u * (p.high - p.low)
                point[p.path] = p.value(x)
        points.append(point)
    return points


def apply(
    base: Configuration, assignments: dict[str, Value], source: str | None = None
) -> Configuration:
    """``base`` with each dotted path set; a ConfigError names the parameter on bad values.
    numpy scalars (a value read back from a table) count as the Python numbers they hold."""
    assignments = {
        path: value.item() if isinstance(value, np.generic) else value
        for path, value in assignments.items()
    }
    try:
        return with_settings(base, assignments)
    except ValueError as exc:
        if not isinstance(exc, ValidationError):
            paths = ", ".join(assignments)
            raise ConfigError(str(exc), file=source, path=f"--param {paths}") from None
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        paths = ", ".join(f"{k}={v}" for k, v in assignments.items())
        if first["type"] == "extra_forbidden":
            raise _unknown_setting(tuple(first["loc"]), source, paths) from None
        raise ConfigError(f"{loc}: {message}", file=source, path=f"--param {paths}") from None


def _unknown_setting(loc: tuple[Any, ...], source: str | None, paths: str) -> ConfigError:
    """A setting the configuration does not have, named as the user wrote it (without
    pydantic's preset tag), with the nearest setting that exists there."""
    known = fields_at(Configuration, loc[:-1])
    name = str(loc[-1])
    where = ".".join(str(p) for p in loc[:-1] if not _is_tag(p, loc))
    message = f"{where} has no setting {name!r}{did_you_mean(name, known)}"
    return ConfigError(message, file=source, path=f"--param {paths}")


def _is_tag(part: Any, loc: tuple[Any, ...]) -> bool:
    """Whether ``part`` of a location is pydantic's tag of a union member (a breaker's
    preset, ``resilience4j``), not a key the user wrote."""
    i = loc.index(part)
    return i > 0 and loc[i - 1] == "breaker" and isinstance(part, str)


def read(configuration: Configuration, path: str) -> float:
    """The numeric value at ``path`` as validated (seconds, fractions...), NaN if not one."""
    node: Any = configuration.model_dump(mode="json", by_alias=True)
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return math.nan
        node = node[key]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else math.nan


def point_name(point: dict[str, Value]) -> str:
    """A readable configuration name for one point: ``threshold=20 wait=5s``."""
    shorts = [path.rsplit(".", 1)[-1] for path in point]
    keys = shorts if len(set(shorts)) == len(shorts) else list(point)
    return " ".join(f"{k}={v}" for k, v in zip(keys, point.values(), strict=True))


def validated(
    base: Configuration, values: dict[str, Value], params: list[Param]
) -> dict[str, Value]:
    """The parameters' values as validated (seconds, percent...) in ``base`` with
    ``values`` applied: numbers a region can span, which apply back unchanged."""
    config = apply(base, values) if values else base
    dumped = config.model_dump(mode="json", by_alias=True)
    out: dict[str, Value] = {}
    for p in params:
        number = read(config, p.path)
        out[p.path] = number if number == number else _node(dumped, p.path)  # NaN: not a number
    return out


def _node(data: Any, path: str) -> Value:
    """A categorical parameter's value as dumped (``full_jitter``)."""
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, int | float | str) else str(data)
