"""Tests for :mod:`medxai.models`: architectures, head, offline ImageNet weights."""

from __future__ import annotations

import pytest
import torch

from medxai.errors import InputError, MedxaiError
from medxai.models import ARCHITECTURES, build_classifier, pretrained_filename


def test_single_abnormal_logit() -> None:
    model = build_classifier("resnet18", weights=None).eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 1)


def test_null_spellings_give_random_init() -> None:
    for spelling in (None, "null", "None"):
        assert build_classifier("resnet18", weights=spelling) is not None


def test_all_architectures_have_a_weights_file_name() -> None:
    for arch in ARCHITECTURES:
        assert pretrained_filename(arch, "IMAGENET1K_V1").endswith(".pth")


def test_missing_imagenet_weights_name_the_file_and_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(MedxaiError) as info:
        build_classifier("resnet50", weights="IMAGENET1K_V1")
    message = str(info.value)
    assert "\n" not in message
    assert "resnet50-0676ba61.pth" in message
    assert str(tmp_path / "hub" / "checkpoints") in message


def test_weights_from_cache_and_from_path(tmp_path, monkeypatch) -> None:
    source = build_classifier("resnet18", num_outputs=1000, weights=None)
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(source.state_dict(), folder / "resnet18-f37072fd.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = build_classifier("resnet18", weights="IMAGENET1K_V1")
    explicit = build_classifier("resnet18", weights=folder / "resnet18-f37072fd.pth")
    for model in (cached, explicit):
        assert torch.equal(model.conv1.weight, source.conv1.weight)
        assert model.fc.out_features == 1


def test_densenet_old_style_keys_are_renamed(tmp_path) -> None:
    source = build_classifier("densenet121", num_outputs=1000, weights=None)
    state = {
        k.replace("norm1.", "norm.1.").replace("conv2.", "conv.2."): v
        for k, v in source.state_dict().items()
    }
    torch.save(state, tmp_path / "old.pth")
    model = build_classifier("densenet121", weights=tmp_path / "old.pth")
    key = "features.denseblock1.denselayer1.norm1.weight"
    assert torch.equal(model.state_dict()[key], source.state_dict()[key])
    assert model.classifier.out_features == 1  # DenseNet's head is "classifier"


def test_bad_inputs(tmp_path) -> None:
    with pytest.raises(MedxaiError, match="unknown architecture"):
        build_classifier("vgg11", weights=None)
    with pytest.raises(InputError, match="not found"):
        build_classifier("resnet18", weights=tmp_path / "absent.pth")
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(InputError):
        build_classifier("resnet18", weights=tmp_path / "text.pth")
