"""Old name of ``sim.config.configuration``, kept only while ``sim/resilience/backoff.py``
(under mutation testing, not to be edited meanwhile) still imports from it; delete it once
that import names ``sim.config.configuration``. Nothing else may import this module."""

from sim.config.configuration import USES_JITTER, USES_MULTIPLIER, BackoffFamily

__all__ = ["USES_JITTER", "USES_MULTIPLIER", "BackoffFamily"]
