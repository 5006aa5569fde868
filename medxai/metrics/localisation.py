"""Localisation of a saliency map against a binary mask (an annotation, a cast mask).

Every function takes a saliency map ``s`` (``H×W``, float, ``≥ 0``; a numpy array or a
torch tensor, leading singleton dimensions such as ``1×1×H×W`` are squeezed) and a mask
``m`` of the same ``H×W`` (bool, or anything whose non-zero pixels are "inside"), and
returns a plain Python ``bool``/``float``.

Conventions shared by all functions:

- ``Ω`` is the set of pixels, ``M = {p : m(p)}`` the mask, ``|M|`` its pixel count.
- An empty mask raises :class:`ValueError`: there is nothing to localise, and a silent
  ``0`` or ``NaN`` would corrupt averages (and ``NaN`` is not valid JSON).
- Non-finite saliency values raise :class:`ValueError`.

:func:`localisation_row` measures one map against an image's ground truth (annotation and
cast masks, :mod:`medxai.io.masks`) with every metric: the one row builder of the report,
``medxai evaluate`` and the audits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

__all__ = [
    "COLUMN_TITLES",
    "LOCALISATION_COLUMNS",
    "as_map_and_mask",
    "auprc",
    "iou_at_otsu",
    "localisation_row",
    "pointing_game",
    "relevance_mass",
    "relevance_rank",
]


def _to_numpy(array: Any) -> np.ndarray:
    if hasattr(array, "detach"):  # torch tensor, without importing torch here
        array = array.detach().cpu().numpy()
    return np.asarray(array)


def as_map_and_mask(saliency: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert to a float64 ``H×W`` map and a bool ``H×W`` mask.

    Raises:
        ValueError: not 2-D after squeezing, different shapes, an empty mask, or a
            non-finite saliency value.
    """
    s = _to_numpy(saliency).astype(np.float64)
    m = _to_numpy(mask).astype(bool)
    while s.ndim > 2 and s.shape[0] == 1:
        s = s[0]
    while m.ndim > 2 and m.shape[0] == 1:
        m = m[0]
    if s.ndim != 2 or m.ndim != 2:
        raise ValueError(f"expected H×W arrays, got saliency {s.shape} and mask {m.shape}")
    if s.shape != m.shape:
        raise ValueError(f"saliency {s.shape} and mask {m.shape} differ in size")
    if not m.any():
        raise ValueError("the mask is empty: localisation is undefined")
    if not np.isfinite(s).all():
        raise ValueError("the saliency map holds non-finite values")
    return s, m


def pointing_game(saliency: Any, mask: Any, tolerance_px: float = 0) -> bool:
    """Pointing game (Zhang et al. 2016): does the map's maximum fall on the mask?

    ``p* = `` the **first** maximum of ``s`` in raster (row-major) order, i.e.
    ``np.argmax(s)``; ties are not searched, so a flat map cannot win by having many
    maxima. Hit ⟺ ``d(p*, M) ≤ tolerance_px``, where ``d`` is the Euclidean distance (in
    pixels) from ``p*`` to the nearest mask pixel (``0`` inside the mask), i.e. the
    mask dilated by a disc of radius ``tolerance_px``.

    A map with no positive value (all zero) points nowhere and is a miss.
    """
    if tolerance_px < 0:
        raise ValueError(f"tolerance_px must be ≥ 0, got {tolerance_px}")
    s, m = as_map_and_mask(saliency, mask)
    if not (s > 0).any():
        return False
    row, col = np.unravel_index(int(np.argmax(s)), s.shape)
    if m[row, col]:
        return True
    if tolerance_px == 0:
        return False
    distance = ndimage.distance_transform_edt(~m)
    return bool(distance[row, col] <= tolerance_px)


def relevance_mass(saliency: Any, mask: Any) -> float:
    """Relevance mass accuracy (Arras et al. 2022): ``Σ_{p∈M} s(p) / Σ_{p∈Ω} s(p)``.

    ``0`` for an all-zero map. Negative values are not expected (maps are ``≥ 0``) and
    raise :class:`ValueError`.
    """
    s, m = as_map_and_mask(saliency, mask)
    if (s < 0).any():
        raise ValueError("relevance mass needs a non-negative saliency map")
    total = float(s.sum())
    if total == 0.0:
        return 0.0
    return float(s[m].sum()) / total


def relevance_rank(saliency: Any, mask: Any) -> float:
    """Relevance rank accuracy (Arras et al. 2022): ``|P_K ∩ M| / K`` with ``K = |M|``.

    ``P_K`` is the set of the ``K`` highest-ranked pixels of ``s``. Ties are ranked in
    raster order (a stable sort of ``−s``), so the result is deterministic.
    """
    s, m = as_map_and_mask(saliency, mask)
    k = int(m.sum())
    order = np.argsort(-s.ravel(), kind="stable")[:k]
    return float(m.ravel()[order].sum()) / k


