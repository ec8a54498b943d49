"""resilience4j's Spring Boot property names, per module: those breakerlab simulates and
those it lists as not simulated (a key in neither is unknown: "did you mean")."""

from __future__ import annotations

ROOT = "resilience4j"
MODULES = (
    "circuitbreaker",
    "retry",
    "timelimiter",
    "bulkhead",
    "thread-pool-bulkhead",
    "ratelimiter",
)
SECTION_KEYS = ("configs", "instances")
SECTION_NOT_SIMULATED = (
    "circuitBreakerAspectOrder",
    "retryAspectOrder",
    "bulkheadAspectOrder",
    "timeLimiterAspectOrder",
    "rateLimiterAspectOrder",
    "metrics",
    "tags",
)
BREAKER_KEYS = (
    "failureRateThreshold",
    "slowCallRateThreshold",
    "slowCallDurationThreshold",
    "slidingWindowType",
    "slidingWindowSize",
    "minimumNumberOfCalls",
    "waitDurationInOpenState",
    "permittedNumberOfCallsInHalfOpenState",
    "maxWaitDurationInHalfOpenState",
    "transitionToStateAfterWaitDuration",
    "automaticTransitionFromOpenToHalfOpenEnabled",
    "enableExponentialBackoff",
    "exponentialBackoffMultiplier",
    "exponentialMaxWaitDurationInOpenState",
    "recordExceptions",
    "ignoreExceptions",
)
COMMON_NOT_SIMULATED = (
    "eventConsumerBufferSize",
    "registerHealthIndicator",
    "allowHealthIndicatorToFail",
    "writableStackTraceEnabled",
)
BREAKER_NOT_SIMULATED = (
    *COMMON_NOT_SIMULATED,
    "recordFailurePredicate",
    "recordResultPredicate",
    "ignoreExceptionPredicate",
    "enableRandomizedWait",
    "randomizedWaitFactor",
    "initialState",
    "slidingWindowSynchronizationStrategy",
    "ignoreUnknownExceptions",
)
RETRY_KEYS = (
    "maxAttempts",
    "waitDuration",
    "enableExponentialBackoff",
    "exponentialBackoffMultiplier",
    "exponentialMaxWaitDuration",
    "enableRandomizedWait",
    "randomizedWaitFactor",
    "retryExceptions",
    "ignoreExceptions",
)
RETRY_NOT_SIMULATED = (
    *COMMON_NOT_SIMULATED,
    "failAfterMaxAttempts",
    "retryExceptionPredicate",
    "resultPredicate",
    "intervalBiFunction",
    "maxRetryAttempts",
)
TIMELIMITER_KEYS = ("timeoutDuration",)
TIMELIMITER_NOT_SIMULATED = (*COMMON_NOT_SIMULATED, "cancelRunningFuture")
BULKHEAD_KEYS = ("maxConcurrentCalls", "maxWaitDuration")
BULKHEAD_NOT_SIMULATED = (*COMMON_NOT_SIMULATED, "fairCallHandlingStrategyEnabled")
POOL_KEYS = ("coreThreadPoolSize", "maxThreadPoolSize", "queueCapacity")
POOL_NOT_SIMULATED = (*COMMON_NOT_SIMULATED, "keepAliveDuration", "contextPropagators")
LIMITER_KEYS = ("limitForPeriod", "limitRefreshPeriod", "timeoutDuration")
LIMITER_NOT_SIMULATED = (*COMMON_NOT_SIMULATED, "subscribeForEvents", "drainPermissionsOnResult")
KEYS = {
    "circuitbreaker": (BREAKER_KEYS, BREAKER_NOT_SIMULATED),
    "retry": (RETRY_KEYS, RETRY_NOT_SIMULATED),
    "timelimiter": (TIMELIMITER_KEYS, TIMELIMITER_NOT_SIMULATED),
    "bulkhead": (BULKHEAD_KEYS, BULKHEAD_NOT_SIMULATED),
    "thread-pool-bulkhead": (POOL_KEYS, POOL_NOT_SIMULATED),
    "ratelimiter": (LIMITER_KEYS, LIMITER_NOT_SIMULATED),
}
