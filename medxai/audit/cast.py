"""Plaster casts: a simple segmentation, and how much saliency falls on a cast.

:func:`segment_cast` finds a broad, bright sleeve with a threshold and morphology only
(no training), for data sets such as MURA that come without cast masks:

1. ``s = G_σ * x``: a Gaussian blur with ``σ = 1.5 %`` of the longer side (at least one
   pixel) evens out plaster texture and noise;
2. ``t₀ = Otsu(s)`` splits the body from the background, ``t₁ = Otsu(s[s > t₀])`` the
   bright (bone, plaster) from the soft tissue inside the body; the threshold is
   ``t = t₀ + λ·(t₁ − t₀)`` with ``λ = 0.5`` by default;
3. ``B = open(s > t, D_ρ)``: an opening with a disc of radius ``ρ = 8 %`` of the longer
   side removes what is thinner than the disc (bones, fingers, soft tissue edges) and
   keeps broad regions;
4. connected components smaller than ``3 %`` of the image are dropped and holes filled.

It is a baseline, not a validated detector. On phantom radiographs (64 px, seed 1) its
mean IoU with the true cast masks was about 0.5 for fingers and 0.8 for hands, wrists
and forearms; on images without a cast it still marks broad bright soft tissue (5–20 %
of the image on average), so check its masks by eye, or draw casts as annotations.

:func:`cast_mass` is the relevance mass of a map on the cast,
``Σ_{p∈C} s(p) / Σ_p s(p)``, next to the cast's area share ``|C| / |Ω|``: a map that
ignores the cast would put about the area share on it (if saliency were spread evenly);
the *excess* ``mass − area`` says how much more the map favours the cast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

from medxai.metrics.localisation import relevance_mass

__all__ = ["CastMass", "cast_mass", "disc", "segment_cast"]


def disc(radius: int) -> np.ndarray:
    """A boolean disc structuring element of ``radius`` pixels (``(2r+1)²``)."""
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return x * x + y * y <= radius * radius


def segment_cast(
    pixels: np.ndarray,
    *,
    blur: float = 0.015,
    split: float = 0.5,
    opening: float = 0.08,
    min_area: float = 0.03,
) -> np.ndarray:
    """A boolean ``H×W`` cast mask of the gray radiograph ``pixels`` (module doc).

    ``pixels`` is ``H×W`` of any numeric type (bright = dense). ``blur``, ``opening`` and
    ``min_area`` are fractions of the longer side (area: of the image); ``split`` is
    ``λ``. A flat image gives an empty mask.
    """
    image = np.asarray(pixels, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"expected an H×W gray image, got shape {image.shape}")
    n = max(image.shape)
    smooth = ndimage.gaussian_filter(image, max(1.0, blur * n))
    if float(smooth.max()) - float(smooth.min()) < 1e-9:
        return np.zeros(image.shape, dtype=bool)
    t0 = threshold_otsu(smooth)
    body = smooth[smooth > t0]
    t1 = threshold_otsu(body) if body.size > 1 and np.ptp(body) > 0 else t0
    bright = smooth > t0 + split * (t1 - t0)
    radius = max(1, round(opening * n))
    bright = ndimage.binary_opening(bright, disc(radius))
    labels, count = ndimage.label(bright)
    if count == 0:
        return np.zeros(image.shape, dtype=bool)
    sizes = np.asarray(ndimage.sum(bright, labels, range(1, count + 1)))
    keep = 1 + np.nonzero(sizes >= min_area * image.size)[0]
    return ndimage.binary_fill_holes(np.isin(labels, keep))


@dataclass(frozen=True)
class CastMass:
    """Saliency mass on a cast and the cast's share of the image."""

    mass: float
    area: float

    @property
    def excess(self) -> float:
        """``mass − area``: above 0 when the map favours the cast over an even spread."""
        return self.mass - self.area


def cast_mass(saliency: np.ndarray, cast: np.ndarray) -> CastMass:
    """Relevance mass of ``saliency`` on the ``cast`` mask, and the mask's area share.

    Both are ``H×W`` on the same grid (resize the map first). An empty mask raises
    :class:`ValueError`, as for every localisation metric.
    """
    mask = np.asarray(cast, dtype=bool)
    return CastMass(mass=relevance_mass(saliency, mask), area=float(mask.mean()))
