"""The metrics a run's summary has, known before anything runs, so a hypothesis, objective
or precision target naming a metric that does not exist is refused as bad input."""

from __future__ import annotations

import difflib

from sim.analysis.summary import LOST_CAUSES
from sim.config.model import ShopModel
from sim.engine.records import OUTCOMES


def metric_names(shop: ShopModel) -> list[str]:
    """Every numeric column of ``summary.csv`` for runs of ``shop``."""
    names = ["orders", *OUTCOMES, "revenue_demanded", "revenue_captured", "revenue_lost"]
    names += ["revenue_lost_pct", "revenue_declined", "fees"]
    names += ["checkout_p50_s", "checkout_p95_s", "checkout_p99_s"]
    names += [f"revenue_lost_{c}" for c in LOST_CAUSES]
    names += ["breaker_trips", "breaker_open_s", "first_trip_s", "dependency_calls"]
    for dependency in shop.dependencies:
        names += [f"calls_{dependency}", f"errors_{dependency}"]
    names += ["fulfillment_failed", "unconfirmed"]
    names += [f"confirmed_{c}" for c in shop.stages.notification.channels]
    names += ["failovers", *(f"gateway_share_{g}" for g in shop.stages.payment.gateways)]
    names += ["sold_from_cache", "oversold", "stockouts"]
    return names


def unknown_metric(name: str, shop: ShopModel) -> str | None:
    """None when ``name`` is a metric; else a message with a "did you mean"."""
    known = metric_names(shop)
    if name in known:
        return None
    hint = difflib.get_close_matches(name, known, n=1)
    suffix = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"unknown metric {name!r}{suffix} (known: {', '.join(known)})"
