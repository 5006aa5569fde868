"""Cascading randomisation: maps change, the original model does not."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch
from metric_models import TinyCNN
from torch import nn

from medxai.cams.result import SaliencyResult
from medxai.metrics.sanity import (
    SanityResult,
    cascading_randomisation,
    default_randomisation_blocks,
    plot_cascading_randomisation,
    plot_randomisation_curves,
    randomise_module,
    two_way_mean_ci,
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

    result = cascading_randomisation(model, x, {"grad": GradientMap}, targets=1, seed=5, seeds=2)
    assert result.steps == ["fc", "conv2", "conv1"]
    assert result.ssim.shape == (1, 4, 2, 2) and result.spearman.shape == (1, 4, 2, 2)
    assert (result.ssim[:, 0] == 1).all()
    assert result.spearman[0, -1].mean() < 0.9
    assert result.ssim[0, -1].mean() < result.ssim[0, 0].mean()
    assert np.isnan(result.agnostic_spearman).all()  # no class-agnostic map for gradients
    assert np.isfinite(result.contrast).all()  # an explicit call for the other class
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
    model = TinyCNN()
    x = torch.randn(1, 1, 8, 8)
    result = cascading_randomisation(
        model, x, {"grad": GradientMap}, targets=0, blocks=["fc"], seeds=1
    )
    assert result.steps == ["fc"] and result.ssim.shape == (1, 2, 1, 1)
    assert not torch.equal(result.maps["grad"][0], result.maps["grad"][1])
    with pytest.raises(ValueError, match="unknown modules"):
        cascading_randomisation(model, x, {"grad": GradientMap}, blocks=["nope"])


class ConvBNNet(nn.Module):
    """conv-BN-ReLU ×2, pool, linear; the BN layers carry "trained" statistics."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.relu1 = nn.ReLU()
        self.conv2, self.bn2 = nn.Conv2d(8, 16, 3, padding=1, stride=2), nn.BatchNorm2d(16)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(16, 1)
        generator = torch.Generator().manual_seed(3)
        with torch.no_grad():
            for bn in (self.bn1, self.bn2):
                k = bn.num_features
                bn.running_mean.copy_(0.5 + 0.2 * torch.randn(k, generator=generator))
                bn.running_var.copy_(torch.exp(0.3 * torch.randn(k, generator=generator)))
                bn.weight.copy_(1.5 + 0.4 * torch.randn(k, generator=generator))
                bn.bias.copy_(-0.2 + 0.1 * torch.randn(k, generator=generator))

    def forward(self, x):
        h = self.relu1(self.bn1(self.conv1(x)))
        h = self.relu2(self.bn2(self.conv2(h)))
        return self.fc(h.mean(dim=(-2, -1)))


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def test_randomisation_redraws_conv_and_linear_and_keeps_batchnorm() -> None:
    model = ConvBNNet()
    before = _state(model)
    randomise_module(model, 123, batchnorm="keep")
    after = model.state_dict()
    for name in ("conv1.weight", "conv1.bias", "conv2.weight", "fc.weight", "fc.bias"):
        assert not torch.equal(before[name], after[name]), name
    for name, value in before.items():
        if name.startswith("bn"):
            assert torch.equal(value, after[name]), name
    # the draw is the module's own initial distribution: U(±1/√fan_in) for the head
    assert after["fc.weight"].abs().max() <= 1 / 16**0.5
    assert after["conv2.weight"].abs().max() <= 1 / (8 * 9) ** 0.5
    again = ConvBNNet()
    randomise_module(again, 123)
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in after.items())
    other = ConvBNNet()
    randomise_module(other, 124)
    assert not torch.equal(other.conv1.weight, after["conv1.weight"])


def test_randomisation_redraws_batchnorm_from_the_layers_moments() -> None:
    model = ConvBNNet()
    before = _state(model)
    randomise_module(model, 7, batchnorm="redraw")
    for bn in ("bn1", "bn2"):
        layer = getattr(model, bn)
        for name in ("running_mean", "running_var", "weight", "bias"):
            old, new = before[f"{bn}.{name}"], getattr(layer, name).detach()
            assert not torch.equal(old, new), (bn, name)
            assert not torch.equal(torch.sort(old).values, torch.sort(new).values)  # no shuffle
        assert (layer.running_var > 0).all()
        # not the identity a reset would make of it
        assert not torch.allclose(layer.weight, torch.ones_like(layer.weight))
        assert not torch.allclose(layer.running_mean, torch.zeros_like(layer.running_mean))
    # many channels: the draws follow the trained layer's moments
    wide = nn.BatchNorm2d(4000)
    with torch.no_grad():
        wide.weight.copy_(2.0 + 0.5 * torch.randn(4000))
        wide.running_var.copy_(torch.exp(1.0 + 0.2 * torch.randn(4000)))
    randomise_module(wide, 1, batchnorm="redraw")
    assert float(wide.weight.detach().mean()) == pytest.approx(2.0, abs=0.05)
    assert float(wide.weight.detach().std()) == pytest.approx(0.5, abs=0.05)
    assert float(wide.running_var.log().mean()) == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match="batchnorm"):
        randomise_module(wide, 1, batchnorm="reset")


