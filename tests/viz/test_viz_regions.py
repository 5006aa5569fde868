"""Salient regions: Otsu components ranked by mass, square boxes inside the image."""

from __future__ import annotations

import numpy as np

from medxai.viz.regions import salient_regions, square_box


def two_blobs(h: int = 120, w: int = 100) -> np.ndarray:
    rows, cols = np.mgrid[0:h, 0:w]
    small = np.exp(-(((rows - 30) / 4.0) ** 2 + ((cols - 20) / 4.0) ** 2))
    large = 0.9 * np.exp(-(((rows - 80) / 9.0) ** 2 + ((cols - 70) / 9.0) ** 2))
    return (small + large).astype(np.float32)


def test_components_are_ranked_by_mass() -> None:
    regions = salient_regions(two_blobs(), k=3)
    assert [r.rank for r in regions] == [1, 2]
    assert regions[0].peak == (80, 70)  # the larger blob holds more mass
    assert regions[1].peak == (30, 20)
    assert regions[1].peak_value > regions[0].peak_value
    assert sum(r.mass_share for r in regions) <= 1.0


def test_boxes_are_squares_inside_the_image_around_the_peak() -> None:
    h, w = 120, 100
    for region in salient_regions(two_blobs(h, w), k=3, min_side=0.3):
        r0, c0, r1, c1 = region.box
        assert r1 - r0 == c1 - c0 == region.side >= round(0.3 * w)
        assert 0 <= r0 < r1 <= h and 0 <= c0 < c1 <= w
        assert r0 <= region.peak[0] < r1 and c0 <= region.peak[1] < c1


def test_k_limits_and_flat_maps_have_no_region() -> None:
    assert len(salient_regions(two_blobs(), k=1)) == 1
    assert salient_regions(np.zeros((20, 20)), k=3) == []
    assert salient_regions(np.full((20, 20), 0.7), k=3) == []


def test_square_box_is_shifted_inside() -> None:
    assert square_box((0, 0), 10, (50, 40)) == (0, 0, 10, 10)
    assert square_box((49, 39), 10, (50, 40)) == (40, 30, 50, 40)
    assert square_box((5, 5), 100, (50, 40)) == (0, 0, 40, 40)
