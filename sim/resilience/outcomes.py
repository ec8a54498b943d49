"""The outcome of a call, as every layer names it: one set of constants for the breakers,
the retry policies, the dependencies and the order flow.

Outcomes are plain strings, because outside breakers and configuration files name them
too (``retry_on: [timeout]``); compare them with ``==``, never ``is``: a category read from
a file is an equal string, not the same object.
"""

from __future__ import annotations

from typing import Final

SUCCESS: Final = "success"
DECLINED: Final = "declined"  # the customer's bank said no: an answer, never a failure
TIMEOUT: Final = "timeout"  # no answer until the caller's timeout
CONNECTION: Final = "connection"  # refused at once
SERVER_ERROR: Final = "server_error"  # a 5xx after normal latency
REJECTED: Final = "rejected"  # a bulkhead or rate limiter refused the call
BREAKER_OPEN: Final = "breaker_open"  # an open breaker failed the call fast
ABANDONED: Final = "abandoned"  # the customer left before the call could start
CANCELLED: Final = "cancelled"  # a breaker permit taken but not used: always ignored

FAILURE_CATEGORIES: Final = (TIMEOUT, CONNECTION, SERVER_ERROR, REJECTED)
ANSWERED: Final = frozenset({SUCCESS, DECLINED})  # the dependency did its job
