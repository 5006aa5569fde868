"""RISE: the Monte-Carlo formula, seeding, batching and a planted model."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from medxai.cams.baselines import minmax_per_sample
from medxai.cams.rise import RISE, rise_masks


class Region(nn.Module):
    """One logit ``z = 10 · mean_R(x) − 5`` over a fixed 4×4 region ``R``."""

    def __init__(self) -> None:
        super().__init__()
        region = torch.zeros(16, 16)
        region[2:6, 9:13] = 1
        self.register_buffer("region", region)

    def forward(self, x: Tensor) -> Tensor:
        return (10 * (x[:, 0] * self.region).sum(dim=(1, 2)) / 16 - 5)[:, None]


def test_masks_are_smooth_shifted_crops() -> None:
    grids = torch.zeros(3, 4, 4, dtype=torch.bool)
    grids[0] = True
    grids[2, 1, 1] = True
    masks = rise_masks(grids, torch.tensor([[0, 0], [1, 2], [3, 3]]), (16, 12))
    assert masks.shape == (3, 1, 16, 12)
    assert torch.allclose(masks[0], torch.ones(1, 16, 12)) and torch.all(masks[1] == 0)
    assert 0 < float(masks[2].max()) <= 1 and float(masks[2].min()) == 0


def test_matches_the_formula_and_ignores_batch_size() -> None:
    model = Region()
    x = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    explainer = RISE(model, n_masks=30, grid_size=4, p=0.5, batch_size=7, seed=3)
    result = explainer(x, targets=[1, 0])

    grids, shifts = explainer._random_draws((16, 16))
    masks = rise_masks(grids, shifts, (16, 16))
    with torch.no_grad():
        p1 = torch.sigmoid(model((x[:, None] * masks[None]).flatten(0, 1)).view(2, 30))
    probs = torch.stack([p1[0], 1 - p1[1]])
    expected = torch.einsum("bn,nhw->bhw", probs, masks[:, 0])[:, None] / (30 * 0.5)
    assert torch.allclose(result.saliency, minmax_per_sample(expected), atol=1e-5)

    again = RISE(model, n_masks=30, grid_size=4, p=0.5, batch_size=64, seed=3)(x, [1, 0])
    assert torch.allclose(again.saliency, result.saliency, atol=1e-6)
    other_seed = RISE(model, n_masks=30, grid_size=4, p=0.5, seed=4)(x, [1, 0])
    assert not torch.allclose(other_seed.saliency, result.saliency)


def test_planted_region_is_salient() -> None:
    model = Region()
    x = torch.ones(1, 1, 16, 16)
    saliency = RISE(model, n_masks=300, grid_size=4, p=0.5, batch_size=100)(x, 1).saliency
    inside = saliency[0, 0, 2:6, 9:13].mean()
    outside = saliency[0, 0, 10:, :6].mean()
    assert inside > outside + 0.3
