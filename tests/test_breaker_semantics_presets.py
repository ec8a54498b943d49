"""Every preset's policy written out by hand from the libraries' documented defaults (the
reference table in each library's own words), so a rule a preset sets to the value a
fallback would also give (``half_open="successes"``, ``window="absolute"``) is still pinned;
and each preset's parameters reaching their field, in the library's units."""

from __future__ import annotations

import math

import pytest

from sim.resilience import BreakerPolicy

ALL = frozenset({"timeout", "connection", "server_error", "rejected"})

DOCUMENTED = {
    # COUNT_BASED ring of 100, 50 %, slow calls over 60 s at 100 %, 100 calls first, open
    # 60 s (leave strictly after), 10 half-open permits deciding by rate.
    "resilience4j": BreakerPolicy(
        library="resilience4j",
        window="count",
        sliding_window_size=100,
        failure_rate_threshold=0.5,
        slow_call_rate_threshold=1.0,
        slow_call_duration_threshold=60.0,
        minimum_number_of_calls=100,
        check="every_call",
        wait_duration_in_open_state=60.0,
        open_backoff="fixed",
        max_wait_duration_in_open_state=math.inf,
        strict_open_expiry=True,
        half_open="rate",
        permitted_number_of_calls_in_half_open_state=10,
        max_wait_duration_in_half_open_state=0.0,
        half_open_timeout_state="open",
        record=ALL,
    ),
    # FailureRatio 0.1 over SamplingDuration 30 s, MinimumThroughput 100, checked on a
    # handled failure; BreakDuration 5 s (>=); one probe.
    "polly": BreakerPolicy(
        library="polly",
        window="sampling",
        window_duration=30.0,
        failure_rate_threshold=0.1,
        minimum_number_of_calls=100,
        check="on_failure",
        wait_duration_in_open_state=5.0,
        strict_open_expiry=False,
        half_open="probe",
        permitted_number_of_calls_in_half_open_state=1,
        record=ALL,
    ),
    # 50 % (integer-truncated) over 20 requests in a 10 s window of 500 ms buckets, judged at
    # snapshots every 500 ms; sleep 5 s (strictly after); one probe.
    "hystrix": BreakerPolicy(
        library="hystrix",
        window="rolling",
        window_duration=10.0,
        bucket_duration=0.5,
        failure_rate_threshold=0.5,
        minimum_number_of_calls=20,
        truncate_rate=True,
        check="snapshot",
        wait_duration_in_open_state=5.0,
        strict_open_expiry=True,
        half_open="probe",
        permitted_number_of_calls_in_half_open_state=1,
        record=ALL,
    ),
    # fail_max 5 in a row, reset_timeout 60 s (>=, on datetime's microseconds), one success.
    "pybreaker": BreakerPolicy(
        library="pybreaker",
        window="consecutive",
        failure_rate_threshold=None,
        failure_count_threshold=5,
        minimum_number_of_calls=1,
        check="on_failure",
        wait_duration_in_open_state=60.0,
        strict_open_expiry=False,
        microsecond_clock=True,
        half_open="successes",
        permitted_number_of_calls_in_half_open_state=None,
        success_threshold=1,
        record=ALL,
    ),
    # failure_threshold 5 in a row, recovery_timeout 30 s (>=), one success.
    "circuitbreaker": BreakerPolicy(
        library="circuitbreaker",
        window="consecutive",
        failure_rate_threshold=None,
        failure_count_threshold=5,
        minimum_number_of_calls=1,
        check="on_failure",
        wait_duration_in_open_state=30.0,
        strict_open_expiry=False,
        half_open="successes",
        permitted_number_of_calls_in_half_open_state=None,
        success_threshold=1,
        record=ALL,
    ),
    # consecutive_5xx 5, base_ejection_time 30 s x ejections up to 300 s, 10 s sweeps, no
    # half-open: the host returns with full traffic.
    "envoy": BreakerPolicy(
        library="envoy",
        window="consecutive",
        failure_rate_threshold=None,
        failure_count_threshold=5,
        minimum_number_of_calls=1,
        check="every_call",
        wait_duration_in_open_state=30.0,
        open_backoff="envoy",
        max_wait_duration_in_open_state=300.0,
        sweep_interval=10.0,
        half_open="none",
        permitted_number_of_calls_in_half_open_state=None,
        record=ALL,
    ),
    # The paper: 10 failures within 60 s, open 30 s, one trial call that must succeed.
    "absolute": BreakerPolicy(
        library="absolute",
        window="absolute",
        window_duration=60.0,
        failure_rate_threshold=None,
        failure_count_threshold=10,
        minimum_number_of_calls=1,
        check="on_failure",
        wait_duration_in_open_state=30.0,
        strict_open_expiry=False,
        half_open="successes",
        permitted_number_of_calls_in_half_open_state=1,
        success_threshold=1,
        record=ALL,
    ),
}


@pytest.mark.parametrize("library", sorted(DOCUMENTED))
def test_preset_defaults_are_the_documented_policy(library: str) -> None:
    assert BreakerPolicy.preset(library) == DOCUMENTED[library]


