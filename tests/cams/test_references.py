"""Reference maps (class-agnostic, opposite class) and the two sanity figures."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from nets import PatchNet, TinyNet, literal_normalise, literal_resize, patch_image
from scipy.stats import spearmanr
from torch import Tensor, nn

from medxai.cams.cam import CAM
from medxai.cams.polycam import PolyCAM
from medxai.cams.references import opposite_classes, spearman

VARIANTS = ["pcam+", "pcam-", "pcam±"]
FAST = [{}, {"channel_budget": 2}, {"channel_budget": 3, "tolerance": 0.2}]


def _activations(model, x, layers) -> dict[str, Tensor]:
    acts = {}
    modules = dict(model.named_modules())
    hooks = [
        modules[name].register_forward_hook(
            lambda _m, _i, out, name=name: acts.__setitem__(name, out.detach().clone())
        )
        for name in layers
    ]
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    return acts


def literal_all_ones(model, image: Tensor, layers, lnorm: bool = True) -> Tensor:
    """Poly-CAM's fusion with every channel weight 1, in plain loops (one image)."""
    acts = _activations(model, image[None], layers)
    size = image.shape[-2:]
    layer_maps = []
    for name in layers:
        a = acts[name][0]
        total = torch.zeros(a.shape[1:])
        for k in range(a.shape[0]):
            total = total + 1.0 * a[k]
        layer_maps.append(torch.relu(total))
    fused = layer_maps[-1]
    for level in range(len(layers) - 2, -1, -1):
        fine = layer_maps[level]
        if lnorm:
            local = literal_resize(literal_resize(fine, layer_maps[level + 1].shape), fine.shape)
            fine = fine / torch.clamp(local, min=1e-12)
        fused = torch.relu(fine * literal_resize(fused, fine.shape))
    return literal_resize(literal_normalise(fused), size)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("n_out", [3, 1])
def test_class_agnostic_map_equals_literal_all_weights_one(variant: str, n_out: int) -> None:
    model = TinyNet(n_out, seed=n_out)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    for lnorm in (True, False):
        result = PolyCAM(model, variant, target_layers=TinyNet.LAYERS, lnorm=lnorm)(x, [1, 0])
        for b in range(2):
            reference = literal_all_ones(model, x[b], TinyNet.LAYERS, lnorm)
            torch.testing.assert_close(
                result.references.class_agnostic[b, 0], reference, atol=1e-5, rtol=0
            )


def test_cam_class_agnostic_map_equals_literal_sum() -> None:
    model = TinyNet(3)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    result = CAM(model, feature_layer="body.5")(x)
    acts = _activations(model, x, ["body.5"])["body.5"]
    for b in range(2):
        reference = literal_resize(literal_normalise(torch.relu(acts[b].sum(0))), (32, 32))
        ours = result.references.class_agnostic[b, 0]
        torch.testing.assert_close(ours, reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("options", FAST)
def test_single_logit_opposite_map_equals_target_zero_call(variant: str, options) -> None:
    model = TinyNet(1, seed=1)
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    explainer = PolyCAM(model, variant, target_layers=TinyNet.LAYERS, batch_size=7, **options)
    result = explainer(x, 1)
    explicit = explainer(x, 0)
    assert result.references.opposite_targets.tolist() == [0, 0, 0]
    assert torch.equal(result.references.opposite, explicit.saliency)
    # and back: the opposite of class 0 is class 1
    assert torch.equal(explicit.references.opposite, result.saliency)


@pytest.mark.parametrize("variant", VARIANTS)
def test_multi_logit_opposite_map_is_the_runner_up(variant: str) -> None:
    model = TinyNet(3, seed=2)
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    explainer = PolyCAM(model, variant, target_layers=TinyNet.LAYERS, batch_size=5)
    targets = torch.tensor([0, 1, 2])
    result = explainer(x, targets)
    logits = model(x)
    runner_up = logits.scatter(1, targets[:, None], float("-inf")).argmax(1)
    assert result.references.opposite_targets.tolist() == runner_up.tolist()
    assert torch.equal(result.references.opposite, explainer(x, runner_up).saliency)


@pytest.mark.parametrize("n_out", [1, 3])
def test_cam_opposite_map_equals_explicit_call(n_out: int) -> None:
    model = TinyNet(n_out, seed=n_out)
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(8))
    cam = CAM(model, feature_layer="body.5")
    result = cam(x, [1, 0, 1])
    explicit = cam(x, result.references.opposite_targets)
    assert torch.equal(result.references.opposite, explicit.saliency)
    assert torch.allclose(
        result.references.class_contrast.float(),
        spearman(result.saliency, explicit.saliency).float(),
    )


def test_no_extra_forward_pass_for_the_references() -> None:
    model = TinyNet(1)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(9))
    calls, images = [], []

    def count(_module, inputs, _output) -> None:
        calls.append(1)
        images.append(inputs[0].shape[0])

    handle = model.register_forward_hook(count)
    try:
        result = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channels_last=False)(x, 1)
    finally:
        handle.remove()
    s = result.settings
    live = 2 * (4 + 6 + 8) - s["shared_constant_channels"]
    assert s["masked_passes"] == 2 * live + 2  # ⊙M and ⊙(1−M) per live mask, one zero image
    assert len(calls) == 1 + s["masked_forward_calls"]
    assert sum(images) == 2 + s["masked_passes"]
    assert result.references.opposite is not None
    assert result.references.class_agnostic is not None


