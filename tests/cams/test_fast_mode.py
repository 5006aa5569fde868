"""Poly-CAM's clustered fast mode: exact when nothing is merged, bounded by the budget,
merging only within the tolerance, deterministic, batch-independent, honest about its
error."""

from __future__ import annotations

import pytest
import torch
from nets import TinyNet
from scipy.stats import spearmanr
from torch import Tensor, nn

from medxai.cams.cluster import cluster_masks, rms_distance
from medxai.cams.estimate import error_scale, map_spread, spearman
from medxai.cams.normalize import percentile_normalize
from medxai.cams.plan import ERROR_CHECKS
from medxai.cams.polycam import PolyCAM


class Repeat(nn.Module):
    """``[h, 2h, h, 4h]``: four copies of each channel, exact positive multiples of each other,
    so that each group of four shares one normalised mask (``N`` is scale-free)."""

    def forward(self, h: Tensor) -> Tensor:
        return torch.cat([h, 2.0 * h, h, 4.0 * h], dim=1)


class DupNet(nn.Module):
    """conv(3→4)-relu-repeat (16 channels, 4 distinct masks) → conv(16→6, stride 2)-relu
    → average pool → linear(6→3)."""

    LAYERS = ("rep", "r2")

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(7)
        self.c1, self.r1, self.rep = nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), Repeat()
        self.c2, self.r2 = nn.Conv2d(16, 6, 3, stride=2, padding=1), nn.ReLU()
        self.fc = nn.Linear(6, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.5)

    def forward(self, x: Tensor) -> Tensor:
        a = self.r2(self.c2(self.rep(self.r1(self.c1(x)))))
        return self.fc(a.mean(dim=(-2, -1)))


def _x(batch: int = 2, seed: int = 3) -> Tensor:
    return torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("variant", ["pcam+", "pcam-", "pcam±"])
def test_one_cluster_per_distinct_mask_equals_exact(variant: str) -> None:
    model, x = DupNet(), _x()
    exact = PolyCAM(model, variant, target_layers=DupNet.LAYERS)(x, [0, 2])
    # a budget of 6 covers the second layer's 6 channels; the first has 4 distinct masks
    for options in ({"tolerance": 0.0}, {"channel_budget": 6}):
        fast = PolyCAM(model, variant, target_layers=DupNet.LAYERS, **options)(x, [0, 2])
        for ours, ref in zip(fast.levels, exact.levels):
            torch.testing.assert_close(ours, ref, atol=1e-6, rtol=0)
        s = fast.settings
        live = [n for n in s["clusters"][0]]
        assert all(n <= 4 for n in live)  # the 16 repeated channels collapse to ≤ 4
        assert s["masked_passes"] < exact.settings["masked_passes"]
        assert s["max_cluster_distance"][0] == [0.0, 0.0]
        for estimate in s["error_estimate"]:
            assert estimate["max_abs"] == 0.0 and estimate["spearman"] == 1.0


def test_budget_bounds_the_passes() -> None:
    model, x = TinyNet(3), _x(3)
    signs = 2  # PCAM± scores ⊙M and ⊙(1−M)
    for budget in (1, 2, 3):
        result = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=budget)(
            x, 1
        )
        s = result.settings
        per_image = signs * sum(min(budget, k) for k in (4, 6, 8)) + 1  # + the zero mask
        assert s["masked_passes"] <= len(x) * per_image
        for layer, k in zip(s["clusters"], (4, 6, 8)):
            assert all(n <= min(budget, k) for n in layer)
        assert result.approximate


def test_tolerance_merges_only_within_it() -> None:
    generator = torch.Generator().manual_seed(0)
    masks = torch.rand(40, 64, generator=generator)
    masks[20:] = masks[:20] + 0.02 * torch.rand(20, 64, generator=generator)  # near pairs
    pairwise = rms_distance(masks, masks)
    for tolerance in (0.0, 0.02, 0.2, 0.3):
        found = cluster_masks(masks, budget=40, tolerance=tolerance)
        exact_d = rms_distance(masks, masks[found.source]).diagonal()
        torch.testing.assert_close(found.distance, exact_d)
        assert float(found.distance.max()) <= tolerance
        if tolerance < float(pairwise[pairwise > 0].min()):
            assert len(found.representatives) == 40  # nothing merged
    assert len(cluster_masks(masks, 40, 0.05).representatives) == 20  # the near pairs
    assert len(cluster_masks(masks, 40, 0.6).representatives) < 20
    model, x = TinyNet(3), _x()
    result = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, tolerance=0.15)(x, 0)
    assert max(max(layer) for layer in result.settings["max_cluster_distance"]) <= 0.15


def test_budget_form_recomputes_distances_and_keeps_representatives_in_their_cluster() -> None:
    masks = torch.rand(30, 16, generator=torch.Generator().manual_seed(1))
    found = cluster_masks(masks, budget=5)
    assert len(found.representatives) == 5 == len(set(found.representatives.tolist()))
    assert found.source[found.representatives].tolist() == found.representatives.tolist()
    torch.testing.assert_close(
        found.distance, rms_distance(masks, masks[found.source]).diagonal()
    )
    nearest = rms_distance(masks, masks[found.representatives]).min(dim=1).values
    torch.testing.assert_close(found.distance, nearest)


