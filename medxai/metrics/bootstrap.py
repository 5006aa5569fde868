"""Means with percentile bootstrap confidence intervals.

For ``n`` finite values ``v_1..v_n`` (NaN values are left out: an image without an
annotation has no localisation value), the CI is the percentile interval of ``B``
bootstrap means: resample ``n`` values with replacement ``B`` times (default 2000), take
each resample's mean, and report the 2.5th and 97.5th percentiles (numpy's linear
interpolation). The unit of resampling is the image. The generator is seeded from the
run's seed and the cell's name, so a table's CIs depend only on its values.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

#: Resamples held in memory at once.
_CHUNK = 250


@dataclass(frozen=True)
class Estimate:
    """A mean of ``n`` values with its CI bounds (NaN when ``n`` is 0)."""

    n: int
    mean: float
    low: float
    high: float


def cell_rng(seed: int, name: str) -> np.random.Generator:
    """The generator for one summary cell: seeded by ``seed`` and the cell's ``name``."""
    return np.random.default_rng([int(seed) % (2**32), zlib.crc32(name.encode("utf-8"))])


def bootstrap_mean(
    values: np.ndarray, *, resamples: int = 2000, level: float = 0.95, rng: np.random.Generator
) -> Estimate:
    """The mean of the finite ``values`` and its percentile bootstrap CI (module doc)."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    n = int(data.size)
    if n == 0:
        return Estimate(0, math.nan, math.nan, math.nan)
    mean = float(data.mean())
    if n == 1:
        return Estimate(1, mean, mean, mean)
    means = np.empty(resamples, dtype=np.float64)
    for start in range(0, resamples, _CHUNK):
        count = min(_CHUNK, resamples - start)
        picks = rng.integers(0, n, size=(count, n))
        means[start : start + count] = data[picks].mean(axis=1)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Estimate(n, mean, float(low), float(high))
