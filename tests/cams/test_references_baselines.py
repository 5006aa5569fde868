"""Reference maps of the comparison methods (medxai.cams.baselines): the class-agnostic
map of the torchcam methods and, for a single-logit head, the opposite-class map read
from the method's own passes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from nets import TinyNet
from torch import Tensor

from medxai.cams.baselines import GRADIENT_WEIGHTED, SCORE_LINEAR, SIGN_FREE
from medxai.cams.references import spearman
from medxai.cams.registry import create

pytest.importorskip("torchcam")
pytest.importorskip("captum")

OPTIONS = {
    "ig": {"n_steps": 8},
    "smoothgrad": {"nt_samples": 3},
    "occlusion": {"window": 8, "stride": 8},
}


def _inputs(seed: int = 0) -> Tensor:
    return torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def _explainer(name: str, model):
    return create(name, model, input_size=(32, 32), **OPTIONS.get(name, {}))


def _count_passes(model) -> list[int]:
    calls = [0]
    model.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


def literal_agnostic(model: TinyNet, x: Tensor) -> Tensor:
    """ReLU of the last ReLU's channel sum, bilinearly resized and min–max normalised,
    computed in plain steps."""
    with torch.no_grad():
        a = model.body(x)
    total = torch.zeros(a.shape[0], 1, *a.shape[2:])
    for k in range(a.shape[1]):
        total = total + 1.0 * a[:, k : k + 1]
    up = F.interpolate(torch.relu(total), size=x.shape[-2:], mode="bilinear", align_corners=False)
    out = torch.zeros_like(up)
    for i in range(len(up)):
        low, high = up[i].min(), up[i].max()
        out[i] = (up[i] - low) / (high - low)
    return out


@pytest.mark.parametrize("name", ["gradcam", "gradcam++", "layercam", "smoothgradcam++"])
def test_torchcam_class_agnostic_map_equals_literal_sum(name: str) -> None:
    model = TinyNet(1, seed=4)
    x = _inputs()
    result = _explainer(name, model)(x, targets=1)
    assert result.settings["feature_layer"] in ("body", "body.5")  # the same tensor
    torch.testing.assert_close(result.references.class_agnostic, literal_agnostic(model, x))
    # the same for either class: it ignores the decision
    other = _explainer(name, model)(x, targets=0)
    torch.testing.assert_close(other.references.class_agnostic, result.references.class_agnostic)
    expected = spearman(result.saliency, literal_agnostic(model, x))
    torch.testing.assert_close(result.references.class_agnostic_similarity, expected)


@pytest.mark.parametrize("name", [*GRADIENT_WEIGHTED, *SCORE_LINEAR, *SIGN_FREE])
def test_opposite_map_equals_explicit_target_zero_call(name: str) -> None:
    model = TinyNet(1, seed=4)
    x = _inputs(1)
    result = _explainer(name, model)(x, targets=1)
    refs = result.references
    assert refs.opposite_targets.tolist() == [0, 0, 0]
    explicit = _explainer(name, model)(x, targets=0).saliency
    assert explicit.flatten(1).amax(1).min() > 0  # the target-0 maps are not empty
    torch.testing.assert_close(refs.opposite, explicit, atol=1e-6, rtol=0)
    torch.testing.assert_close(refs.class_contrast, spearman(result.saliency, explicit))
    # and the class-0 call's opposite is the class-1 map
    back = _explainer(name, model)(x, targets=0).references.opposite
    torch.testing.assert_close(back, result.saliency, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", ["gradcam", "ig"])
def test_references_add_no_forward_pass(name: str) -> None:
    model = TinyNet(1, seed=4)
    x = _inputs(2)
    calls = _count_passes(model)
    explainer = _explainer(name, model)
    calls[0] = 0
    explainer(x, targets=1)
    with_references = calls[0]
    # the same method's passes, counted on a target that makes no references
    calls[0] = 0
    explainer(x, targets=lambda logits: logits[:, 0])
    assert with_references == calls[0]


def test_sign_figures_on_single_logit_heads() -> None:
    """Integrated gradients of ``−z`` are those of ``z`` negated: contrast −1 exactly,
    whatever the model; SmoothGrad's ``|gradient|`` gives the same map: +1."""
    model = TinyNet(1, seed=4)
    x = _inputs(3)
    ig = _explainer("ig", model)(x, targets=1).references
    assert torch.allclose(ig.class_contrast, torch.full((3,), -1.0, dtype=torch.float64))
    assert ig.class_agnostic is None and ig.class_agnostic_similarity is None
    assert ig.computed() == {"class_agnostic_similarity": False, "class_contrast": True}
    sg = _explainer("smoothgrad", model)(x, targets=1).references
    assert torch.allclose(sg.class_contrast, torch.ones(3, dtype=torch.float64))


@pytest.mark.parametrize("name", ["gradcam", "ig", "scorecam", "smoothgradcam++"])
def test_no_opposite_map_where_it_is_not_cheap(name: str) -> None:
    """Multi-logit heads (the runner-up needs another backward pass) and the methods
    whose passes are of one class carry no opposite map."""
    x = _inputs(4)
    multi = _explainer(name, TinyNet(3, seed=4))(x, targets=1)
    single = _explainer(name, TinyNet(1, seed=4))(x, targets=1)
    for result in (multi, *(() if name in ("gradcam", "ig") else (single,))):
        refs = result.references
        if refs is not None:
            assert refs.opposite is None and refs.class_contrast is None
            assert refs.opposite_targets is None
            assert refs.computed()["class_contrast"] is False
    if name == "ig":
        assert multi.references is None
