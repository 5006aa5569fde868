"""The one resize of a map (metrics.geometry) and the one localisation-row builder
(metrics.localisation.localisation_row) that the report, evaluate and the audits share."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from medxai.metrics.geometry import map_at, resize_maps
from medxai.metrics.localisation import (
    COLUMN_TITLES,
    LOCALISATION_COLUMNS,
    auprc,
    iou_at_otsu,
    localisation_row,
    relevance_mass,
    relevance_rank,
)
from medxai.report.pipeline import METRICS, localisation, to_original_geometry


def _square_map() -> torch.Tensor:
    """A 1×8×8 map: a bright 2×2 block at rows 2–3, columns 4–5, a little elsewhere."""
    s = torch.full((1, 8, 8), 0.01)
    s[0, 2:4, 4:6] = 1.0
    return s


def _mask(height: int, width: int) -> np.ndarray:
    """The block of :func:`_square_map` at ``height×width`` (an exact 2× scale here)."""
    m = np.zeros((height, width), dtype=bool)
    m[4:8, 8:12] = True
    return m


def test_map_at_is_the_bilinear_resize_clamped_at_zero() -> None:
    s = torch.randn(1, 1, 5, 7)
    out = map_at(s, 11, 3)
    expected = F.interpolate(s, size=(11, 3), mode="bilinear", align_corners=False)[0, 0]
    assert out.dtype == np.float64 and out.shape == (11, 3)
    np.testing.assert_array_equal(out, expected.clamp(min=0).double().numpy())
    same = map_at(s[0, 0], 5, 7)  # same size: no resize, only the clamp
    np.testing.assert_array_equal(same, s[0, 0].clamp(min=0).double().numpy())
    np.testing.assert_array_equal(map_at(s[0, 0].numpy(), 11, 3), out)  # arrays too


def test_resize_maps_takes_batches_and_refuses_other_shapes() -> None:
    maps = torch.rand(3, 4, 4)
    assert resize_maps(maps, (8, 6)).shape == (3, 1, 8, 6)
    same = torch.rand(2, 1, 4, 4)
    assert torch.equal(resize_maps(same, (4, 4)), same)  # already at the size
    with pytest.raises(ValueError, match="B×1×h×w"):
        resize_maps(torch.rand(2, 3, 4, 4), (8, 8))


def test_a_row_measures_the_map_at_the_mask_size() -> None:
    s, mask = _square_map(), _mask(16, 16)
    row = localisation_row(s, mask)
    assert list(row) == [*LOCALISATION_COLUMNS, "cast_mass"]
    at = map_at(s, 16, 16)
    assert row["pointing_game"] == 1.0
    assert row["relevance_mass"] == relevance_mass(at, mask)
    assert row["relevance_rank"] == relevance_rank(at, mask)
    assert row["iou_otsu"] == iou_at_otsu(at, mask)
    assert row["auprc"] == auprc(at, mask)
    assert math.isnan(row["cast_mass"])
    assert 0.5 < row["relevance_mass"] < 1.0


def test_missing_masks_give_nan_and_a_cast_only_row_has_cast_mass() -> None:
    s, cast = _square_map(), ~_mask(16, 16)
    row = localisation_row(s, None, cast)
    assert all(math.isnan(row[c]) for c in LOCALISATION_COLUMNS)
    assert row["cast_mass"] == pytest.approx(1.0 - relevance_mass(map_at(s, 16, 16), ~cast))
    miss = localisation_row(s, cast)  # the peak is outside the mask
    assert miss["pointing_game"] == 0.0


def test_an_array_at_the_mask_size_is_measured_as_given() -> None:
    mask = _mask(16, 16)
    drawn = np.clip(map_at(_square_map(), 16, 16) * 1.5, 0, 1).astype(np.float32)
    row = localisation_row(drawn, mask, columns=("relevance_mass", "iou_otsu"))
    assert list(row) == ["relevance_mass", "iou_otsu", "cast_mass"]
    assert row["relevance_mass"] == relevance_mass(drawn, mask)
    assert row["iou_otsu"] == iou_at_otsu(drawn, mask)
    with pytest.raises(ValueError, match="unknown localisation columns"):
        localisation_row(drawn, mask, columns=("dice",))


def test_the_report_uses_the_same_resize_and_rows() -> None:
    s, mask = _square_map(), _mask(16, 16)
    drawn = to_original_geometry(s, 16, 16)
    assert drawn.dtype == np.float32
    np.testing.assert_array_equal(drawn, np.clip(map_at(s, 16, 16), 0, 1).astype(np.float32))
    values = localisation(drawn, mask)
    assert values["pointing_game"] is True
    row = localisation_row(drawn, mask)
    assert {k: v for k, v in values.items() if k != "pointing_game"} == {
        k: row[k] for k in METRICS if k != "pointing_game"
    }
    assert set(METRICS) <= set(LOCALISATION_COLUMNS)
    assert all(METRICS[k] == COLUMN_TITLES[k] for k in METRICS)
