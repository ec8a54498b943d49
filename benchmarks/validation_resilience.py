"""The resilience scenarios of the engine's validation: retry amplification with and
without retry budgets, and a breaker's time open during an outage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks import theory
from benchmarks import validation_checks as v
from benchmarks.validation_cases import Case, Runner, shop, traffic
from sim.analysis.summary import summary_row
from sim.config.breakers import CategoryBreakers, ExternalBreaker
from sim.engine import RunResult
from sim.resilience.budget import AwsRetryQuota, EnvoyRetryBudget, TokenBucketBudget
from sim.resilience.policy import BreakerPolicy

ATTEMPTS = 4
RETRY_WAIT = 0.1  # fixed wait between attempts, seconds
ENVOY_WAIT = 1.0


def retry(wait: float = RETRY_WAIT, budget: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"max_attempts": ATTEMPTS, "wait": f"{wait:g}s", "backoff": "fixed"}
    if budget:
        spec["budget"] = budget
    return {"payment": {"retry": spec}}


def retry_amplification(run: Runner) -> Case:
    lam, workers, p = 20.0, 20, 0.5
    horizon = run.seconds(300)
    whole_run = {"target": "gw", "kind": "outage", "start": 0, "duration": "3h"}
    outage = run(
        "retry-outage",
        shop(workers),
        {
            "horizon": horizon,
            "warmup": 0,
            "traffic": traffic(lam),
            "faults": [whole_run],
            "configurations": {
                "retries": retry(),
                "token-bucket": retry(budget="token_bucket"),
                "aws": retry(budget="aws"),
                "envoy": retry(ENVOY_WAIT, budget="envoy"),
            },
        },
    )
    partial = run(
        "retry-partial-outage",
        shop(workers),
        {
            "horizon": horizon,
            "warmup": 0,
            "traffic": traffic(lam),
            "faults": [{**whole_run, "probability": p}],
            "configurations": {"retries": retry(), "token-bucket": retry(budget="token_bucket")},
        },
    )
    group = "Retry amplification"
    bucket, quota, envoy = TokenBucketBudget(), AwsRetryQuota(), EnvoyRetryBudget()

    def ratios(results: list[RunResult]) -> list[float]:
        return [v.calls_per_order(r, "gw") for r in results]

    def bounded(name: str, results: list[RunResult], most: Callable[[RunResult], float]) -> v.Check:
        """Calls per order against 1 + the budget's most retries over the run's orders."""
        bounds = [1 + most(r) / r.stage_stats["payment"][0] for r in results]
        return v.at_most(group, f"{name}: calls per order", ratios(results), bounds)

    checks = [
        v.equal(
            group,
            f"outage, {ATTEMPTS} attempts: calls per order",
            ratios(outage["retries"]),
            theory.expected_attempts(1.0, ATTEMPTS),
        ),
        bounded(
            "outage, token bucket",
            outage["token-bucket"],
            lambda r: theory.token_bucket_retries(bucket),
        ),
        bounded("outage, AWS quota", outage["aws"], lambda r: theory.aws_quota_retries(quota)),
        bounded(
            "outage, Envoy budget",
            outage["envoy"],
            lambda r: theory.envoy_retries(envoy, workers, r.end_time, ENVOY_WAIT),
        ),
        v.equal(
            group,
            f"{p:.0%} of calls refused, {ATTEMPTS} attempts: calls per order",
            ratios(partial["retries"]),
            theory.expected_attempts(p, ATTEMPTS),
        ),
        bounded(
            f"{p:.0%} refused, token bucket",
            partial["token-bucket"],
            lambda r: theory.token_bucket_retries(bucket, v.successes(r, "gw")),
        ),
    ]
    return Case(
        group,
        f"One gateway, refusing every call (an `outage` over the whole run, so every call "
        f"happens during it) or a share p = {p:.0%} of calls (`probability`); payment retries "
        f"up to {ATTEMPTS} attempts after a fixed {RETRY_WAIT:g} s wait ({ENVOY_WAIT:g} s with "
        f"Envoy's budget), no breaker, no failover; λ = {lam:g}/s, {workers} checkout "
        "workers, unbounded patience. Calls per order = the gateway's calls over the orders "
        "entering payment. Without a budget it is 1 + p + … + p^(N−1) (N in an outage). "
        "The budgets' bounds come from their rules and default parameters: Brooker's token "
        f"bucket grants at most ({bucket.max_tokens:g} tokens + {bucket.deposit:g} per "
        f"success) / {bucket.retry_cost:g} retries; the AWS quota {quota.capacity} / "
        f"{quota.retry_cost} (a refused call is not a timeout) with no success to refund; "
        f"Envoy keeps retries in progress below max({envoy.min_retry_concurrency}, "
        f"{envoy.budget_percent:g} % of active requests) and active requests never exceed the "
        f"{workers} workers, so retries ≤ that × (run length + wait) / wait. Each "
        "replication is held to its own bound (it depends on its orders).",
        checks,
    )


def breaker_open_time(run: Runner) -> Case:
    lam, outage, start = 20.0, 120.0, 100.0
    waits = (10.0, 70.0)
    breaker = {
        "failure_rate_threshold": "50%",
        "sliding_window_size": 10,
        "minimum_number_of_calls": 10,
        "permitted_number_of_calls_in_half_open_state": 10,
    }
    configs = {
        f"wait-{w:g}s": {
            "payment": {"breaker": {**breaker, "wait_duration_in_open_state": f"{w:g}s"}}
        }
        for w in waits
    }
    loaded = run.load(
        "breaker-open-time",
        shop(100),
        {
            "horizon": start + outage + 100,
            "warmup": 30,
            "traffic": traffic(lam),
            "faults": [{"target": "gw", "kind": "outage", "start": start, "duration": outage}],
            "configurations": configs,
        },
    )
    runs = run.results(loaded)
    refuse = loaded.shop.dependencies["gw"].refuse_latency
    group = "Breaker time open during an outage"
    checks = []
    for name, results in runs.items():
        spec = loaded.scenario.configurations[name].payment.breaker
        assert spec is not None and not isinstance(spec, ExternalBreaker | CategoryBreakers)
        policy = BreakerPolicy.from_spec(spec)
        bound = theory.breaker_open_interval(policy, outage, lam, refuse)
        opened = [open_seconds(r) for r in results]
        checks.append(
            v.within(
                group, f"{name}: seconds open (outage {outage:g} s)", opened, bound.low, bound.high
            )
        )
    return Case(
        group,
        f"A resilience4j count breaker (window 10, minimum 10 calls, 50 %, 10 half-open "
        f"permits) on the only gateway, an outage of L = {outage:g} s, λ = {lam:g}/s, no "
        "retry or failover. The interval follows the breaker's rules "
        "(`theory.breaker_open_interval`): it trips after ceil(50 % × 10) failures (delay "
        "d), stays open for the wait W, half-opens on the next call and judges after 10 "
        "probes (time h); it closes at the first half-open after the outage, so its time "
        "open lies in [L − d − m·h, L + W + h + 1/λ] with m ≤ ⌈L/W⌉ + 1 half-opens. Time "
        "open = the summary's `breaker_open_s`.",
        checks,
    )


def open_seconds(result: RunResult) -> float:
    """The summary's breaker_open_s: seconds open after the warm-up."""
    return float(summary_row(result)["breaker_open_s"])
