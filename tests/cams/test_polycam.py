"""Poly-CAM against a slow, literal reading of docs/polycam.md, and on planted evidence."""

from __future__ import annotations

import pytest
import torch
from nets import PatchNet, TinyNet, literal_normalise, literal_resize, patch_image
from torch import Tensor, nn

import medxai
from medxai.cams.polycam import PolyCAM

# ---------------------------------------------------------------- literal reference


def _score(model: nn.Module, image: Tensor, target: int) -> float:
    logits = model(image[None])[0]
    if logits.numel() == 1:
        p = torch.sigmoid(logits[0])
        return float(p if target == 1 else 1 - p)
    return float(torch.softmax(logits, 0)[target])


def literal_polycam(model, image, target, layers, variant, lnorm):
    """One image, plain loops over layers and channels: returns (levels, layer maps)."""
    model.eval()
    acts = {}
    hooks = [
        dict(model.named_modules())[name].register_forward_hook(
            lambda _m, _i, out, name=name: acts.__setitem__(name, out.detach().clone())
        )
        for name in layers
    ]
    with torch.no_grad():
        logits = model(image[None])[0]
    for h in hooks:
        h.remove()
    if target is None:
        target = int(logits[0] > 0) if logits.numel() == 1 else int(logits.argmax())
    size = image.shape[-2:]
    with torch.no_grad():
        s0 = _score(model, image, target)
        layer_maps = []
        for name in layers:
            a = acts[name][0]
            total = torch.zeros(a.shape[1:])
            for k in range(a.shape[0]):
                mask = literal_resize(literal_normalise(a[k]), size)
                sp = _score(model, image * mask, target)
                sm = _score(model, image * (1 - mask), target)
                if variant == "pcam+":
                    w = sp
                elif variant == "pcam-":
                    w = max(s0 - sm, 0.0)
                else:
                    w = max(sp + s0 - sm, 0.0)
                total = total + w * a[k]
            layer_maps.append(torch.relu(torch.nan_to_num(total, nan=0.0)))
        fused = [layer_maps[-1]]
        for level in range(len(layers) - 2, -1, -1):
            fine = layer_maps[level]
            coarse = layer_maps[level + 1].shape
            if lnorm:
                local = literal_resize(literal_resize(fine, coarse), fine.shape)
                fine = fine / torch.clamp(local, min=1e-12)
            fused.append(torch.relu(fine * literal_resize(fused[-1], fine.shape)))
        levels = [literal_resize(literal_normalise(p), size) for p in fused]
        inter = [literal_resize(literal_normalise(m), size) for m in layer_maps[::-1]]
    return levels, inter


# ---------------------------------------------------------------- equality


@pytest.mark.parametrize("variant", ["pcam+", "pcam-", "pcam±"])
@pytest.mark.parametrize("n_out", [3, 1])
@pytest.mark.parametrize("lnorm", [True, False])
def test_engine_equals_literal_reading(variant: str, n_out: int, lnorm: bool) -> None:
    model = TinyNet(n_out, seed=n_out)
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    targets = [0, 1, 0] if n_out == 1 else [2, 0, 1]
    explainer = medxai.cams.create(
        variant,
        model,
        target_layers=list(TinyNet.LAYERS),
        lnorm=lnorm,
        batch_size=5,
        intermediate=True,
    )
    result = explainer(x, targets=targets)
    assert result.settings["shared_constant_channels"] >= 3  # the dead channel, per sample
    for b in range(3):
        levels, inter = literal_polycam(model, x[b], targets[b], TinyNet.LAYERS, variant, lnorm)
        assert len(result.levels) == len(levels) == 3
        for ours, ref in zip(result.levels, levels):
            torch.testing.assert_close(ours[b, 0], ref, atol=1e-5, rtol=0)
        for ours, ref in zip(result.intermediate, inter):
            torch.testing.assert_close(ours[b, 0], ref, atol=1e-5, rtol=0)
    assert torch.equal(result.saliency, result.levels[-1])
    assert result.targets.tolist() == targets
    assert not result.approximate


def test_batch_of_one_and_predicted_target_equal_literal() -> None:
    model = TinyNet(3)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    result = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)(x)
    levels, _ = literal_polycam(model, x[0], None, TinyNet.LAYERS, "pcam±", True)
    torch.testing.assert_close(result.saliency[0, 0], levels[-1], atol=1e-5, rtol=0)
    assert int(result.targets[0]) == int(model(x).argmax())


def test_batch_equals_per_sample_and_chunking_does_not_matter() -> None:
    model = TinyNet(3)
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    explainer = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, batch_size=64)
    batched = explainer(x, [0, 1, 2, 1])
    bound = 3 * 3 * 32 * 32 * 4  # three float32 images
    tiny = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, max_batch_bytes=bound)
    chunked = tiny(x, [0, 1, 2, 1])
    assert chunked.settings["batch_size"] == 3
    assert chunked.settings["masked_forward_calls"] > batched.settings["masked_forward_calls"]
    for b, t in enumerate([0, 1, 2, 1]):
        alone = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)(x[b : b + 1], t)
        for level_b, level_c, level_1 in zip(batched.levels, chunked.levels, alone.levels):
            torch.testing.assert_close(level_b[b], level_1[0], atol=1e-5, rtol=0)
            torch.testing.assert_close(level_c[b], level_1[0], atol=1e-5, rtol=0)
        assert batched.scores[b] == pytest.approx(float(alone.scores[0]), abs=1e-6)


