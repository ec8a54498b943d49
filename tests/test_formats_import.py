"""Importing production files: each format in its own vocabulary, its defaults for what is
unset, "did you mean" in its own names, the keys breakerlab does not simulate listed, and
``from:`` in a scenario."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from sim.config import load_scenario
from sim.config.configuration import StagePolicy
from sim.config.formats import import_file
from sim.errors import ConfigError
from sim.resilience.policy import BreakerPolicy

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def stage(block: dict[str, Any]) -> StagePolicy:
    return StagePolicy.model_validate(block)


R4J_YAML = """
resilience4j:
  circuitbreaker:
    configs:
      default:
        sliding-window-size: 40
        registerHealthIndicator: true
      strict:
        failureRateThreshold: 20
    instances:
      payment:
        baseConfig: strict
        wait_duration_in_open_state: 15000
      inventory:
        minimumNumberOfCalls: 5
  retry:
    instances:
      payment: {maxAttempts: 4, waitDuration: PT0.2S, enableExponentialBackoff: true}
  timelimiter:
    instances:
      payment: {timeoutDuration: 1500ms, cancelRunningFuture: false}
"""


def test_resilience4j_relaxed_binding_default_and_base_config(tmp_path: Path) -> None:
    imported = import_file(write(tmp_path, "application.yml", R4J_YAML), "resilience4j")
    payment = stage(imported.blocks["payment"])
    policy = BreakerPolicy.from_spec(payment.breaker)
    # strict (20 %) over resilience4j's defaults; configs.default applies only without a
    # baseConfig; a bare duration number is milliseconds (Spring's Duration).
    assert policy.failure_rate_threshold == 0.2
    assert policy.sliding_window_size == 100
    assert policy.wait_duration_in_open_state == 15.0
    inventory = BreakerPolicy.from_spec(stage(imported.blocks["inventory"]).breaker)
    assert inventory.sliding_window_size == 40 and inventory.minimum_number_of_calls == 5
    assert payment.timeout == 1.5
    assert payment.retry is not None and payment.retry.attempts == 4
    assert payment.retry.wait == 0.2 and payment.retry.multiplier == 1.5  # resilience4j's default
    assert any("registerHealthIndicator" in line for line in imported.ignored)
    assert any("cancelRunningFuture" in line for line in imported.ignored)


def test_resilience4j_properties_mean_the_same_as_yaml(tmp_path: Path) -> None:
    properties = write(
        tmp_path,
        "application.properties",
        """
        # as Spring Boot reads them
        resilience4j.circuitbreaker.configs.default.sliding-window-size=40
        resilience4j.circuitbreaker.configs.default.register-health-indicator=true
        resilience4j.circuitbreaker.configs.strict.failure-rate-threshold=20
        resilience4j.circuitbreaker.instances.payment.base-config=strict
        resilience4j.circuitbreaker.instances.payment.wait-duration-in-open-state=15000
        resilience4j.circuitbreaker.instances.inventory.minimum-number-of-calls=5
        resilience4j.retry.instances.payment.max-attempts=4
        resilience4j.retry.instances.payment.wait-duration=200ms
        resilience4j.retry.instances.payment.enable-exponential-backoff=true
        resilience4j.timelimiter.instances.payment.timeout-duration=1500ms
        resilience4j.timelimiter.instances.payment.cancel-running-future=false
        """,
    )
    from_yaml = import_file(write(tmp_path, "application.yml", R4J_YAML), "resilience4j")
    from_properties = import_file(properties, "resilience4j")
    for name in ("payment", "inventory"):
        assert stage(from_properties.blocks[name]) == stage(from_yaml.blocks[name])


def test_record_exceptions_become_categories_and_unknown_ones_are_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.properties",
        """
        resilience4j.circuitbreaker.instances.payment.record-exceptions=java.io.IOException,com.acme.PaymentDeclined
        resilience4j.circuitbreaker.instances.payment.ignore-exceptions[0]=io.github.resilience4j.bulkhead.BulkheadFullException
        """,
    )
    imported = import_file(path, "resilience4j")
    breaker = imported.blocks["payment"]["breaker"]
    assert breaker["record_exceptions"] == ["connection"]
    assert breaker["ignore_exceptions"] == ["rejected"]
    assert any("com.acme.PaymentDeclined" in line for line in imported.ignored)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "resilience4j.circuitbreaker.instances.payment.failureRateTreshold=50",
            "did you mean 'failureRateThreshold'",
        ),
        (
            "resilience4j.circuitbraker.instances.payment.failureRateThreshold=50",
            "did you mean 'circuitbreaker'",
        ),
        (
            "resilience4j.circuitbreaker.instances.payment.baseConfig=strct\nresilience4j.circuitbreaker.configs.strict.slidingWindowSize=5",
            "did you mean 'strict'",
        ),
        (
            "resilience4j.circuitbreaker.instances.payment.slidingWindowType=COUNTED",
            "COUNT_BASED, TIME_BASED",
        ),
        ("resilience4j.circuitbreaker.instances.payment.waitDurationInOpenState=soon", "duration"),
    ],
)
def test_bad_keys_and_values_name_line_and_the_sources_own_names(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "a.properties", "# comment\n" + text + "\n")
    with pytest.raises(ConfigError, match=message) as caught:
        import_file(path, "resilience4j")
    assert caught.value.line == 2 and caught.value.file == str(path)


def test_a_percent_below_one_is_kept_as_written_and_flagged(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.yml",
        "resilience4j: {circuitbreaker: {instances: {payment: {failureRateThreshold: 0.5}}}}\n",
    )
    imported = import_file(path, "resilience4j")
    policy = BreakerPolicy.from_spec(stage(imported.blocks["payment"]).breaker)
    assert policy.failure_rate_threshold == pytest.approx(0.005)
    assert any("means 0.5 % in resilience4j" in note and "50" in note for note in imported.notes)


def test_an_unknown_instance_is_refused_with_the_nearest(tmp_path: Path) -> None:
    path = write(tmp_path, "application.yml", R4J_YAML)
    with pytest.raises(ConfigError, match="did you mean 'payment'"):
        import_file(path, "resilience4j", "paymnt")
    assert list(import_file(path, "resilience4j", "payment").blocks) == ["payment"]


def test_dotnet_standard_handler_defaults_and_timespans(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "appsettings.json",
        """
        {"Logging": {"LogLevel": {"Default": "Information"}},
         "PaymentClient": {"Resilience": {
            "Retry": {"MaxRetryAttempts": 5, "BackoffType": "Linear", "Delay": "00:00:00.5",
                      "ShouldRetryAfterHeader": true},
            "CircuitBreaker": {"FailureRatio": 0.2, "SamplingDuration": "00:01:00"},
            "AttemptTimeout": {"Timeout": "00:00:02"}}}}
        """,
    )
    imported = import_file(path, "dotnet")
    payment = stage(imported.blocks["Resilience"])
    assert payment.timeout == 2.0
    assert payment.retry is not None
    assert (
        payment.retry.attempts,
        payment.retry.wait,
        payment.retry.backoff,
        payment.retry.jitter,
    ) == (6, 0.5, "linear", 0.25)
    assert payment.retry.deadline == 30.0  # TotalRequestTimeout's default
    policy = BreakerPolicy.from_spec(payment.breaker)
    assert (policy.library, policy.failure_rate_threshold, policy.window_duration) == (
        "polly",
        0.2,
        60.0,
    )
    assert policy.minimum_number_of_calls == 100 and policy.wait_duration_in_open_state == 5.0
    assert payment.bulkhead is not None and payment.bulkhead.max_concurrent_calls == 1000
    assert any("ShouldRetryAfterHeader" in line for line in imported.ignored)
    with pytest.raises(ConfigError, match="did you mean 'FailureRatio'"):
        import_file(write(tmp_path, "b.json", '{"CircuitBreaker": {"FailureRate": 0.2}}'), "dotnet")


def test_envoy_cluster_and_route_anywhere_in_a_bootstrap(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "envoy.yaml",
        """
        static_resources:
          listeners:
          - name: shop
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  route_config:
                    virtual_hosts:
                    - name: shop
                      routes:
                      - match: {prefix: /pay}
                        route:
                          cluster: payment
                          timeout: 6s
                          retry_policy:
                            retry_on: "connect-failure,refused-stream"
                            num_retries: 2
                            per_try_timeout: 2s
          clusters:
          - name: payment
            connect_timeout: 0.25s
            lb_policy: ROUND_ROBIN
            outlier_detection:
              {consecutive_5xx: 3, base_ejection_time: 10s, max_ejection_percent: 50}
            circuit_breakers:
              thresholds: [{priority: DEFAULT, max_requests: 200, max_connections: 100}]
        """,
    )
    imported = import_file(path, "envoy")
    payment = stage(imported.blocks["payment"])
    assert payment.timeout == 2.0
    assert (
        payment.retry is not None and payment.retry.attempts == 3 and payment.retry.deadline == 6.0
    )
    assert payment.retry.retry_on == ["connection"]
    policy = BreakerPolicy.from_spec(payment.breaker)
    assert (policy.library, policy.failure_count_threshold, policy.wait_duration_in_open_state) == (
        "envoy",
        3,
        10.0,
    )
    assert payment.bulkhead is not None and payment.bulkhead.max_concurrent_calls == 200
    listed = " ".join(imported.ignored)
    for key in ("max_ejection_percent", "max_connections", "refused-stream", "lb_policy"):
        assert key in listed


def test_istio_destination_rule_and_virtual_service_in_one_stream(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "istio.yaml",
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: payment}
        spec:
          host: payment.shop.svc.cluster.local
          trafficPolicy:
            outlierDetection:
              consecutive5xxErrors: 4
              interval: 5s
              baseEjectionTime: 1m
              maxEjectionPercent: 100
            connectionPool: {http: {http2MaxRequests: 300, maxRetries: 3}}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: payment}
        spec:
          hosts: [payment.shop.svc.cluster.local]
          http:
          - route: [{destination: {host: payment.shop.svc.cluster.local}}]
            timeout: 10s
            retries: {attempts: 3, perTryTimeout: 3s, retryOn: "5xx"}
        """,
    )
    imported = import_file(path, "istio")
    payment = stage(imported.blocks["payment"])
    assert payment.timeout == 3.0 and payment.retry is not None and payment.retry.attempts == 4
    policy = BreakerPolicy.from_spec(payment.breaker)
    assert (
        policy.failure_count_threshold,
        policy.sweep_interval,
        policy.wait_duration_in_open_state,
    ) == (4, 5.0, 60.0)
    assert payment.bulkhead is not None and payment.bulkhead.max_concurrent_calls == 300
    assert any("maxRetries" in line for line in imported.ignored)


