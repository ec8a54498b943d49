"""The arrival rate a traffic section describes, as piecewise-linear breakpoints.

Plain Python (no numpy), so the size estimate that ``validate`` makes loads nothing heavy;
``sim.dists.rate_breakpoints`` gives the same breakpoints as arrays for the arrivals.
"""

from __future__ import annotations


def breakpoints(
    base: float, changes: list[tuple[float, float, float]], horizon: float
) -> tuple[list[float], list[float]]:
    """(times, rates) of the rate, starting at ``base``, from (at, rate, ramp) changes."""
    times, rates = [0.0], [base]
    current = base
    for at, rate, ramp in changes:
        times += [at, at + ramp] if ramp > 0 else [at, at]
        rates += [current, rate]
        current = rate
    times.append(max(horizon, times[-1]))
    rates.append(current)
    return times, rates