def iou_at_otsu(saliency: Any, mask: Any) -> float:
    """IoU of the Otsu-thresholded map with the mask: ``|B ∩ M| / |B ∪ M|``.

    ``B = {p : s(p) > t}`` with ``t = skimage.filters.threshold_otsu(s)`` (the threshold
    maximising the between-class variance of the map's histogram; ``>`` as in skimage's
    own convention for foreground). A constant map has no foreground (``B = ∅``) and
    scores ``0``.
    """
    s, m = as_map_and_mask(saliency, mask)
    if float(s.max()) == float(s.min()):
        return 0.0
    b = s > threshold_otsu(s)
    union = int((b | m).sum())
    return float((b & m).sum()) / union


def auprc(saliency: Any, mask: Any) -> float:
    """Area under the precision–recall curve of ``s`` as a pixel classifier for ``M``.

    Average precision, as ``sklearn.metrics.average_precision_score``:
    ``AP = Σ_n (R_n − R_{n−1}) · P_n`` over the distinct values ``t_1 > t_2 > …`` of
    ``s``, with ``P_n``/``R_n`` the precision/recall of ``{p : s(p) ≥ t_n}`` and
    ``R_0 = 0``. Tied pixels enter together. A constant map gives ``|M| / |Ω|``
    (the prevalence).
    """
    s, m = as_map_and_mask(saliency, mask)
    values = s.ravel()
    labels = m.ravel()
    order = np.argsort(-values, kind="stable")
    values, labels = values[order], labels[order]
    true_pos = np.cumsum(labels)
    # keep the last index of each run of equal values: ties enter together
    last = np.r_[np.nonzero(np.diff(values))[0], values.size - 1]
    tp = true_pos[last].astype(np.float64)
    precision = tp / (last + 1)
    recall = tp / tp[-1]
    recall_step = np.diff(np.r_[0.0, recall])
    return float((recall_step * precision).sum())


#: Localisation columns against the annotation mask, in table order.
LOCALISATION_COLUMNS: tuple[str, ...] = (
    "pointing_game",
    "relevance_mass",
    "relevance_rank",
    "iou_otsu",
    "auprc",
)

#: Column → its title in tables, reports and DICOM SR.
COLUMN_TITLES: dict[str, str] = {
    "pointing_game": "Pointing game hit",
    "relevance_mass": "Saliency mass inside",
    "relevance_rank": "Relevance rank",
    "iou_otsu": "IoU at Otsu threshold",
    "auprc": "AUPRC",
}

#: Column → metric; a pointing-game hit is recorded as ``1.0`` and a miss as ``0.0``, so
#: that its mean over images is the hit rate.
_COLUMN_METRICS = {
    "pointing_game": pointing_game,
    "relevance_mass": relevance_mass,
    "relevance_rank": relevance_rank,
    "iou_otsu": iou_at_otsu,
    "auprc": auprc,
}


def _at_mask_size(saliency: Any, mask: np.ndarray) -> Any:
    """``saliency`` itself when it is an array already at the mask's size, else the map
    brought there by :func:`medxai.metrics.geometry.map_at`."""
    if isinstance(saliency, np.ndarray) and saliency.shape == mask.shape:
        return saliency
    from medxai.metrics.geometry import map_at

    return map_at(saliency, *mask.shape)


def localisation_row(
    saliency: Any,
    annotation: np.ndarray | None,
    cast: np.ndarray | None = None,
    columns: tuple[str, ...] = LOCALISATION_COLUMNS,
) -> dict[str, float]:
    """One map measured against an image's ground truth: ``{column: value}``.

    ``saliency`` is a map at the masks' (original image) size, or at the model's input
    size (it is then resized, :func:`medxai.metrics.geometry.map_at`). ``columns`` (a
    subset of :data:`LOCALISATION_COLUMNS`) are measured against ``annotation`` and
    ``cast_mass`` (the relevance mass) against ``cast``; a missing mask (``None``) gives
    NaN columns. Values are floats.
    """
    unknown = set(columns) - set(LOCALISATION_COLUMNS)
    if unknown:
        raise ValueError(f"unknown localisation columns {sorted(unknown)}")
    row = dict.fromkeys((*columns, "cast_mass"), float("nan"))
    if annotation is not None:
        s = _at_mask_size(saliency, annotation)
        for column in columns:
            row[column] = float(_COLUMN_METRICS[column](s, annotation))
    if cast is not None:
        row["cast_mass"] = relevance_mass(_at_mask_size(saliency, cast), cast)
    return row
