"""Insertion/deletion against explicit computations on planted models."""

from __future__ import annotations

import math

import pytest
import torch
from metric_models import ConstantLogits, RegionSum

from medxai.metrics.faithfulness import blur_baseline, insertion_deletion, pixel_ranks


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def planted():
    region = torch.zeros(8, 8)
    region[:2, :4] = 1  # |R| = 8 = HW / n with n = 8 steps
    model = RegionSum(region, a=1.0, b=-2.0)
    x = torch.ones(1, 1, 8, 8)
    perfect = region[None, None] * 0.9 + 0.05  # ranks R first
    return model, x, region, perfect


def test_map_ranking_the_planted_region_first_is_optimal() -> None:
    model, x, _, perfect = planted()
    zeros = torch.zeros_like(x)
    result = insertion_deletion(model, x, perfect, targets=1, baseline=zeros)
    low, high = sigmoid(-2.0), sigmoid(8 - 2.0)
    # step 1 moves exactly the 8 region pixels; n + 1 = 9 points
    assert torch.allclose(result.insertion[0], torch.tensor([low] + [high] * 8))
    assert torch.allclose(result.deletion[0], torch.tensor([high] + [low] * 8))
    assert result.insertion_auc[0].item() == pytest.approx((low + 8 * high) / 9, abs=1e-6)
    assert result.deletion_auc[0].item() == pytest.approx((high + 8 * low) / 9, abs=1e-6)
    assert result.difference[0].item() == pytest.approx(7 * (high - low) / 9, abs=1e-6)
    assert torch.allclose(result.fractions, torch.arange(9) / 8)

    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        other = torch.rand(1, 1, 8, 8, generator=generator)
        r = insertion_deletion(model, x, other, targets=1, baseline=zeros)
        assert r.insertion_auc[0] <= result.insertion_auc[0] + 1e-6
        assert r.deletion_auc[0] >= result.deletion_auc[0] - 1e-6


def test_constant_probability_model_gives_that_probability() -> None:
    model = ConstantLogits([math.log(0.3), math.log(0.7)])
    x = torch.randn(2, 3, 12, 10)
    maps = torch.rand(2, 1, 3, 3)
    result = insertion_deletion(model, x, maps, targets=[1, 0], batch_size=7)
    assert result.insertion.shape == (2, 13)  # n = max(12, 10) steps
    assert torch.allclose(result.insertion_auc, torch.tensor([0.7, 0.3]))
    assert torch.allclose(result.deletion_auc, torch.tensor([0.7, 0.3]))
    assert result.targets.tolist() == [1, 0]


def test_batching_and_chunking_do_not_change_the_curves() -> None:
    region = torch.zeros(6, 6)
    region[1:4, 2:5] = 1
    model = RegionSum(region, a=0.7, b=-1.0)
    x = torch.randn(3, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    maps = torch.rand(3, 1, 6, 6, generator=torch.Generator().manual_seed(2))
    together = insertion_deletion(model, x, maps, batch_size=64)
    chunked = insertion_deletion(model, x, maps, batch_size=5)
    assert torch.allclose(together.insertion, chunked.insertion)
    for i in range(3):
        one = slice(i, i + 1)
        alone = insertion_deletion(model, x[one], maps[one], targets=together.targets[one])
        assert torch.allclose(alone.deletion[0], together.deletion[i])
    # the endpoints are the blurred image and the original image
    blurred_score = torch.sigmoid(model(blur_baseline(x)))[:, 0]
    positive = together.targets == 1
    expected_start = torch.where(positive, blurred_score, 1 - blurred_score)
    assert torch.allclose(together.insertion[:, 0], expected_start, atol=1e-6)
    assert torch.allclose(together.insertion[:, -1], together.scores, atol=1e-6)
    assert torch.allclose(together.deletion[:, 0], together.scores, atol=1e-6)


def test_pixel_ranks_are_a_stable_permutation() -> None:
    maps = torch.tensor([[[[0.5, 1.0], [0.5, 0.0]]]])
    assert pixel_ranks(maps, (2, 2)).flatten().tolist() == [1, 0, 2, 3]


def test_model_flags_restored() -> None:
    model, x, _, perfect = planted()
    model.train()
    insertion_deletion(model, x, perfect, steps=4)
    assert model.training
