"""Localisation of saliency maps against ground-truth fracture shapes, with CIs.

Per image and method (the map resized to the image's own size, see
:func:`medxai.metrics.localisation.localisation_row`): pointing game (hit = 1), relevance
mass, relevance rank, IoU at Otsu's threshold and AUPRC. Per method: the mean over
images with a percentile bootstrap 95 % CI (images resampled). Per pair of methods: the
mean of the per-image differences with its CI, which is tighter than comparing two
separate intervals because both maps are measured on the same images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from medxai.audit.samples import AuditImage
from medxai.metrics.bootstrap import Estimate, mean_ci
from medxai.metrics.localisation import LOCALISATION_COLUMNS, localisation_row

__all__ = ["METRICS", "localisation_values", "paired_difference", "summarise_localisation"]

#: The metrics, in table order.
METRICS: tuple[str, ...] = LOCALISATION_COLUMNS


def localisation_values(
    images: Sequence[AuditImage], maps: Mapping[str, np.ndarray]
) -> dict[str, dict[str, np.ndarray]]:
    """``{method: {metric: values per image}}``; NaN for an image without annotation.

    ``maps[method]`` is ``B×S×S`` for the ``B`` images, in order.
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    for method, stack in maps.items():
        if len(stack) != len(images):
            raise ValueError(f"{method}: {len(stack)} maps for {len(images)} images")
        values = {m: np.full(len(images), np.nan) for m in METRICS}
        for i, image in enumerate(images):
            row = localisation_row(torch.from_numpy(np.asarray(stack[i])), image.annotation)
            for m in METRICS:
                values[m][i] = row[m]
        out[method] = values
    return out


def summarise_localisation(
    values: Mapping[str, Mapping[str, np.ndarray]], seed: int = 0
) -> list[dict[str, object]]:
    """One row per method: ``{"method", metric: Estimate, ...}``."""
    rows: list[dict[str, object]] = []
    for method, per_metric in values.items():
        row: dict[str, object] = {"method": method}
        for m in METRICS:
            row[m] = mean_ci(per_metric[m], seed=seed, name=f"{method}:{m}")
        rows.append(row)
    return rows


def paired_difference(
    values: Mapping[str, Mapping[str, np.ndarray]], a: str, b: str, seed: int = 0
) -> dict[str, Estimate]:
    """``metric → mean of (a − b)`` over images, with a bootstrap CI."""
    return {
        m: mean_ci(values[a][m] - values[b][m], seed=seed, name=f"{a}-{b}:{m}") for m in METRICS
    }
