"""The theory the engine is validated against, checked on its own: textbook values, limits
that reduce one formula to another, and two independent derivations that must agree."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from benchmarks import theory
from sim.resilience.breaker import BreakerPolicy
from sim.resilience.budget import AwsRetryQuota, EnvoyRetryBudget, TokenBucketBudget


def test_erlang_c_textbook_value() -> None:
    # a = 9 Erlangs on 10 servers: P(wait) = 0.6687, Wq = 0.6687 / (10 - 9).
    assert math.isclose(theory.erlang_c_probability(9, 1, 10), 0.6687, abs_tol=5e-5)
    assert math.isclose(theory.erlang_c_wait(9, 1, 10), 0.6687, abs_tol=5e-5)


def test_erlang_b_textbook_value() -> None:
    # Erlang B with 2 Erlangs on 2 servers: (2^2/2) / (1 + 2 + 2) = 0.4.
    assert math.isclose(theory.erlang_b(2, 1, 2), 0.4)


def test_erlang_c_with_one_server_is_mm1() -> None:
    for lam, mu in [(0.7, 1.0), (3.0, 10.0), (0.99, 1.0)]:
        assert math.isclose(theory.erlang_c_probability(lam, mu, 1), lam / mu)
        assert math.isclose(theory.erlang_c_wait(lam, mu, 1), theory.mm1_wait(lam, mu))
    assert math.isclose(theory.mm1_sojourn(7, 10), 1 / 3)
    assert math.isclose(theory.mm1_wait(7, 10), 0.7 / 3)


def test_erlang_c_is_stable_for_many_servers() -> None:
    # a^c / c! overflows a float at c = 200; the Erlang B recursion does not.
    wait = theory.erlang_c_wait(190, 1, 200)
    assert 0 < wait < 1


def test_unstable_queues_are_refused() -> None:
    with pytest.raises(ValueError, match="unstable"):
        theory.erlang_c_wait(10, 1, 10)
    with pytest.raises(ValueError, match="unstable"):
        theory.erlang_a(10, 1, 10, 0.0)
    with pytest.raises(ValueError):
        theory.mm1_sojourn(2, 1)


def test_erlang_a_with_endless_patience_is_erlang_c() -> None:
    for lam, mu, c in [(9, 1, 10), (0.7, 1, 1), (40, 10, 5)]:
        a = theory.erlang_a(lam, mu, c, 0.0)
        assert a.p_abandon == 0
        assert math.isclose(a.p_wait, theory.erlang_c_probability(lam, mu, c), rel_tol=1e-9)
        assert math.isclose(a.mean_wait, theory.erlang_c_wait(lam, mu, c), rel_tol=1e-9)
        nearly = theory.erlang_a(lam, mu, c, 1e-9)  # patience of 30 years
        assert math.isclose(nearly.mean_wait_served, a.mean_wait, rel_tol=1e-6)
        assert nearly.p_abandon < 1e-8


def test_erlang_a_with_patience_rate_equal_to_service_rate_is_poisson() -> None:
    """theta = mu: every customer leaves at rate mu, waiting or served, so the number in
    the system is Poisson(lam / mu) as in M/M/inf."""
    lam, mu, c = 7.0, 1.0, 5
    a = theory.erlang_a(lam, mu, c, mu)
    n = np.arange(400)
    pmf = stats.poisson(lam / mu).pmf(n)
    assert math.isclose(a.p_wait, float(pmf[c:].sum()), rel_tol=1e-9)
    assert math.isclose(a.mean_queue, float((np.clip(n - c, 0, None) * pmf).sum()), rel_tol=1e-9)


@pytest.mark.parametrize(
    ("lam", "mu", "c", "theta"), [(10, 1, 10, 0.2), (12, 1, 10, 1), (3, 2, 1, 0.5)]
)
def test_erlang_a_two_derivations_agree(lam: float, mu: float, c: int, theta: float) -> None:
    """Abandonments from the queue's length (rate theta x mean queue) against the paths of
    single arrivals; the mean wait from Little's law against the same paths."""
    a = theory.erlang_a(lam, mu, c, theta)
    assert math.isclose(a.p_abandon, theta * a.mean_queue / lam, rel_tol=1e-9)
    assert math.isclose(a.mean_wait, a.mean_queue / lam, rel_tol=1e-9)
    served = 1 - a.p_abandon
    mixed = served * a.mean_wait_served + a.p_abandon * a.mean_wait_abandoned
    assert math.isclose(mixed, a.mean_wait, rel_tol=1e-9)
    assert 0 < a.p_abandon < a.p_wait < 1


