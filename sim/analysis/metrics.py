"""The metrics a run's summary has, known before anything runs, so a hypothesis, objective
or precision target naming a metric that does not exist is refused as bad input."""

from __future__ import annotations

import difflib
from functools import cache

from sim.config.model import ShopModel
from sim.config.scenario import LoadedScenario
from sim.engine.records import OUTCOMES

# The summary (pandas, scipy.stats) and the engine's run are imported where they are used:
# a metric's name is checked by commands that run nothing (validate, export).


def metric_names(shop: ShopModel) -> list[str]:
    """Every numeric column of ``summary.csv`` for runs of ``shop``."""
    from sim.analysis.summary import LOST_CAUSES

    names = ["orders", *OUTCOMES, "revenue_demanded", "revenue_captured", "revenue_lost"]
    names += ["revenue_lost_pct", "revenue_declined", "fees"]
    names += ["checkout_p50_s", "checkout_p95_s", "checkout_p99_s"]
    names += ["result_p50_s", "result_p95_s", "result_p99_s"]
    names += [f"revenue_lost_{c}" for c in LOST_CAUSES]
    names += ["breaker_trips", "breaker_open_s", "first_trip_s", "dependency_calls"]
    for dependency in shop.dependencies:
        names += [f"calls_{dependency}", f"errors_{dependency}"]
    names += ["fulfillment_failed", "cs_followups", "notifications_sent", "confirmation_p95_s"]
    names += ["duplicate_submissions", "duplicate_orders", "refunds", "duplicate_fees"]
    names += ["queued", "queue_max_depth", "drain_time_s", "deferred_captured"]
    names += ["deferred_failed", "queue_rejected", "final_confirmation_p95_s"]
    names += ["compensations", "double_charges", "charged_without_order"]
    names += ["interrupted", "resumed", "compensated_after_crash", "recovery_time_s"]
    names += ["goodput_recovery_s", "stayed_degraded", "retry_amplification"]
    names += [f"confirmed_{role}" for role in ("in_app", "email", "sms")]
    names += ["failovers", *(f"gateway_share_{g}" for g in shop.stages.payment.gateways)]
    names += ["sold_from_cache", "oversold", "stockouts"]
    names += ["config_disagreement_s", "config_propagation_max_s", "breaker_disagreement_s"]
    return names


def known_metrics(loaded: LoadedScenario) -> list[str]:
    """The columns a run of ``loaded`` gives: the documented ones, and whatever a two-second
    probe run without faults adds (the engine grows new summary columns over time)."""
    return _probe(loaded.model_dump_json(by_alias=True))  # an outside breaker as "class"


PROBE_BYTES = 256 * 1024**2  # memory a probe may take (a billion-call breaker window won't)


@cache
def _probe(data: str) -> list[str]:
    from sim.analysis.summary import summary_row
    from sim.engine import simulate
    from sim.experiment.sizing import estimate

    loaded = LoadedScenario.model_validate_json(data)
    names = metric_names(loaded.shop)
    scenario = loaded.scenario
    traffic = scenario.traffic.model_copy(update={"profile": []})
    short = scenario.model_copy(
        update={"horizon": 2.0, "warmup": 0.0, "faults": [], "traffic": traffic}
    )
    probe = loaded.model_copy(update={"scenario": short})
    if estimate(probe, 1).run_bytes > PROBE_BYTES:
        return names  # even two seconds would be huge: left to the size check to refuse
    try:
        result = simulate(probe, next(iter(scenario.configurations)), check=False)
        row = summary_row(result)
    except Exception:  # the probe only adds names; the documented ones are known anyway
        return names
    return names + [k for k in row if k not in names and k not in ("configuration", "replication")]


def unknown_metric(name: str, loaded: LoadedScenario) -> str | None:
    """None when ``name`` is a metric; else a message with a "did you mean"."""
    known = known_metrics(loaded)
    if name in known:
        return None
    hint = difflib.get_close_matches(name, known, n=1)
    suffix = f"; did you mean {hint[0]!r}?" if hint else ""
    return f"unknown metric {name!r}{suffix} (known: {', '.join(known)})"