@pytest.mark.parametrize(
    ("library", "params", "fields"),
    [
        (
            "hystrix",
            {
                "metrics_health_snapshot_interval_in_milliseconds": 250,
                "metrics_rolling_statistical_window_in_milliseconds": 4000,
                "circuit_breaker_sleep_window_in_milliseconds": 2500,
                "ignore_exceptions": ["rejected"],
            },
            {
                "bucket_duration": 0.25,
                "window_duration": 4.0,
                "wait_duration_in_open_state": 2.5,
                "ignore": frozenset({"rejected"}),
            },
        ),
        (
            "absolute",
            {"time_window": "2m", "failure_count": 4, "open_duration": "45s", "half_open_calls": 3},
            {
                "window_duration": 120.0,
                "failure_count_threshold": 4,
                "wait_duration_in_open_state": 45.0,
                "permitted_number_of_calls_in_half_open_state": 3,
                "success_threshold": 3,
            },
        ),
        ("pybreaker", {"success_threshold": 2, "exclude": ["timeout"]}, {"success_threshold": 2}),
        ("circuitbreaker", {"expected_exception": ["connection"]}, {}),
        ("envoy", {"interval": "30s", "max_ejection_time": "2m"}, {"sweep_interval": 30.0}),
    ],
)
def test_preset_parameters_reach_their_fields(
    library: str, params: dict[str, object], fields: dict[str, object]
) -> None:
    policy = BreakerPolicy.preset(library, **params)
    for name, value in fields.items():
        assert getattr(policy, name) == value, name
    if library == "pybreaker":
        assert policy.record == ALL - {"timeout"}  # an excluded exception is a success
    if library == "circuitbreaker":
        assert policy.record == frozenset({"connection"})
    if library == "envoy":
        assert policy.max_wait_duration_in_open_state == 120.0


def test_an_unknown_parameter_is_named_with_the_nearest_known_one() -> None:
    with pytest.raises(ValueError) as info:
        BreakerPolicy.preset("pybreaker", fail_maxx=3)
    assert str(info.value) == (
        "unknown pybreaker parameter 'fail_maxx'; did you mean 'fail_max'? "
        "(known: fail_max, reset_timeout, success_threshold, exclude)"
    )


def test_an_unknown_parameter_without_a_near_one_lists_the_known() -> None:
    with pytest.raises(ValueError) as info:
        BreakerPolicy.preset("envoy", zzz=1)
    assert str(info.value) == (
        "unknown envoy parameter 'zzz' "
        "(known: consecutive_5xx, interval, base_ejection_time, max_ejection_time)"
    )


def test_r4j_wait_duration_ends_in_the_state_it_names() -> None:
    closed = BreakerPolicy.preset("resilience4j", transition_to_state_after_wait_duration="CLOSED")
    assert closed.half_open_timeout_state == "closed"
    assert BreakerPolicy.preset("resilience4j").half_open_timeout_state == "open"


def test_a_bad_value_in_a_list_names_its_place() -> None:
    with pytest.raises(ValueError) as info:
        BreakerPolicy.preset("resilience4j", record_exceptions=["timeout", "nope"])
    assert str(info.value).startswith("resilience4j.record_exceptions.1: ")


def test_opossum_parameters_in_milliseconds_and_percent() -> None:
    # opossum's defaults: errorThresholdPercentage 50, resetTimeout 30000 ms,
    # rollingCountTimeout 10000 ms in rollingCountBuckets 10, volumeThreshold 0, and with
    # allowWarmUp the circuit does not open during the first rollingCountTimeout.
    policy = BreakerPolicy.preset("opossum")
    assert (policy.library, policy.window) == ("opossum", "opossum")
    assert (policy.window_duration, policy.bucket_count) == (10.0, 10)
    assert (policy.failure_rate_threshold, policy.wait_duration_in_open_state) == (0.5, 30.0)
    assert (policy.volume_threshold, policy.warm_up) == (0, 0.0)
    warm = BreakerPolicy.preset("opossum", allow_warm_up=True, rolling_count_timeout=5000)
    assert warm.warm_up == 5.0 and warm.window_duration == 5.0
    filtered = BreakerPolicy.preset("opossum", error_filter=["rejected"])
    assert filtered.record == ALL - {"rejected"}  # a filtered error is a success


def test_cockatiel_parameters() -> None:
    # cockatiel: ConsecutiveBreaker(5), halfOpenAfter 10000 ms as a constant backoff; an
    # ExponentialBackoff doubles up to its maxDelay; SamplingBreaker(threshold, duration).
    policy = BreakerPolicy.preset("cockatiel")
    assert (policy.window, policy.failure_count_threshold) == ("consecutive", 5)
    assert policy.failure_rate_threshold is None
    assert (policy.wait_duration_in_open_state, policy.open_backoff) == (10.0, "fixed")
    assert policy.max_wait_duration_in_open_state == math.inf
    exponential = BreakerPolicy.preset(
        "cockatiel", half_open_backoff="exponential", half_open_max_delay=45000
    )
    assert exponential.open_backoff == "exponential"
    assert exponential.max_wait_duration_in_open_state == 45.0
    sampling = BreakerPolicy.preset("cockatiel", breaker="sampling", threshold=0.2, duration=5000)
    assert (sampling.window, sampling.window_duration) == ("cockatiel", 5.0)
    assert (sampling.failure_rate_threshold, sampling.failure_count_threshold) == (0.2, None)
