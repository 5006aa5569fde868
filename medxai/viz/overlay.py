"""The saliency colormap and a grayscale-aware overlay of a map on a radiograph.

The colormap is perceptually uniform and monotone in lightness (``inferno`` by default),
so a map stays readable when the report is printed in greyscale: brighter always means
more salient.

The overlay keeps the anatomy visible where the model did not look: each pixel's opacity
grows with its saliency, ``alpha_px = alpha · √s``, and the result is
``(1 − alpha_px) · gray + alpha_px · cmap(s)``.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Colormap

#: The colormap used for every saliency map in the report.
SALIENCY_CMAP = "inferno"


def saliency_colormap(name: str = SALIENCY_CMAP) -> Colormap:
    """The named matplotlib colormap (``inferno``, ``magma`` or ``viridis`` are monotone)."""
    return colormaps[name]


def to_gray_rgb(image: np.ndarray) -> np.ndarray:
    """An ``H×W`` image in ``[0, 1]`` as an ``H×W×3`` float32 RGB array."""
    gray = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    if gray.ndim != 2:
        raise ValueError(f"expected an H×W image, got shape {gray.shape}")
    return np.repeat(gray[..., None], 3, axis=2)


def overlay(
    image: np.ndarray,
    saliency: np.ndarray,
    alpha: float = 0.75,
    cmap: str = SALIENCY_CMAP,
) -> np.ndarray:
    """Blend ``saliency`` (``H×W`` in ``[0, 1]``) over the radiograph ``image`` (``H×W``).

    Returns an ``H×W×3`` float32 RGB array in ``[0, 1]``. Opacity grows with saliency,
    up to ``alpha`` where the map is 1, so unsalient anatomy is shown unaltered.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    sal = np.clip(np.nan_to_num(np.asarray(saliency, dtype=np.float32)), 0.0, 1.0)
    base = to_gray_rgb(image)
    if sal.shape != base.shape[:2]:
        raise ValueError(f"saliency {sal.shape} and image {base.shape[:2]} differ in size")
    colour = saliency_colormap(cmap)(sal)[..., :3].astype(np.float32)
    weight = (alpha * np.sqrt(sal))[..., None]
    return np.clip((1.0 - weight) * base + weight * colour, 0.0, 1.0)
