"""What a stage's resilience stack *does*, in one comparable form, so two spellings of the
same behaviour compare equal: a breaker as the ``BreakerPolicy`` it builds (defaults,
units and names resolved), a retry as the ``RetryPolicy`` the engine runs (attempts
counted one way; ``fixed`` and ``randomized`` written as the exponential curve they are).

The round trip import(export(c)) == c is checked on these forms, path by path, so what a
format cannot express is left out by its path and nothing else. It lives with its one user,
tests/test_formats_roundtrip.py: it builds resilience objects, which the config layer that
holds the formats may not import.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sim.config.breakers import CategoryBreakers, ExternalBreaker
from sim.config.configuration import Configuration, StagePolicy
from sim.config.formats.common import STAGES
from sim.engine.stack import retry_setup
from sim.resilience.policy import BreakerPolicy

Canonical = dict[str, Any]  # "payment.retry.wait" -> value


def canonical_stage(stage: StagePolicy, prefix: str = "") -> Canonical:
    """The behaviour of one stage's stack, keyed by dotted path."""
    out: Canonical = {f"{prefix}timeout": stage.timeout, f"{prefix}order": stage.layers}
    if stage.retry is not None and stage.retry.attempts > 1:  # one attempt: no retry at all
        spec = stage.retry
        policy, _ = retry_setup(spec)  # the policy the engine runs
        if policy.backoff in ("fixed", "randomized"):
            policy = dataclasses.replace(policy, backoff="exponential")
        for name, value in dataclasses.asdict(policy).items():
            out[f"{prefix}retry.{name}"] = value
        out[f"{prefix}retry.budget"] = spec.budget
    breaker = stage.breaker
    if isinstance(breaker, CategoryBreakers | ExternalBreaker):
        out[f"{prefix}breaker"] = breaker
    elif breaker is not None:
        out[f"{prefix}breaker"] = BreakerPolicy.from_spec(breaker)
    for layer in ("bulkhead", "rate_limiter", "hedging"):
        value = getattr(stage, layer)
        if value is not None:
            for name, item in value.model_dump().items():
                out[f"{prefix}{layer}.{name}"] = item
    return out


def canonical_configuration(config: Configuration) -> Canonical:
    """Every stage's stack (the stage policy fields only: routing, caches and processing
    are the shop's, not a resilience library's)."""
    out: Canonical = {}
    for name in STAGES:
        stage = getattr(config, name)
        out |= canonical_stage(
            StagePolicy(**{k: getattr(stage, k) for k in StagePolicy.model_fields}), f"{name}."
        )
    return out


def without(form: Canonical, paths: list[str]) -> Canonical:
    """``form`` less every path equal to, or under, one of ``paths``."""
    return {
        key: value
        for key, value in form.items()
        if not any(key == path or key.startswith(path + ".") for path in paths)
    }