def test_erlang_a_single_server_by_hand() -> None:
    """M/M/1+M with lam = mu = theta = 1: pi_n = pi_0 / n!, so pi = Poisson(1) and
    P(abandon) = E[(N - 1)+] = e^-1 (the mean queue of Poisson(1) beyond one)."""
    a = theory.erlang_a(1, 1, 1, 1)
    assert math.isclose(a.p_abandon, math.exp(-1), rel_tol=1e-9)


def test_expected_attempts() -> None:
    assert theory.expected_attempts(1.0, 4) == 4
    assert theory.expected_attempts(0.0, 4) == 1
    assert math.isclose(theory.expected_attempts(0.5, 4), 1.875)
    with pytest.raises(ValueError):
        theory.expected_attempts(1.5, 3)


def test_budget_bounds_follow_their_parameters() -> None:
    assert theory.token_bucket_retries(TokenBucketBudget()) == 10
    # 0.1 per success: 600 successes buy 60 retries, and floats must not lose one.
    assert theory.token_bucket_retries(TokenBucketBudget(), 600) == 70
    assert theory.token_bucket_retries(TokenBucketBudget(max_tokens=5, retry_cost=2)) == 2
    assert theory.aws_quota_retries(AwsRetryQuota()) == 100
    assert theory.aws_quota_retries(AwsRetryQuota(), timeouts=True) == 50
    envoy = EnvoyRetryBudget()  # 20 %, at least 3
    assert theory.envoy_retries(envoy, 10, 100, 1.0) == 3 * 101
    assert theory.envoy_retries(envoy, 50, 100, 1.0) == 10 * 101


def test_budget_bounds_hold_against_the_budgets_themselves() -> None:
    """Drain each budget as an outage would (nothing succeeds): it grants exactly the bound."""
    bucket, quota = TokenBucketBudget(), AwsRetryQuota()
    assert sum(bucket.acquire(0.0) for _ in range(1000)) == theory.token_bucket_retries(bucket)
    assert sum(quota.acquire(0.0) for _ in range(1000)) == theory.aws_quota_retries(quota)


def test_breaker_open_interval() -> None:
    policy = BreakerPolicy(
        sliding_window_size=10, minimum_number_of_calls=10, wait_duration_in_open_state=10.0
    )
    bound = theory.breaker_open_interval(policy, outage=120, call_rate=20, call_time=0.005)
    assert math.isclose(bound.trip_delay, 5 / 20 + 0.005)  # 5 failures of 10 trip it
    assert math.isclose(bound.probe_time, 9 / 20 + 0.005)  # the 10th probe decides
    assert bound.half_opens == 13
    assert math.isclose(bound.high, 120 + 10 + bound.probe_time + 1 / 20)
    assert math.isclose(bound.low, 120 - bound.trip_delay - 13 * bound.probe_time)
    # Breakers whose rules the interval was not derived for are refused, not guessed.
    with pytest.raises(ValueError):
        theory.breaker_open_interval(BreakerPolicy(window="time"), 120, 20)
    with pytest.raises(ValueError):
        theory.breaker_open_interval(BreakerPolicy(open_backoff="exponential"), 120, 20)
