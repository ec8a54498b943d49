"""The metrics a run's summary has, declared here and known before anything runs, so a
hypothesis, objective or precision target naming a metric that does not exist is refused as
bad input. ``summary_row`` (summary.py) makes exactly these columns; a test keeps every
column it makes declared here (tests/test_metrics.py)."""

from __future__ import annotations

import difflib

from sim.config.model import ShopModel
from sim.config.scenario import LoadedScenario
from sim.engine.records import OUTCOMES

# Causes of lost revenue, each a revenue_lost_<cause> column of every run.
LOST_CAUSES = (
    "abandoned",
    "inventory",
    "stockout",
    "payment",
    "order_record",
    "fulfillment",
    "unfinished",
)
# Causes only a run where a checkout node crashed has a column for (summary_row adds a
# cause's column when an order was lost to it): not metrics a hypothesis can rely on.
CRASH_CAUSES = ("crash", "stuck_after_crash")

# The summary's columns, in summary.csv's order. A name with {dependency} or {gateway}
# stands for one column per dependency or payment gateway of the shop, {cause} for one per
# LOST_CAUSES; a group of names is repeated together (a dependency's calls, then errors).
METRICS: tuple[str | tuple[str, ...], ...] = (
    "orders",
    *OUTCOMES,
    "revenue_demanded",
    "revenue_captured",
    "revenue_lost",
    "revenue_lost_pct",
    "revenue_declined",
    "fees",
    "checkout_p50_s",
    "checkout_p95_s",
    "checkout_p99_s",
    "result_p50_s",
    "result_p95_s",
    "result_p99_s",
    "revenue_lost_{cause}",
    "breaker_trips",
    "breaker_open_s",
    "first_trip_s",
    "dependency_calls",
    ("calls_{dependency}", "errors_{dependency}"),
    "fulfillment_failed",
    "cs_followups",
    "notifications_sent",
    "confirmation_p95_s",
    "duplicate_submissions",
    "duplicate_orders",
    "refunds",
    "duplicate_fees",
    "queued",
    "queue_max_depth",
    "drain_time_s",
    "deferred_captured",
    "deferred_failed",
    "queue_rejected",
    "final_confirmation_p95_s",
    "compensations",
    "double_charges",
    "charged_without_order",
    "interrupted",
    "resumed",
    "compensated_after_crash",
    "recovery_time_s",
    "goodput_recovery_s",
    "stayed_degraded",
    "retry_amplification",
    "confirmed_in_app",
    "confirmed_email",
    "confirmed_sms",
    "failovers",
    "gateway_share_{gateway}",
    "sold_from_cache",
    "oversold",
    "stockouts",
    "config_disagreement_s",
    "config_propagation_max_s",
    "breaker_disagreement_s",
)


def metric_names(shop: ShopModel) -> list[str]:
    """Every numeric column of ``summary.csv`` for runs of ``shop``, in the file's order."""
    families = {
        "cause": LOST_CAUSES,
        "dependency": tuple(shop.dependencies),
        "gateway": tuple(shop.stages.payment.gateways),
    }
    names: list[str] = []
    for entry in METRICS:
        group = (entry,) if isinstance(entry, str) else entry
        family = next((f for f in families if f"{{{f}}}" in group[0]), None)
        if family is None:
            names += group
            continue
        for value in families[family]:
            names += [name.format(**{family: value}) for name in group]
    return names


def known_metrics(loaded: LoadedScenario) -> list[str]:
    """The metrics a run of ``loaded`` has (its shop names the per-dependency and
    per-gateway ones)."""
    return metric_names(loaded.shop)


def unknown_metric(name: str, loaded: LoadedScenario) -> str | None:
    """None when ``name`` is a metric; else a message with a "did you mean"."""
    known = known_metrics(loaded)
    if name in known:
        return None
    hint = difflib.get_close_matches(name, known, n=1)
    suffix = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"unknown metric {name!r}{suffix} (known: {', '.join(known)})"
