"""What a scenario says about the experiment itself: the baseline to compare against and
the steady-state hypotheses judged on confidence intervals."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from sim.config.fields import Strict

_CHECK = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s*(%?)\s*$"
)


class Hypothesis(Strict):
    """``metric op value``, e.g. ``revenue_lost_pct < 1%`` or ``checkout_p99_s < 2``; for
    every configuration unless ``configurations`` names some. ``%`` on a ``*_pct`` metric is
    its unit already; on any other metric it makes a fraction (``90%`` is 0.9)."""

    check: str = Field(description="metric, comparison and value: 'checkout_p99_s < 2'")
    configurations: list[str] | None = None
    metric: str = ""
    op: Literal["<", "<=", ">", ">="] = "<"
    value: float = 0.0

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The shorthand ``"checkout_p99_s < 2"`` is valid too: editors must not flag it."""
        schema = handler(core_schema)
        text = {"type": "string", "description": "metric, comparison and value"}
        return {"anyOf": [text, handler.resolve_ref_schema(schema)]}

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"check": data}
        if isinstance(data, dict) and "check" in data:
            match = _CHECK.match(str(data["check"]))
            if not match:
                raise ValueError(
                    f"cannot read {data['check']!r}: write 'metric < value', e.g. "
                    "'revenue_lost_pct < 1' or 'checkout_p99_s <= 2'"
                )
            metric, op, value, percent = match.groups()
            number = float(value)
            if percent and not metric.endswith("_pct"):
                number /= 100  # a share such as gateway_share_primary is a fraction
            data = {**data, "metric": metric, "op": op, "value": number}
        return data
