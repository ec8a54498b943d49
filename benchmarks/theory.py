"""Queueing and resilience theory the engine is validated against: Erlang C (M/M/c), M/M/1,
Erlang A (M/M/c+M: exponential patience), retry amplification, retry-budget bounds and a
breaker's time open during an outage.

Pure formulas on numbers and policy objects, so each can be tested against textbook values
apart from the simulator (tests/test_theory.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.resilience.breaker import BreakerPolicy
from sim.resilience.budget import AwsRetryQuota, EnvoyRetryBudget, TokenBucketBudget

TAIL = 1e-16  # the birth-death chain is cut where a state's share falls below this
MAX_STATES = 2_000_000


def _offered(lam: float, mu: float, c: int) -> float:
    if lam <= 0 or mu <= 0 or c < 1:
        raise ValueError("lam > 0, mu > 0 and c >= 1 are required")
    return lam / mu


def erlang_b(lam: float, mu: float, c: int) -> float:
    """Blocking probability of M/M/c/c, by the stable recursion B(k) = aB(k-1)/(k + aB(k-1))."""
    a = _offered(lam, mu, c)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c_probability(lam: float, mu: float, c: int) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C); needs lam < c * mu."""
    a = _offered(lam, mu, c)
    if a >= c:
        raise ValueError(f"unstable queue: offered load {a:g} >= {c} servers")
    b = erlang_b(lam, mu, c)
    return c * b / (c - a * (1 - b))


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c: C(c, a) / (c mu - lam)."""
    return erlang_c_probability(lam, mu, c) / (c * mu - lam)


def mm1_sojourn(lam: float, mu: float) -> float:
    """Mean time in an M/M/1 system (wait and service): 1 / (mu - lam)."""
    if not 0 < lam < mu:
        raise ValueError("M/M/1 needs 0 < lam < mu")
    return 1.0 / (mu - lam)


def mm1_wait(lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/1: rho / (mu - lam)."""
    return (lam / mu) * mm1_sojourn(lam, mu)


@dataclass(frozen=True)
class ErlangA:
    """Steady state of M/M/c+M seen by arrivals (PASTA). Waits are in queue, not service."""

    p_wait: float  # an arrival finds every server busy
    p_abandon: float  # an arrival leaves before service
    mean_queue: float  # time-average number waiting
    mean_wait: float  # over all arrivals: min(wait for a server, patience)
    mean_wait_served: float  # over the arrivals that are served
    mean_wait_abandoned: float  # over those who leave: their time in queue


def erlang_a(lam: float, mu: float, c: int, theta: float) -> ErlangA:
    """M/M/c+M with arrival rate lam, service rate mu, c servers and patience rate theta
    (mean patience 1/theta; theta = 0 is M/M/c), from its birth-death chain cut where the
    states' shares fall below ``TAIL``.

    The chain gives the share pi_n of n customers in the system. An arrival finding
    q = n - c ahead of it in queue moves up one place at rate c mu + j theta (j ahead of it)
    and leaves at rate theta, so its fate and its wait follow that path: served with
    prod_j (c mu + j theta) / r_j, waiting sum_j 1 / r_j, with r_j = c mu + (j + 1) theta.
    """
    a = _offered(lam, mu, c)
    if theta < 0:
        raise ValueError("theta must be >= 0")
    if theta == 0 and a >= c:
        raise ValueError(f"unstable queue: offered load {a:g} >= {c} servers, no abandonment")
    # log pi_n up to a constant; grow the chain until its tail is negligible.
    log_pi = [0.0]
    top = 0.0
    cut = math.log(TAIL)
    n = 0
    while True:
        n += 1
        death = min(n, c) * mu + max(n - c, 0) * theta
        log_pi.append(log_pi[-1] + math.log(lam / death))
        top = max(top, log_pi[-1])
        if n > c and lam < death and log_pi[-1] - top < cut:
            break
        if n > MAX_STATES:
            raise ValueError("the chain did not converge: patience too long for this load")
    logs = np.asarray(log_pi)
    pi = np.exp(logs - logs.max())
    pi /= pi.sum()
    queued = pi[c:]  # arrivals that find q = 0, 1, ... customers waiting ahead of them
    q = np.arange(queued.size)
    mean_queue = float((q * queued).sum())
    # At place j in line (j waiting ahead): leave the place at rate r_j, moving on (to the
    # next place, or from place 0 to a server) with chance advance_j; the stay at each place
    # is exponential whatever comes next, so the waits add up along the path.
    leave = c * mu + (q + 1) * theta
    advance = (c * mu + q * theta) / leave
    served = np.cumprod(advance)  # served[q]: reach a server from place q
    wait_if_served = np.cumsum(1.0 / leave)  # every place on the way is visited
    stay = np.empty(queued.size)  # E[time in queue | q ahead], served or not
    previous = 0.0
    for k in range(queued.size):  # a stay at place k, then (moving on) the stay from k - 1
        previous = 1.0 / leave[k] + advance[k] * previous
        stay[k] = previous
    p_wait = float(queued.sum())
    p_abandon = float((queued * (1.0 - served)).sum())  # summed directly: no 1 - (1 - eps)
    p_served = 1.0 - p_abandon
    mean_wait = float((queued * stay).sum())
    waited_served = float((queued * served * wait_if_served).sum())
    mean_wait_served = waited_served / p_served
    abandoned_wait = mean_wait - waited_served
    return ErlangA(
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_queue=mean_queue,
        mean_wait=mean_wait,
        mean_wait_served=mean_wait_served,
        mean_wait_abandoned=abandoned_wait / p_abandon if p_abandon > 0 else math.nan,
    )