def test_hystrix_default_command_under_each_command(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hystrix.properties",
        """
        hystrix.command.default.execution.isolation.thread.timeoutInMilliseconds=2000
        hystrix.command.default.circuitBreaker.requestVolumeThreshold=10
        hystrix.command.payment.circuitBreaker.errorThresholdPercentage=25
        hystrix.command.payment.fallback.enabled=false
        hystrix.command.inventory.execution.isolation.strategy=SEMAPHORE
        hystrix.command.inventory.execution.isolation.semaphore.maxConcurrentRequests=30
        hystrix.threadpool.payment.coreSize=20
        hystrix.threadpool.payment.maxQueueSize=50
        """,
    )
    imported = import_file(path, "hystrix")
    payment = stage(imported.blocks["payment"])
    assert payment.timeout == 2.0
    policy = BreakerPolicy.from_spec(payment.breaker)
    assert (policy.failure_rate_threshold, policy.minimum_number_of_calls) == (0.25, 10)
    assert payment.bulkhead is not None and payment.bulkhead.model_dump() == {
        "type": "thread_pool",
        "core_thread_pool_size": 20,
        "max_thread_pool_size": 20,
        "queue_capacity": 5,
    }
    inventory = stage(imported.blocks["inventory"])
    assert inventory.bulkhead is not None and inventory.bulkhead.max_concurrent_calls == 30
    assert any("fallback.enabled" in line for line in imported.ignored)