def test_callable_target_has_no_opposite_map() -> None:
    model = TinyNet(3)
    x = torch.randn(2, 3, 32, 32)
    result = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)(x, lambda z: z[:, 0])
    assert result.references.opposite is None
    assert result.references.class_contrast is None
    assert result.references.figures(1)["class_contrast"] is None
    assert result.references.class_agnostic_similarity.shape == (2,)


@pytest.mark.parametrize("variant", ["pcam+", "pcam±"])
@pytest.mark.parametrize("n_out", [1, 3])
def test_model_ignoring_the_input_gives_similarity_one(variant: str, n_out: int) -> None:
    """A head that reads nothing: every masked score equals ``s0``, so the weights are
    uniform and the map is the class-agnostic map."""
    model = TinyNet(n_out, seed=4)
    with torch.no_grad():
        model.fc.weight.zero_()
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(10))
    result = PolyCAM(model, variant, target_layers=TinyNet.LAYERS)(x)
    similarity = result.references.class_agnostic_similarity
    assert similarity.min().item() == pytest.approx(1.0, abs=1e-9)
    assert result.references.class_contrast.min().item() == pytest.approx(1.0, abs=1e-9)


def test_trained_like_model_is_not_the_class_agnostic_map() -> None:
    model = PatchNet(1)
    x = patch_image(4, 18)
    result = PolyCAM(model, "pcam±", target_layers=PatchNet.LAYERS)(x, 1)
    assert result.references.class_agnostic_similarity.item() < 0.9


class TwoFeatureNet(nn.Module):
    """A planted class-specific model on a mid-grey image with one bright patch.

    ``feat`` (16×16) has two channels: a bright-patch detector ``σ(40(x − 0.75))`` and a
    grey detector ``exp(−((x − 0.5)/0.1)²)`` (a masked-out, zero pixel is neither).
    Class 1 reads only the patch, class 0 only the grey background, with equal evidence
    on the unmasked image.
    """

    def __init__(self, n_out: int) -> None:
        super().__init__()
        self.feat = _Detectors()
        self.fc = nn.Linear(2, n_out)
        with torch.no_grad():
            self.fc.bias.zero_()
            if n_out == 1:
                self.fc.weight.copy_(torch.tensor([[20.0 * 15.0, -20.0]]))
            else:
                self.fc.weight.copy_(torch.tensor([[0.0, 20.0], [20.0 * 15.0, 0.0]]))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.feat(x).mean(dim=(-2, -1)))


class _Detectors(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        x = F.avg_pool2d(x, 2)
        return torch.cat([torch.sigmoid(40 * (x - 0.75)), torch.exp(-(((x - 0.5) / 0.1) ** 2))], 1)


def _grey_patch(row: int, col: int) -> Tensor:
    x = torch.full((1, 1, 32, 32), 0.5)
    x[..., row : row + 8, col : col + 8] = 1.0
    return x


@pytest.mark.parametrize("n_out", [1, 2])
@pytest.mark.parametrize("method", ["pcam+", "pcam-", "pcam±", "cam"])
def test_class_specific_planted_model_gives_negative_contrast(method: str, n_out: int) -> None:
    model = TwoFeatureNet(n_out)
    x = torch.cat([_grey_patch(4, 18), _grey_patch(16, 6)])
    if method == "cam":
        explainer = CAM(model, feature_layer="feat", fc_layer="fc")
    else:
        explainer = PolyCAM(model, method, target_layers=["feat"])
    references = explainer(x, 1).references
    assert references.opposite_targets.tolist() == [0, 0]
    assert references.class_contrast.max().item() < -0.5
    assert references.class_agnostic_similarity.max().item() < 0.9


def test_spearman_matches_scipy_with_ties_and_is_nan_for_constant_maps() -> None:
    generator = torch.Generator().manual_seed(11)
    a = torch.relu(torch.randn(2, 1, 9, 9, generator=generator))  # many tied zeros
    b = torch.relu(a + 0.5 * torch.randn(2, 1, 9, 9, generator=generator)).round(decimals=1)
    ours = spearman(a, b)
    for i in range(2):
        expected = spearmanr(a[i].ravel().numpy(), b[i].ravel().numpy()).statistic
        assert ours[i].item() == pytest.approx(expected, abs=1e-12)
    assert spearman(a, -a)[0].item() == pytest.approx(-1.0)
    constant = torch.zeros_like(a)
    assert torch.isnan(spearman(a, constant)).all()


def test_opposite_classes_and_select() -> None:
    assert opposite_classes(torch.zeros(3, 1), torch.tensor([1, 0, 1])).tolist() == [0, 1, 0]
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    assert opposite_classes(logits, torch.tensor([0, 2])).tolist() == [2, 1]
    model = TinyNet(3)
    result = PolyCAM(model, "pcam+", target_layers=TinyNet.LAYERS)(torch.randn(2, 3, 32, 32))
    one = result.select(1)
    assert torch.equal(one.references.class_agnostic, result.references.class_agnostic[1:])
    assert one.references.figures() == result.references.figures(1)
