"""The most salient regions of a map, as square crop boxes for zoomed views.

Method (documented in the report):

1. Threshold the map with Otsu's method (the threshold that best separates the map's
   histogram into two classes). A flat map has no regions.
2. Label the 8-connected components above the threshold and drop specks smaller than
   ``min_area`` (a fraction of the image).
3. Rank the components by saliency mass (the sum of the map over the component) and
   keep the top ``k``.
4. For each, a square box centred on the component's peak, with side 1.5× the larger
   side of the component's bounding box, at least ``min_side`` and at most
   ``max_side`` (fractions of the image's shorter side), shifted to stay inside the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.filters import threshold_otsu
from skimage.measure import label, regionprops


@dataclass(frozen=True)
class Region:
    """One salient component and its crop box.

    ``box`` is ``(row0, col0, row1, col1)``, half-open, in pixels of the map; ``peak`` is
    ``(row, col)``; ``mass_share`` is the component's share of the whole map's mass.
    """

    rank: int
    box: tuple[int, int, int, int]
    peak: tuple[int, int]
    area: int
    peak_value: float
    mean_value: float
    mass_share: float

    @property
    def side(self) -> int:
        """The side of the square crop, in pixels."""
        return self.box[2] - self.box[0]


def otsu_threshold(saliency: np.ndarray) -> float | None:
    """Otsu's threshold of the map, or ``None`` when the map is flat."""
    values = np.asarray(saliency, dtype=np.float64)
    if not np.isfinite(values).all() or float(values.max() - values.min()) <= 1e-12:
        return None
    return float(threshold_otsu(values))


def square_box(
    center: tuple[int, int], side: int, shape: tuple[int, int]
) -> tuple[int, int, int, int]:
    """A ``side``-pixel square centred on ``center``, shifted to lie inside ``shape``."""
    h, w = shape
    side = max(1, min(side, h, w))
    r0 = int(np.clip(center[0] - side // 2, 0, h - side))
    c0 = int(np.clip(center[1] - side // 2, 0, w - side))
    return r0, c0, r0 + side, c0 + side


def salient_regions(
    saliency: np.ndarray,
    k: int = 3,
    min_area: float = 0.0005,
    min_side: float = 0.12,
    max_side: float = 0.45,
) -> list[Region]:
    """The top ``k`` connected components of ``saliency`` above its Otsu threshold."""
    sal = np.nan_to_num(np.asarray(saliency, dtype=np.float64))
    if sal.ndim != 2:
        raise ValueError(f"expected an H×W map, got shape {sal.shape}")
    threshold = otsu_threshold(sal)
    if threshold is None or k <= 0:
        return []
    h, w = sal.shape
    components = label(sal > threshold, connectivity=2)
    total = float(sal.sum()) or 1.0
    short = min(h, w)
    lo = max(1, round(min_side * short))
    hi = max(lo, round(max_side * short))
    found = []
    for props in regionprops(components, intensity_image=sal):
        if props.area < max(1.0, min_area * h * w):
            continue
        rows, cols = props.coords[:, 0], props.coords[:, 1]
        values = sal[rows, cols]
        best = int(values.argmax())
        peak = (int(rows[best]), int(cols[best]))
        r0, c0, r1, c1 = props.bbox
        side = int(np.clip(round(1.5 * max(r1 - r0, c1 - c0)), lo, hi))
        found.append(
            (
                float(values.sum()),
                peak,
                int(props.area),
                float(values.max()),
                float(values.mean()),
                square_box(peak, side, (h, w)),
            )
        )
    found.sort(key=lambda item: (-item[0], item[1]))
    return [
        Region(
            rank=i + 1,
            box=box,
            peak=peak,
            area=area,
            peak_value=peak_value,
            mean_value=mean_value,
            mass_share=mass / total,
        )
        for i, (mass, peak, area, peak_value, mean_value, box) in enumerate(found[:k])
    ]