def test_opossum_and_cockatiel_json(tmp_path: Path) -> None:
    opossum = write(
        tmp_path,
        "opossum.json",
        '{"timeout": 3000, "errorThresholdPercentage": 40, "resetTimeout": 10000,'
        ' "capacity": 20, "cache": true, "name": "payment"}',
    )
    imported = import_file(opossum, "opossum")
    payment = stage(imported.blocks["payment"])
    policy = BreakerPolicy.from_spec(payment.breaker)
    assert (
        payment.timeout,
        policy.library,
        policy.failure_rate_threshold,
        policy.wait_duration_in_open_state,
    ) == (3.0, "opossum", 0.4, 10.0)
    assert any("cache" in line for line in imported.ignored)
    with pytest.raises(ConfigError, match="did you mean 'resetTimeout'"):
        import_file(write(tmp_path, "b.json", '{"payment": {"resetTimout": 5}}'), "opossum")
    cockatiel = write(
        tmp_path,
        "cockatiel.json",
        '{"payment": {"retry": {"maxAttempts": 2,'
        ' "backoff": {"exponential": {"initialDelay": 100}}},'
        ' "circuitBreaker": {"halfOpenAfter": 5000,'
        ' "breaker": {"sampling": {"threshold": 0.2, "duration": 30000}}},'
        ' "timeout": {"duration": 1500, "strategy": "aggressive"}}}',
    )
    payment = stage(import_file(cockatiel, "cockatiel").blocks["payment"])
    assert payment.retry is not None and (payment.retry.attempts, payment.retry.backoff) == (
        3,
        "polly_decorrelated_v2",
    )
    policy = BreakerPolicy.from_spec(payment.breaker)
    assert (policy.library, policy.window, policy.failure_rate_threshold) == (
        "cockatiel",
        "cockatiel",
        0.2,
    )


