"""Localisation metrics on tiny maps whose answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from medxai.metrics.localisation import (
    auprc,
    iou_at_otsu,
    pointing_game,
    relevance_mass,
    relevance_rank,
)


def test_pointing_game_hit_and_miss() -> None:
    s = np.zeros((5, 5))
    s[0, 0] = 1.0
    mask = np.zeros((5, 5), bool)
    mask[3, 3] = True
    assert pointing_game(s, mask) is False
    # distance from (0, 0) to (3, 3) is √18 ≈ 4.243 px
    assert pointing_game(s, mask, tolerance_px=4) is False
    assert pointing_game(s, mask, tolerance_px=4.25) is True
    mask[0, 0] = True
    assert pointing_game(s, mask) is True


def test_pointing_game_ties_use_the_first_maximum_and_zero_map_misses() -> None:
    s = np.array([[1.0, 1.0], [0.0, 0.0]])
    assert pointing_game(s, np.array([[0, 1], [0, 0]], bool)) is False  # first max is (0,0)
    assert pointing_game(s, np.array([[1, 0], [0, 0]], bool)) is True
    assert pointing_game(np.zeros((2, 2)), np.ones((2, 2), bool)) is False


def test_relevance_mass() -> None:
    s = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[0, 1], [0, 1]], bool)
    assert relevance_mass(s, mask) == pytest.approx((2 + 4) / 10)
    assert relevance_mass(np.zeros((2, 2)), mask) == 0.0


def test_relevance_rank() -> None:
    s = np.array([[4.0, 3.0], [2.0, 1.0]])
    # K = 2: the top two pixels are (0,0) and (0,1); only (0,1) is inside
    assert relevance_rank(s, np.array([[0, 1], [1, 0]], bool)) == pytest.approx(0.5)
    assert relevance_rank(s, np.array([[1, 1], [0, 0]], bool)) == pytest.approx(1.0)
    # K = 1 and a three-way tie: raster order puts (0,0) first, outside the mask
    flat = np.array([[1.0, 1.0], [1.0, 0.0]])
    assert relevance_rank(flat, np.array([[0, 0], [1, 0]], bool)) == 0.0


def test_iou_at_otsu() -> None:
    s = np.array([[0.0, 0.0], [1.0, 1.0]])  # Otsu threshold 0.5: B = bottom row
    mask = np.array([[0, 0], [1, 0]], bool)
    assert iou_at_otsu(s, mask) == pytest.approx(1 / 2)
    assert iou_at_otsu(s, np.array([[0, 0], [1, 1]], bool)) == pytest.approx(1.0)
    assert iou_at_otsu(np.full((2, 2), 0.3), mask) == 0.0  # constant map: no foreground


def test_auprc() -> None:
    s = np.array([[0.9, 0.8], [0.8, 0.1]])
    mask = np.array([[1, 0], [1, 0]], bool)
    # t=0.9: P=1, R=1/2;  t=0.8 (tie enters together): P=2/3, R=1
    expected = 0.5 * 1.0 + 0.5 * (2 / 3)
    assert auprc(s, mask) == pytest.approx(expected)
    assert auprc(np.full((2, 2), 0.5), mask) == pytest.approx(0.5)  # prevalence
    assert auprc(np.array([[1.0, 0.0], [1.0, 0.0]]), mask) == pytest.approx(1.0)


def test_torch_inputs_and_leading_singletons() -> None:
    s = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    mask = torch.tensor([[0, 1], [0, 1]], dtype=torch.bool)
    value = relevance_mass(s, mask)
    assert isinstance(value, float)
    assert math.isclose(value, 0.6)
    assert isinstance(pointing_game(s, mask), bool)


@pytest.mark.parametrize(
    "fn", [pointing_game, relevance_mass, relevance_rank, iou_at_otsu, auprc]
)
def test_invalid_inputs_raise(fn) -> None:
    s = np.ones((2, 2))
    with pytest.raises(ValueError, match="empty"):
        fn(s, np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="differ"):
        fn(s, np.ones((3, 3), bool))
