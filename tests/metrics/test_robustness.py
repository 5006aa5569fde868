"""Max-sensitivity through captum, on explainers whose answer is known."""

from __future__ import annotations

import pytest
import torch
from metric_models import TinyCNN

from medxai.cams.result import SaliencyResult
from medxai.metrics.robustness import sensitivity_max

pytest.importorskip("captum")


class InputMap:
    """A fake explainer whose map is the input's first channel (or a constant)."""

    def __init__(self, constant: bool = False) -> None:
        self.constant = constant
        self.seen_targets: list[torch.Tensor] = []

    def __call__(self, x: torch.Tensor, targets=None) -> SaliencyResult:
        self.seen_targets.append(torch.as_tensor(targets))
        maps = torch.full_like(x[:, :1], 0.5) if self.constant else x[:, :1].clone()
        b = x.shape[0]
        return SaliencyResult(maps, [maps], torch.zeros(b).long(), torch.ones(b), "fake")


def test_constant_map_is_insensitive_and_identity_map_is_bounded() -> None:
    model = TinyCNN(in_channels=2)
    x = torch.rand(2, 2, 6, 6) + 0.5  # two channels: the map is expanded to both
    zero = sensitivity_max(InputMap(constant=True), model, x, n_perturb_samples=4)
    assert zero.shape == (2,)
    assert torch.allclose(zero, torch.zeros(2))
    identity = InputMap()
    value = sensitivity_max(identity, model, x, targets=[2, 1], n_perturb_samples=4)
    # ‖δ‖_F / ‖x‖_F of channel 0 with |δ| ≤ 0.02 per pixel
    bound = 0.02 * 6 / x[:, 0].flatten(1).norm(dim=1)
    assert bool((value > 0).all()) and bool((value <= bound + 1e-6).all())
    # the fixed targets are repeated for every perturbed copy
    assert identity.seen_targets[-1].tolist() == [2] * 4 + [1] * 4


def test_seeded_runs_repeat() -> None:
    model = TinyCNN()
    x = torch.rand(1, 1, 6, 6)
    a = sensitivity_max(InputMap(), model, x, n_perturb_samples=3, seed=3)
    b = sensitivity_max(InputMap(), model, x, n_perturb_samples=3, seed=3)
    assert torch.equal(a, b)


def test_single_image_gets_one_target_per_perturbed_copy() -> None:
    model = TinyCNN()
    x = torch.rand(1, 1, 6, 6)
    calls: list[tuple[int, list[int]]] = []

    def strict(batch: torch.Tensor, targets=None) -> SaliencyResult:
        # like the real explainers: one target per input, or a clear error
        targets = torch.as_tensor(targets).reshape(-1)
        if targets.numel() != batch.shape[0]:
            raise ValueError(f"got {targets.numel()} targets for a batch of {batch.shape[0]}")
        calls.append((batch.shape[0], targets.tolist()))
        return InputMap()(batch, targets)

    sensitivity_max(strict, model, x, targets=[1], n_perturb_samples=5)
    assert (5, [1] * 5) in calls
    assert all(set(targets) == {1} for _, targets in calls)