def test_pybreaker_is_read_without_running_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "breakers.py",
        """
        import pybreaker, requests
        payment_breaker = pybreaker.CircuitBreaker(
            fail_max=3, reset_timeout=20, exclude=[requests.exceptions.ConnectionError]
        )
        raise SystemExit("never run")
        """,
    )
    imported = import_file(path, "pybreaker")
    policy = BreakerPolicy.from_spec(stage(imported.blocks["payment"]).breaker)
    assert (policy.failure_count_threshold, policy.wait_duration_in_open_state) == (3, 20.0)
    assert "connection" not in policy.record
    with pytest.raises(ConfigError, match="did you mean 'fail_max'") as caught:
        import_file(
            write(
                tmp_path, "c.py", "import pybreaker\n\nb = pybreaker.CircuitBreaker(failmax=3)\n"
            ),
            "pybreaker",
        )
    assert caught.value.line == 3


def test_the_shipped_scenario_runs_what_application_yml_says() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "production_config.yaml")
    imported = import_file(ROOT / "models" / "production" / "application.yml", "resilience4j")
    deployed = loaded.scenario.configurations["as-deployed"]
    stack = deployed.payment.model_dump(include=set(StagePolicy.model_fields))
    assert stack == stage(imported.blocks["payment"]).model_dump()
    assert deployed.inventory.breaker == stage(imported.blocks["inventory"]).breaker
    proposed = loaded.scenario.configurations["proposed"].payment
    breaker = BreakerPolicy.from_spec(proposed.breaker)
    assert (
        breaker.sliding_window_size == 100 and breaker.slow_call_rate_threshold == 0.8
    )  # one change, the rest kept
    assert proposed.fallback == "secondary"
    assert (
        "from" in loaded.configurations_as_written["as-deployed"]
    )  # the report shows the reference


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("{file: missing.yml, format: resilience4j}", "production file not found"),
        ("{file: app.yml, format: springboot}", "unknown format 'springboot'"),
        ("{file: app.yml, format: resilience4j, instance: paymnt}", "did you mean 'payment'"),
        ("{file: app.yml, format: resilience4j, instanse: payment}", "unknown field 'instanse'"),
    ],
)
def test_a_bad_from_names_the_scenario_line(tmp_path: Path, reference: str, message: str) -> None:
    write(tmp_path, "app.yml", R4J_YAML)
    model = (ROOT / "models" / "reference_shop.yaml").as_posix()
    scenario = write(
        tmp_path,
        "s.yaml",
        f"""
        name: s
        model: {model}
        horizon: 10m
        configurations:
          prod:
            payment: {{from: {reference}}}
        """,
    )
    with pytest.raises(ConfigError, match=message):
        load_scenario(scenario)