def test_fast_mode_is_deterministic() -> None:
    model, x = TinyNet(3), _x()
    explainer = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=3)
    first, second = explainer(x, 1), explainer(x, 1)
    assert torch.equal(first.saliency, second.saliency)
    assert first.settings == second.settings


def test_batch_with_per_sample_targets_equals_single_calls() -> None:
    model, x = TinyNet(3), _x(3, seed=9)
    targets = [0, 2, 1]
    explainer = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=3)
    batched = explainer(x, targets)
    for b, t in enumerate(targets):
        alone = explainer(x[b : b + 1], t)
        for level_b, level_1 in zip(batched.levels, alone.levels):
            torch.testing.assert_close(level_b[b], level_1[0], atol=1e-5, rtol=0)
        assert [layer[b] for layer in batched.settings["clusters"]] == [
            layer[0] for layer in alone.settings["clusters"]
        ]
        ours, single = batched.settings["error_estimate"][b], alone.settings["error_estimate"][0]
        assert ours == pytest.approx(single, abs=1e-5)


def test_exact_when_the_budget_covers_every_channel() -> None:
    model, x = TinyNet(3), _x()
    exact = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)(x, 0)
    roomy = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=8)(x, 0)
    assert torch.equal(roomy.saliency, exact.saliency) and not roomy.approximate
    assert roomy.settings["masked_passes"] == exact.settings["masked_passes"]
    assert "error_estimate" not in exact.settings and not exact.approximate


# ---------------------------------------------------------------- the error estimate


def test_error_estimate_is_zero_when_nothing_merged_and_unknown_without_checks() -> None:
    model, x = TinyNet(3), _x()
    roomy = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=8)(x, 0)
    for estimate in roomy.settings["error_estimate"]:
        assert estimate["weight_error_scale"] == 0.0 and estimate["max_abs"] == 0.0
    tight = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=1)(x, 0)
    assert tight.settings["error_estimate"] == [None, None]  # no budget left for a check
    assert tight.settings["error_checks"] == [[0, 0]] * 3


def test_error_estimate_tracks_a_planted_weight_error() -> None:
    """A check's weight error sets α; the map's spread then grows with it, and is 0
    without it."""
    true = torch.tensor([0.5, 0.2])
    assert float(error_scale(true, torch.tensor([0.3, 0.2]), torch.tensor([0.1, 0.4]))) == (
        pytest.approx(2.0)
    )
    acts = torch.rand(1, 6, 8, 8, generator=torch.Generator().manual_seed(2))
    weights = [torch.tensor([[1.0, 0.5, 0.2, 0.8, 0.1, 0.3]])]

    def to_saliency(ws: list[Tensor]) -> Tensor:
        fused = torch.relu(torch.einsum("bk,bkhw->bhw", ws[0], acts))[:, None]
        return percentile_normalize(fused)

    saliency = to_saliency(weights)
    distance = torch.tensor([[0.0, 0.1, 0.2, 0.1, 0.3, 0.0]])
    spreads = [
        map_spread(saliency, weights, [alpha * distance], to_saliency)
        for alpha in (0.0, 0.5, 2.0, 8.0)
    ]
    assert spreads[0] == {"spearman": [1.0], "max_abs": [0.0], "mean_abs": [0.0]}
    peaks = [s["max_abs"][0] for s in spreads]
    rhos = [s["spearman"][0] for s in spreads]
    assert peaks == sorted(peaks) and peaks[-1] > 0.05
    assert rhos == sorted(rhos, reverse=True) and rhos[-1] < 0.99


def test_planted_merge_error_is_measured_by_the_check() -> None:
    """Two channels with different masks forced into one cluster: the check is the
    merged member, so its measured weight error is the true error of that channel."""
    model, x = DupNet(), _x(1)
    exact = PolyCAM(model, "pcam+", target_layers=("rep",), intermediate=True)(x, 0)
    fast = PolyCAM(
        model, "pcam+", target_layers=("rep",), channel_budget=2 + ERROR_CHECKS
    )(x, 0)
    (estimate,) = fast.settings["error_estimate"]
    assert fast.settings["clusters"] == [[2]] and fast.settings["error_checks"] == [[1]]
    true_error = float((fast.saliency - exact.saliency).abs().max())
    if true_error > 1e-4:
        assert estimate["weight_error_scale"] > 0 and estimate["max_abs"] > 0


def test_spearman_handles_ties_like_scipy() -> None:
    a = torch.tensor([[0.0, 0.0, 0.1, 0.5, 0.5, 0.9, 0.0]])
    b = torch.tensor([[0.1, 0.0, 0.0, 0.4, 0.6, 0.9, 0.2]])
    assert float(spearman(a, b)[0]) == pytest.approx(spearmanr(a[0], b[0]).statistic, abs=1e-6)
    assert float(spearman(a, a)[0]) == pytest.approx(1.0)
    assert float(spearman(torch.zeros(1, 5), torch.zeros(1, 5))[0]) == 1.0
