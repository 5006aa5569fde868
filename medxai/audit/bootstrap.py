"""Percentile bootstrap confidence intervals of any statistic.

For data ``D`` (one or more arrays sharing their first axis, the resampling unit) and a
statistic ``T``, draw ``B`` resamples ``D*_b`` of the ``n`` units with replacement, and
report ``T(D)`` with the ``100·(1−level)/2`` and ``100·(1+level)/2`` percentiles of
``{T(D*_b)}`` (numpy's linear interpolation). Resamples on which ``T`` is not finite
(e.g. an AUROC of a resample holding one class only) are left out; if fewer than half
remain, the bounds are NaN. The mean of finite values is
:func:`medxai.evaluate.bootstrap.bootstrap_mean`, re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from medxai.evaluate.bootstrap import Estimate, bootstrap_mean, cell_rng

__all__ = ["Estimate", "bootstrap_ci", "bootstrap_mean", "cell_rng", "mean_ci"]


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
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return Estimate(n, value, float(low), float(high))


def mean_ci(
    values: np.ndarray, *, seed: int = 0, name: str = "", resamples: int = 2000
) -> Estimate:
    """Mean of the finite ``values`` with its 95 % CI; the generator is seeded by ``seed``
    and ``name`` (:func:`~medxai.evaluate.bootstrap.cell_rng`), so results repeat."""
    return bootstrap_mean(np.asarray(values, dtype=np.float64), resamples=resamples,
                          rng=cell_rng(seed, name))