@pytest.mark.slow
def test_seeds_give_confidence_intervals() -> None:
    torch.manual_seed(0)
    model = ConvBNNet()
    x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    result = cascading_randomisation(
        model, x, ["cam", "pcam±"], targets=1, seeds=5, batchnorm="redraw",
        method_options={"cam": {"input_size": (16, 16)}, "pcam±": {"input_size": (16, 16)}},
    )  # fmt: skip
    assert result.seeds == 5 and result.steps == ["fc", "bn2", "conv2", "bn1", "conv1"]
    assert result.spearman.shape == (2, 6, 5, 3)
    # the seeds draw different weights: the figures after the first step differ by seed
    assert np.ptp(result.ssim[0, 1], axis=0).max() > 0
    rows = result.table(resamples=300)
    assert len(rows) == 2 * 6
    for row in rows:
        if row["step"] == 0:
            assert row["ssim"] == pytest.approx(1.0)
            continue
        for figure in ("ssim", "spearman", "agnostic_spearman"):
            assert row[f"{figure}_low"] <= row[figure] <= row[f"{figure}_high"], (row, figure)
    randomised = [r for r in rows if r["step"] == 1]
    assert any(r["ssim_high"] > r["ssim_low"] for r in randomised)
    # PCAM± after a random head: its weights no longer follow the class
    est = result.estimate("agnostic_spearman", 1, 1, resamples=300)
    assert est.n == 15 and est.low <= est.mean <= est.high
    figure = plot_randomisation_curves(result, resamples=100)
    assert len(figure.axes) == 4
    matplotlib.pyplot.close(figure)


def test_two_way_ci_covers_seed_and_image_spread() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0.5, 0.1, size=(5, 8))
    est = two_way_mean_ci(values, resamples=500, rng=np.random.default_rng(1))
    assert est.n == 40 and est.mean == pytest.approx(values.mean())
    assert est.low < est.mean < est.high
    values[0, 0] = np.nan
    assert two_way_mean_ci(values, resamples=100, rng=np.random.default_rng(1)).n == 39
    constant = two_way_mean_ci(np.full((5, 8), 0.3), resamples=100, rng=np.random.default_rng(1))
    assert constant.low == constant.high == pytest.approx(0.3)


def test_cascades_split_over_runs_combine_into_the_whole_run(tmp_path) -> None:
    """Cascade ``k`` draws the same weights whichever runs it, so methods and cascades run
    apart, saved and combined, give the arrays of one run."""
    torch.manual_seed(0)
    model = TinyCNN()
    x = torch.randn(2, 1, 10, 10)
    def run(methods, seed=3, **kw):
        factories = {m: GradientMap for m in methods}
        return cascading_randomisation(model, x, factories, targets=1, seed=seed, seeds=3, **kw)

    whole = run(["a", "b"])
    assert whole.cascades == [0, 1, 2]
    parts = [run(["a"]), run(["b"], cascades=[2]), run(["b"], cascades=[1, 0])]
    assert parts[2].cascades == [1, 0] and parts[2].seeds == 2
    for i, part in enumerate(parts):
        part.save(tmp_path / f"{i}.npz")
    combined = SanityResult.combine([SanityResult.load(tmp_path / f"{i}.npz") for i in range(3)])
    assert combined.methods == ["a", "b"] and combined.cascades == [0, 1, 2]
    for figure in ("ssim", "spearman", "contrast"):
        np.testing.assert_allclose(getattr(combined, figure), getattr(whole, figure))
    assert np.isnan(combined.agnostic_ssim).all()
    # the maps are those of cascade 0 (float16 on disk)
    for ours, theirs in zip(combined.maps["b"], whole.maps["b"]):
        torch.testing.assert_close(ours, theirs, atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="cascade appears twice"):
        SanityResult.combine([parts[1], parts[1]])
    with pytest.raises(ValueError, match="different seed"):
        SanityResult.combine([parts[0], run(["c"], seed=7)])
    with pytest.raises(ValueError, match="different cascades"):
        SanityResult.combine([parts[0], parts[1]])
    with pytest.raises(ValueError, match="cascades must be distinct"):
        run(["a"], cascades=[3])