def test_pass_counts_and_constant_channel_dedup() -> None:
    model = TinyNet(3)
    x = torch.randn(2, 3, 32, 32)
    result = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)(x)
    s = result.settings
    dead = s["shared_constant_channels"]
    live = 2 * (4 + 6 + 8) - dead
    assert s["baseline_passes"] == 1
    # ± scores each live mask twice (⊙M and ⊙(1-M)) and one zero image per sample with dead
    samples_with_dead = 2  # the planted dead channel is dead for every input
    assert s["masked_passes"] == 2 * live + samples_with_dead
    plus = PolyCAM(model, "pcam+", target_layers=TinyNet.LAYERS)(x).settings["masked_passes"]
    assert plus == live + samples_with_dead


def test_callable_target_equals_class_index() -> None:
    model = TinyNet(3)
    x = torch.randn(2, 3, 32, 32)
    explainer = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)
    by_index = explainer(x, targets=1)
    by_fn = explainer(x, targets=lambda logits: torch.softmax(logits, 1)[:, 1])
    torch.testing.assert_close(by_fn.saliency, by_index.saliency, atol=1e-6, rtol=0)
    assert by_fn.targets.tolist() == [-1, -1]


# ---------------------------------------------------------------- planted evidence


@pytest.mark.parametrize("method", ["pcam±", "pcam+", "cam"])
@pytest.mark.parametrize("n_out", [2, 1])
def test_pointing_game_on_planted_patch(method: str, n_out: int) -> None:
    model = PatchNet(n_out)
    generator = torch.Generator().manual_seed(123)
    places = torch.randint(0, 32 - 8, (20, 2), generator=generator).tolist()
    x = torch.cat([patch_image(r, c, generator=generator) for r, c in places])
    options = {} if method == "cam" else {"target_layers": PatchNet.LAYERS}
    result = medxai.cams.create(method, model, **options)(x, targets=1)
    hits = 0
    for (r, c), sal in zip(places, result.saliency[:, 0]):
        i, j = divmod(int(sal.argmax()), 32)
        hits += r <= i < r + 8 and c <= j < c + 8
    assert hits / len(places) >= 0.95


def test_single_logit_weights_differ_between_channels() -> None:
    """With the softmax-over-one-logit bug every weight would be 1 and the layer map would be
    N(ReLU(Σ_k A_k)); the sigmoid gives channel-specific weights."""
    model = PatchNet(1)
    x = patch_image(4, 20)
    result = PolyCAM(model, "pcam+", target_layers=PatchNet.LAYERS, intermediate=True)(x, 1)
    acts = {}
    hook = model.r1.register_forward_hook(lambda _m, _i, o: acts.__setitem__("r1", o.clone()))
    with torch.no_grad():
        model(x)
    hook.remove()
    equal_weights = literal_resize(literal_normalise(torch.relu(acts["r1"][0].sum(0))), (32, 32))
    assert (result.intermediate[-1][0, 0] - equal_weights).abs().max() > 0.05
    assert 0.0 < float(result.scores[0]) < 1.0


# ---------------------------------------------------------------- fast mode, bf16


def test_channel_budget_is_approximate_and_recorded() -> None:
    model = TinyNet(3)
    x = torch.randn(2, 3, 32, 32)
    exact = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)(x, 0)
    fast = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=3)(x, 0)
    assert fast.approximate and fast.settings["channel_budget"] == 3
    assert len(fast.settings["clusters"]) == 3 and len(fast.settings["error_estimate"]) == 2
    assert fast.settings["masked_passes"] < exact.settings["masked_passes"]
    assert fast.saliency.shape == exact.saliency.shape
    assert float(fast.saliency.min()) >= 0 and float(fast.saliency.max()) <= 1
    roomy = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=100)(x, 0)
    assert not roomy.approximate
    torch.testing.assert_close(roomy.saliency, exact.saliency, atol=1e-6, rtol=0)


def test_fast_mode_options_are_recorded_and_checked() -> None:
    model = TinyNet(3)
    x = torch.randn(1, 3, 32, 32)
    fast = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=2)(x, 0)
    assert fast.approximate and fast.settings["tolerance"] is None
    exact = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)(x, 0)
    assert "clusters" not in exact.settings and "error_estimate" not in exact.settings
    with pytest.raises(TypeError):
        PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_selection="peak")
    with pytest.raises(ValueError, match="tolerance"):
        PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, tolerance=1.5)
    with pytest.raises(ValueError, match="channel_budget"):
        PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, channel_budget=0)


def test_bf16_autocast_is_recorded_and_close() -> None:
    model = TinyNet(3)
    x = torch.randn(1, 3, 32, 32)
    exact = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS)(x, 0)
    fast = PolyCAM(model, "pcam±", target_layers=TinyNet.LAYERS, autocast="bf16")(x, 0)
    assert fast.approximate and fast.settings["autocast"] == "bf16"
    assert torch.isfinite(fast.saliency).all()
    assert (fast.saliency - exact.saliency).abs().mean() < 0.1


def test_registry_names_and_aliases() -> None:
    model = TinyNet(3)
    for name, method in [
        ("pcampm", "pcam±"),
        ("pcam+-", "pcam±"),
        ("PCAMP", "pcam+"),
        ("pcamm", "pcam-"),
        ("pcam−", "pcam-"),
    ]:
        explainer = medxai.cams.create(name, model, target_layers=TinyNet.LAYERS)
        assert explainer.method == method
        assert explainer.target_layers == list(TinyNet.LAYERS)
    made = medxai.cams.create("pcam±", model, target_layers=None, lnorm=True, batch_size=64)
    assert made.target_layers == ["body.1", "body.3", "body"]
