"""Pure resilience state machines driven by an explicit ``now``: no simpy, no I/O.

Any of them can be tested alone or driven by another tool on simulated time.
"""

from sim.resilience import nodebreakers  # registers opossum's and cockatiel's rules
from sim.resilience.backoff import RetryPolicy
from sim.resilience.breaker import BreakerPolicy, CircuitBreaker

__all__ = ["BreakerPolicy", "CircuitBreaker", "RetryPolicy", "nodebreakers"]
