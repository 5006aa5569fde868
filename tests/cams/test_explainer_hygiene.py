"""Hooks, train/eval flags, autograd modes, in-place ReLUs and errors."""

from __future__ import annotations

import pytest
import torch
from nets import TinyNet, no_hooks
from torch import nn

import medxai
from medxai.cams.cam import CAM
from medxai.cams.polycam import PolyCAM


class Exploding(TinyNet):
    """Raises after its hooked layers ran, once ``armed``; records its mode during calls."""

    armed = False

    def forward(self, x):
        self.seen_training = self.body[1].training
        out = super().forward(x)
        if self.armed:
            raise RuntimeError("boom")
        return out


def _explainers(model: nn.Module):
    return [
        PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS),
        CAM(model, feature_layer="body.5"),
    ]


@pytest.mark.parametrize("index", [0, 1])
def test_no_hooks_left_and_flags_restored(index: int) -> None:
    model = Exploding(3)
    model.train()
    model.body[0].eval()
    model.fc.eval()
    flags = {name: m.training for name, m in model.named_modules()}
    explainer = _explainers(model)[index]
    explainer(torch.randn(2, 3, 32, 32))
    assert model.seen_training is False
    assert no_hooks(model)
    assert {name: m.training for name, m in model.named_modules()} == flags
    model.armed = True
    with pytest.raises(RuntimeError, match="boom"):
        explainer(torch.randn(2, 3, 32, 32))
    assert no_hooks(model)
    assert {name: m.training for name, m in model.named_modules()} == flags


def test_hooks_removed_when_target_is_out_of_range() -> None:
    model = TinyNet(3)
    for explainer in _explainers(model):
        with pytest.raises(ValueError, match="out of range"):
            explainer(torch.randn(1, 3, 32, 32), targets=7)
        assert no_hooks(model)
    single = TinyNet(1)
    with pytest.raises(ValueError, match="out of range"):
        PolyCAM(single, target_layers=TinyNet.LAYERS)(torch.randn(1, 3, 32, 32), targets=2)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_callers_without_grad(mode) -> None:
    model = TinyNet(3)
    x = torch.randn(2, 3, 32, 32)
    for explainer in _explainers(model):
        reference = explainer(x, [0, 1]).saliency
        with mode():
            inside = explainer(x, [0, 1]).saliency
        torch.testing.assert_close(inside, reference)


def test_inplace_relu_gives_the_same_maps() -> None:
    x = torch.randn(2, 3, 32, 32)
    plain, inplace = TinyNet(3, inplace=False), TinyNet(3, inplace=True)
    for a, b in zip(_explainers(plain), _explainers(inplace)):
        torch.testing.assert_close(a(x, [0, 2]).saliency, b(x, [0, 2]).saliency)


def test_model_without_spatial_layer() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="spatial"):
        PolyCAM(model, input_size=(8, 8))


def test_bad_layer_name_lists_valid_names() -> None:
    model = TinyNet(3)
    with pytest.raises(ValueError, match=r"no layer named 'body.9'.*'body\.\d'"):
        PolyCAM(model, target_layers=["body.9"])
    with pytest.raises(ValueError, match="no layer named"):
        medxai.cams.create("cam", model, feature_layer="nope")


def test_layer_that_runs_twice_is_refused() -> None:
    class Twice(TinyNet):
        def forward(self, x):
            a = self.body[1](self.body[0](x))
            a = self.body[1](a)
            for k in range(2, 6):
                a = self.body[k](a)
            return self.fc(self.pool(a).flatten(1))

    model = Twice(3)
    with pytest.raises(ValueError, match="ran 2 times"):
        PolyCAM(model, target_layers=["body.1", "body.5"])(torch.randn(1, 3, 32, 32))
    assert no_hooks(model)


def test_input_must_be_4d_and_device_dtype_follow_model() -> None:
    model = TinyNet(3).double()
    explainer = PolyCAM(model, target_layers=TinyNet.LAYERS)
    with pytest.raises(ValueError, match="B×C×H×W"):
        explainer(torch.randn(3, 32, 32))
    result = explainer(torch.randn(1, 3, 32, 32, dtype=torch.float32))
    assert result.saliency.dtype == torch.float64
    assert result.saliency.device == next(model.parameters()).device
