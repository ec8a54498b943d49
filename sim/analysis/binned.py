"""Per-bin statistics of orders accumulated a run at a time, exactly as pandas would
compute them over every order at once, in memory that does not grow with the runs.

A bin's values are kept as distinct values with counts: stored times are whole
milliseconds, so a bin holds a few thousand distinct latencies however many orders and
replications fall in it, and its quantiles are those of the full multiset.
"""

from __future__ import annotations

import numpy as np


class BinnedValues:
    """A multiset of float values per integer key: ``add`` values, read ``quantiles``."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0, dtype=np.float64)
        self.counts = np.zeros(0, dtype=np.int64)

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """``values[i]`` in bin ``keys[i]`` (NaN values are left out, as pandas does)."""
        kept = ~np.isnan(values)
        keys = np.asarray(keys, dtype=np.int64)[kept]
        values = np.asarray(values, dtype=np.float64)[kept]
        # Distinct within the part first: merging then sorts few more than the kept ones.
        keys, values, counts = _distinct(keys, values, np.ones(keys.size, dtype=np.int64))
        self.keys, self.values, self.counts = _distinct(
            np.concatenate([self.keys, keys]),
            np.concatenate([self.values, values]),
            np.concatenate([self.counts, counts]),
        )

    def quantiles(self, levels: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys, quantiles: one row per key and a column per level, sizes), each
        quantile interpolated linearly as ``pandas.core.groupby`` does: position
        ``q * (n - 1)``, the value there, plus the step to the next times the fraction."""
        keys, first = np.unique(self.keys, return_index=True)
        ends = np.append(first[1:], self.keys.size)
        cumulative = np.cumsum(self.counts)  # orders up to and including each value
        before = np.where(first > 0, cumulative[first - 1], 0)
        sizes = cumulative[ends - 1] - before if keys.size else np.zeros(0, dtype=np.int64)
        out = np.empty((keys.size, len(levels)))
        for k, q in enumerate(levels):
            position = q * (sizes - 1).astype(np.float64)
            low = position.astype(np.int64)
            fraction = position % 1
            value = self._at(before + low, first, ends, cumulative)
            step = self._at(before + np.minimum(low + 1, sizes - 1), first, ends, cumulative)
            out[:, k] = np.where(fraction == 0.0, value, value + (step - value) * fraction)
        return keys, out, sizes

    def _at(
        self, rank: np.ndarray, first: np.ndarray, ends: np.ndarray, cumulative: np.ndarray
    ) -> np.ndarray:
        """The value at 0-based ``rank`` among all orders (each key's ranks in its range)."""
        where = np.searchsorted(cumulative, rank, side="right")
        return np.asarray(self.values[np.clip(where, first, ends - 1)])


def _distinct(
    keys: np.ndarray, values: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (key, value) pairs sorted, each once, with their counts added up."""
    order = np.lexsort((values, keys))
    keys, values, counts = keys[order], values[order], counts[order]
    del order
    new = np.ones(keys.size, dtype=bool)
    new[1:] = (keys[1:] != keys[:-1]) | (values[1:] != values[:-1])
    starts = np.flatnonzero(new)
    summed = np.add.reduceat(counts, starts) if starts.size else counts[:0]
    return keys[starts], values[starts], summed