def expected_attempts(p_fail: float, attempts: int) -> float:
    """Calls per request when each call fails independently with ``p_fail`` and a failure is
    retried up to ``attempts`` calls in all: 1 + p + ... + p^(attempts - 1). An outage
    (p_fail = 1) gives exactly ``attempts``."""
    if not 0 <= p_fail <= 1 or attempts < 1:
        raise ValueError("0 <= p_fail <= 1 and attempts >= 1 are required")
    return float(sum(p_fail**k for k in range(attempts)))


def token_bucket_retries(budget: TokenBucketBudget, successes: float = 0.0) -> float:
    """Most retries Brooker's token bucket grants from a full bucket while ``successes``
    requests succeed: (max_tokens + deposit x successes) / retry_cost, in whole retries."""
    tokens = budget.max_tokens + budget.deposit * successes
    return float(math.floor(tokens / budget.retry_cost + 1e-9))  # 0.1 x 10 makes 1 whole token


def aws_quota_retries(budget: AwsRetryQuota, *, timeouts: bool = False) -> float:
    """Most retries the AWS SDK's quota grants from full while nothing succeeds (no refunds):
    capacity / cost, the cost being that of a retry after a timeout or after another error."""
    cost = budget.timeout_retry_cost if timeouts else budget.retry_cost
    return float(budget.capacity // cost) if cost else math.inf


def envoy_retries(
    budget: EnvoyRetryBudget, max_active: int, duration: float, retry_wait: float
) -> float:
    """Most retries Envoy's budget lets start within ``duration`` when at most ``max_active``
    requests are ever active and each retry follows a fixed wait ``retry_wait``.

    Retries in progress never exceed R = max(min_retry_concurrency, budget_percent % of
    max_active) (a retry starts only below the limit), and each retry was counted among
    them during its wait; so retries x wait <= R x (duration + wait).
    """
    if retry_wait <= 0:
        raise ValueError("the bound needs a positive fixed wait between attempts")
    concurrent = budget.max_retries(max_active)
    return concurrent * (duration + retry_wait) / retry_wait


@dataclass(frozen=True)
class OpenTime:
    """Where a breaker's time open during a full outage should lie, and the pieces."""

    low: float
    high: float
    trip_delay: float  # outage start to the trip (the window filling with failures)
    probe_time: float  # one half-open period: its permitted calls, as the outage rejects them
    reopen_delay: float  # from the end of the open wait to the next call (lazy half-open)
    half_opens: int  # most half-open periods the outage can hold


def breaker_open_interval(
    policy: BreakerPolicy, outage: float, call_rate: float, call_time: float = 0.0
) -> OpenTime:
    """The interval of the mean time open of a count-based breaker with a fixed open wait
    (resilience4j's defaults) when an outage of length ``outage`` makes every call fail
    after ``call_time``, calls arriving as a Poisson stream of ``call_rate``, its window
    full of successes before.

    The breaker trips once ceil(threshold x window) failures are in the window (trip delay
    d), stays open for the wait W, goes half-open on the next call (strictly after W,
    1 / rate later on average) and judges after min(minimum calls, permits) probes (probe
    time h); it closes at the first half-open whose probes mostly come after the outage.
    So it is open at most from d to the outage's end plus one last W, one probing and the
    reopen delay: high = L + W + h + 1/rate; and at least the outage less the trip delay and
    the half-open periods: low = L - d - m h, with m <= ceil(L / W) + 1 half-opens.
    """
    if policy.window != "count" or policy.open_backoff != "fixed" or policy.half_open != "rate":
        raise ValueError("derived for count windows, a fixed open wait and rate-judged half-open")
    if policy.automatic_transition or policy.failure_rate_threshold is None:
        raise ValueError("derived for a lazy half-open and a failure-rate threshold")
    permits = policy.permitted_number_of_calls_in_half_open_state
    if permits is None or call_rate <= 0 or outage <= 0:
        raise ValueError("needs a permit count, a positive call rate and outage")
    wait = policy.wait_duration_in_open_state
    size = policy.sliding_window_size
    to_trip = max(math.ceil(policy.failure_rate_threshold * size - 1e-9), 1)
    trip_delay = to_trip / call_rate + call_time
    probes = policy.minimum_calls(half_open=True)
    probe_time = (probes - 1) / call_rate + call_time
    reopen_delay = 1.0 / call_rate
    half_opens = math.ceil(outage / wait) + 1 if wait > 0 else math.ceil(outage * call_rate)
    return OpenTime(
        low=outage - trip_delay - half_opens * probe_time,
        high=outage + wait + probe_time + reopen_delay,
        trip_delay=trip_delay,
        probe_time=probe_time,
        reopen_delay=reopen_delay,
        half_opens=half_opens,
    )
