"""Percentiles and the Poly-CAM normaliser ``N``, computed with torch on the device.

``N(a) = clamp((a - p_lo) / max(p_hi, 1e-12), 0, 1)`` with ``p_lo``, ``p_hi`` the 0.1th
and 99.9th percentiles of the map ``a``. It divides by ``p_hi``, not ``p_hi - p_lo``:
that is what the published Poly-CAM numbers used (docs/polycam.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

LOW_PERCENTILE = 0.1
HIGH_PERCENTILE = 99.9
EPS = 1e-12


def _order_statistics(values: Tensor, low: int, high: int) -> tuple[Tensor, Tensor]:
    """The ``low``-th and ``high``-th smallest entries (0-based) along the last dim.

    Uses ``topk`` from whichever end is nearer, so the 0.1th/99.9th percentiles of a map
    of ``n`` values cost a partial selection of about ``0.001·n`` values, not a sort.
    """
    n = values.shape[-1]
    if high + 1 <= n - low:
        ranked = values.topk(high + 1, dim=-1, largest=False, sorted=True).values
        return ranked[..., low], ranked[..., high]
    ranked = values.topk(n - low, dim=-1, largest=True, sorted=True).values
    return ranked[..., n - 1 - low], ranked[..., n - 1 - high]


def linear_percentiles(values: Tensor, percentiles: Sequence[float]) -> Tensor:
    """Percentiles along the last dim, equal to ``numpy.percentile(..., method='linear')``.

    For ``n`` values sorted as ``v`` and a percentile ``q``: ``i = (n - 1)·q/100``,
    ``g = i - ⌊i⌋``, ``a = v[⌊i⌋]``, ``b = v[min(⌊i⌋ + 1, n - 1)]`` and the result is
    ``a + (b - a)·g`` for ``g < 0.5``, else ``b - (b - a)·(1 - g)`` (numpy's two-sided
    interpolation). The interpolation runs in float64 where the device has it.

    Returns a tensor of shape ``values.shape[:-1] + (len(percentiles),)`` in
    ``values.dtype``.
    """
    n = values.shape[-1]
    wide = torch.float32 if values.device.type == "mps" else torch.float64
    out = []
    for q in percentiles:
        index = (n - 1) * (q / 100.0)
        low = math.floor(index)
        high = min(low + 1, n - 1)
        gamma = index - low
        a, b = (v.to(wide) for v in _order_statistics(values, low, high))
        diff = b - a
        out.append(a + diff * gamma if gamma < 0.5 else b - diff * (1.0 - gamma))
    return torch.stack(out, dim=-1).to(values.dtype)


def percentile_normalize(maps: Tensor) -> Tensor:
    """``N`` applied to each map over its last two (spatial) dims; same shape, in [0, 1]."""
    flat = maps.flatten(-2)
    bounds = linear_percentiles(flat, (LOW_PERCENTILE, HIGH_PERCENTILE))
    p_lo = bounds[..., 0, None, None]
    p_hi = bounds[..., 1, None, None].clamp_min(EPS)
    return ((maps - p_lo) / p_hi).clamp(0.0, 1.0)
