"""Comparison methods (torchcam, captum, RISE) behind the one registry and call."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from nets import no_hooks
from torch import Tensor, nn

import medxai.cams
from medxai.cams.baselines import METHODS, class_logit, minmax_per_sample
from medxai.cams.targets import class_probability
from medxai.errors import DependencyError

pytest.importorskip("torchcam")
pytest.importorskip("captum")

# small settings so that every method runs in well under a second on 16×16 inputs
FAST = {
    "smoothgradcam++": {"num_samples": 2},
    "scorecam": {"batch_size": 16},
    "sscam": {"num_samples": 2, "batch_size": 16},
    "iscam": {"num_samples": 2, "batch_size": 16},
    "ig": {"n_steps": 8},
    "smoothgrad": {"nt_samples": 4},
    "occlusion": {"window": 8, "stride": 4},
    "rise": {"n_masks": 40, "batch_size": 32},
}
NAMES = [*METHODS, "rise"]


class Net(nn.Module):
    """conv-bn-relu, conv-relu (16 → 8 px), dropout, linear: ``n_out`` logits."""

    def __init__(self, n_out: int) -> None:
        super().__init__()
        torch.manual_seed(n_out)
        self.features = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, 6, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(6, n_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.drop(self.features(x).mean(dim=(2, 3))))



def build(name: str, model: nn.Module):
    return medxai.cams.create(name, model, input_size=(16, 16), **FAST.get(name, {})) if (
        name in METHODS
    ) else medxai.cams.create(name, model, **FAST.get(name, {}))


@pytest.mark.parametrize("n_out", [1, 3], ids=["binary", "multiclass"])
@pytest.mark.parametrize("name", NAMES)
def test_method_contract(name: str, n_out: int) -> None:
    model = Net(n_out)
    model.train()
    model.features[1].eval()  # a mixed state must come back exactly
    flags = [m.training for m in model.modules()]
    x = torch.randn(2, 2, 16, 16, generator=torch.Generator().manual_seed(0))
    targets = [1, 0] if n_out == 1 else [2, 0]

    result = build(name, model)(x, targets=targets)

    assert result.saliency.shape == (2, 1, 16, 16)
    assert result.levels[-1] is result.saliency
    assert float(result.saliency.min()) >= 0.0 and float(result.saliency.max()) <= 1.0
    assert torch.isfinite(result.saliency).all()
    assert result.targets.tolist() == targets
    model.eval()
    with torch.no_grad():
        expected = class_probability(model(x), torch.tensor(targets))
    assert torch.allclose(result.scores, expected, atol=1e-5)
    assert result.method == medxai.cams.canonical_name(name)
    model.train()
    model.features[1].eval()
    assert [m.training for m in model.modules()] == flags
    assert no_hooks(model)
    assert all(p.grad is None for p in model.parameters())


def test_predicted_class_is_default() -> None:
    model = Net(1).eval()
    x = torch.randn(3, 2, 16, 16)
    result = build("gradcam", model)(x)
    with torch.no_grad():
        assert result.targets.tolist() == (model(x)[:, 0] > 0).long().tolist()


def test_single_logit_class_zero_explains_the_negated_logit() -> None:
    model = Net(1).eval()
    x = torch.randn(1, 2, 16, 16)
    explainer = build("ixg", model)
    positive = explainer(x, targets=1).saliency
    negative = explainer(x, targets=0).saliency
    # signed channel sum of x·∂(−z)/∂x is the negation: min–max flips it
    assert torch.allclose(negative, 1 - positive, atol=1e-5)
    assert class_logit(torch.tensor([[2.0]]), torch.tensor([0])).item() == -2.0


def test_hooks_removed_when_the_call_fails() -> None:
    model = Net(3)

    def broken(_logits: Tensor) -> Tensor:
        raise RuntimeError("boom")

    for name in ("gradcam", "scorecam"):
        with pytest.raises(RuntimeError):
            build(name, model)(torch.randn(1, 2, 16, 16), targets=broken)
        assert no_hooks(model)
        assert model.training


def test_options_override_and_unknown_options_fail() -> None:
    model = Net(3)
    explainer = medxai.cams.create("ig", model, n_steps=3)
    assert explainer.settings["n_steps"] == 3
    assert medxai.cams.create("gradcam", model, target_layers=["features.2"]).target_layers == [
        "features.2"
    ]
    with pytest.raises(TypeError, match="n_step"):
        medxai.cams.create("ig", model, n_step=3)
    with pytest.raises(TypeError):
        medxai.cams.create("rise", model, masks=3)


def test_cam_layer_defaults_to_the_last_spatial_layer() -> None:
    explainer = medxai.cams.create("layercam", Net(3), input_size=(16, 16))
    # the Sequential's output is the last ReLU's: either name is the same tensor
    assert explainer.target_layers in (["features"], ["features.4"])


@pytest.mark.parametrize("name", ["smoothgrad", "smoothgradcam++"])
def test_noisy_methods_are_seeded(name: str) -> None:
    model = Net(3)
    x = torch.randn(1, 2, 16, 16)
    first = medxai.cams.create(name, model, seed=1, **FAST[name])(x).saliency
    again = medxai.cams.create(name, model, seed=1, **FAST[name])(x).saliency
    other = medxai.cams.create(name, model, seed=2, **FAST[name])(x).saliency
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_import_without_the_extra() -> None:
    code = (
        "import sys\n"
        "for m in ('torchcam', 'captum'): sys.modules[m] = None\n"
        "import medxai.cams\n"
        "from medxai.errors import DependencyError\n"
        "try:\n"
        "    medxai.cams.create('gradcam', __import__('torch').nn.Linear(2, 2))\n"
        "except DependencyError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "pip install 'medxai[baselines]'" in out.stdout


def test_minmax_per_sample() -> None:
    maps = torch.tensor([[[[1.0, 3.0]]], [[[2.0, 2.0]]]])
    assert minmax_per_sample(maps).flatten().tolist() == [0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["gradcam", "occlusion"])
def test_missing_extra_raises_dependency_error(name: str, monkeypatch) -> None:
    for module in ("torchcam", "torchcam.methods", "captum", "captum.attr"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(DependencyError, match=r"pip install 'medxai\[baselines\]'"):
        medxai.cams.create(name, Net(3))


def test_sensitivity_max_without_captum(monkeypatch) -> None:
    from medxai.metrics.robustness import sensitivity_max

    monkeypatch.setitem(sys.modules, "captum.metrics", None)
    with pytest.raises(DependencyError, match="medxai\\[baselines\\]"):
        sensitivity_max(lambda x, targets=None: None, Net(3), torch.randn(1, 2, 16, 16))
