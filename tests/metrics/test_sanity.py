"""Cascading randomisation: maps change, the original model does not."""

from __future__ import annotations

import matplotlib
import torch
from metric_models import TinyCNN

from medxai.cams.result import SaliencyResult
from medxai.metrics.sanity import (
    cascading_randomisation,
    default_randomisation_blocks,
    plot_cascading_randomisation,
)

matplotlib.use("Agg")


class GradientMap:
    """|∂ logit_c / ∂x|, normalised to [0, 1] per sample."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model

    def __call__(self, x: torch.Tensor, targets=None) -> SaliencyResult:
        x = x.clone().requires_grad_(True)
        logits = self.model(x)
        classes = torch.as_tensor(targets).long()
        logits.gather(1, classes[:, None]).sum().backward()
        g = x.grad.abs().sum(1, keepdim=True)
        g = g / g.flatten(1).amax(1).clamp(min=1e-12).view(-1, 1, 1, 1)
        return SaliencyResult(g, [g], classes, torch.ones(len(g)), "grad")


def test_randomisation_lowers_similarity_and_leaves_model_intact() -> None:
    torch.manual_seed(0)
    model = TinyCNN()
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 1, 10, 10)
    assert default_randomisation_blocks(model) == ["fc", "conv2", "conv1"]

    result = cascading_randomisation(model, x, {"grad": GradientMap}, targets=1, seed=5)
    assert result.steps == ["fc", "conv2", "conv1"]
    assert result.ssim.shape == (1, 4, 2) and result.spearman.shape == (1, 4, 2)
    assert (result.ssim[:, 0] == 1).all()
    assert result.spearman[0, -1].mean() < 0.9
    assert result.ssim[0, -1].mean() < result.ssim[0, 0].mean()
    assert len(result.maps["grad"]) == 4
    assert result.targets.tolist() == [1, 1]
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    assert model.training
    assert {row["step"] for row in result.table()} == {0, 1, 2, 3}

    figure = plot_cascading_randomisation(result)
    assert len(figure.axes) == 4
    matplotlib.pyplot.close(figure)


def test_explicit_blocks_and_unknown_names() -> None:
    import pytest

    model = TinyCNN()
    x = torch.randn(1, 1, 8, 8)
    result = cascading_randomisation(model, x, {"grad": GradientMap}, targets=0, blocks=["fc"])
    assert result.steps == ["fc"] and result.ssim.shape == (1, 2, 1)
    assert not torch.equal(result.maps["grad"][0], result.maps["grad"][1])
    with pytest.raises(ValueError, match="unknown modules"):
        cascading_randomisation(model, x, {"grad": GradientMap}, blocks=["nope"])
