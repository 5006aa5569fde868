"""Percentile bootstrap confidence intervals: of a mean, and of any statistic.

For data ``D`` (one or more arrays sharing their first axis, the resampling unit) and a
statistic ``T``, draw ``B`` resamples ``D*_b`` of the ``n`` units with replacement
(default ``B = 2000``), and report ``T(D)`` with the ``100·(1−level)/2`` and
``100·(1+level)/2`` percentiles of ``{T(D*_b)}`` (numpy's linear interpolation;
:func:`percentile_interval`).

- :func:`bootstrap_mean`: ``T`` is the mean of the finite values (NaN values are left
  out: an image without an annotation has no localisation value). One value gives the
  degenerate interval ``[v, v]``.
- :func:`bootstrap_ci`: any ``T``. Resamples on which ``T`` is not finite (e.g. an AUROC
  of a resample holding one class only) are left out; if fewer than half remain, the
  bounds are NaN.

Generators are seeded by a run's seed and a cell's name (:func:`cell_rng`), so a table's
CIs depend only on its values.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Resamples of a mean held in memory at once.
_CHUNK = 250


@dataclass(frozen=True)
class Estimate:
    """A statistic of ``n`` values with its CI bounds (NaN when ``n`` is 0)."""

    n: int
    mean: float
    low: float
    high: float


def cell_rng(seed: int, name: str) -> np.random.Generator:
    """The generator for one summary cell: seeded by ``seed`` and the cell's ``name``."""
    return np.random.default_rng([int(seed) % (2**32), zlib.crc32(name.encode("utf-8"))])


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The ``100·(1−level)/2`` and ``100·(1+level)/2`` percentiles of ``values``."""
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


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
    return Estimate(n, mean, *percentile_interval(means, level))


def mean_ci(
    values: np.ndarray, *, seed: int = 0, name: str = "", resamples: int = 2000
) -> Estimate:
    """:func:`bootstrap_mean` (95 %) with the generator :func:`cell_rng` ``(seed, name)``."""
    return bootstrap_mean(
        np.asarray(values, dtype=np.float64), resamples=resamples, rng=cell_rng(seed, name)
    )


def bootstrap_ci(
    statistic: Callable[..., float],
    *arrays: np.ndarray,
    resamples: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator,
) -> Estimate:
    """``statistic(*arrays)`` with its percentile bootstrap CI (module doc).

    The arrays are resampled together, by the same row indices.
    """
    data = [np.asarray(a) for a in arrays]
    if not data:
        raise ValueError("bootstrap_ci needs at least one array")
    n = len(data[0])
    if any(len(a) != n for a in data):
        raise ValueError("the arrays must have the same length")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n == 0:
        return Estimate(0, math.nan, math.nan, math.nan)
    value = float(statistic(*data))
    values = np.empty(resamples, dtype=np.float64)
    for b in range(resamples):
        picks = rng.integers(0, n, size=n)
        values[b] = statistic(*(a[picks] for a in data))
    values = values[np.isfinite(values)]
    if values.size < max(1, resamples // 2):
        return Estimate(n, value, math.nan, math.nan)
    return Estimate(n, value, *percentile_interval(values, level))
