"""Per-bin quantiles accumulated part by part (sim.analysis.binned) equal pandas'
groupby quantiles over all the values at once, to the last bit: the report's latency
figure, read a run at a time, is the notebook's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.binned import BinnedValues

LEVELS = [0.5, 0.95, 0.99]


@pytest.mark.parametrize("seed", range(12))
def test_quantiles_over_parts_equal_pandas_over_the_whole(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4000))
    keys = rng.integers(0, int(rng.integers(1, 50)), n)
    values = np.round(rng.exponential(1.0, n), int(rng.integers(0, 4)))  # ties, as in ms
    values[rng.random(n) < 0.05] = np.nan
    binned = BinnedValues()
    for part in np.array_split(np.arange(n), int(rng.integers(1, 7))):
        binned.add(keys[part], values[part])
    found, quantiles, sizes = binned.quantiles(LEVELS)
    frame = pd.DataFrame({"key": keys, "value": values})
    counts = frame.groupby("key")["value"].count()
    expected = frame.groupby("key")["value"].quantile(np.array(LEVELS)).unstack()[counts > 0]
    assert found.tolist() == expected.index.tolist()
    assert np.array_equal(quantiles, expected.to_numpy())  # exactly, not approximately
    assert sizes.tolist() == counts[counts > 0].tolist()


def test_ties_are_kept_once_with_their_count() -> None:
    binned = BinnedValues()
    binned.add(np.array([1, 1, 1, 2]), np.array([0.5, 0.5, 0.7, 0.1]))
    binned.add(np.array([1]), np.array([0.5]))
    assert binned.keys.tolist() == [1, 1, 2]
    assert binned.values.tolist() == [0.5, 0.7, 0.1]
    assert binned.counts.tolist() == [3, 1, 1]


def test_nothing_added_gives_no_bins() -> None:
    found, quantiles, sizes = BinnedValues().quantiles(LEVELS)
    assert found.size == 0 and quantiles.shape == (0, 3) and sizes.size == 0
