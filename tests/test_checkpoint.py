"""Tests for :mod:`medxai.checkpoint`: metadata round trip and refusal of wrong files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from medxai.checkpoint import CLASS_NAMES, load_classifier, make_metadata
from medxai.errors import InputError
from medxai.models import build_classifier


def _write_checkpoint(path: Path, prefix: str = "model.") -> torch.nn.Module:
    model = build_classifier("resnet18", weights=None)
    meta = make_metadata(
        arch="resnet18",
        input_size=64,
        mean=(0.485, 0.456, 0.406),
        std=torch.tensor([0.229, 0.224, 0.225]),
        metrics={"best": {"val/study_kappa": torch.tensor(0.5), "epoch": 3}},
        provenance={"root": path.parent, "splits": {"train": (1, 2)}},
    )
    state = {prefix + k: v for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "medxai": meta, "epoch": 3}, path)
    return model


def test_round_trip(tmp_path: Path) -> None:
    model = _write_checkpoint(tmp_path / "a.ckpt")
    assert torch.load(tmp_path / "a.ckpt", weights_only=True)["medxai"]["arch"] == "resnet18"
    loaded = load_classifier(tmp_path / "a.ckpt")
    assert loaded.arch == "resnet18" and loaded.input_size == 64
    assert loaded.class_names == CLASS_NAMES
    assert loaded.std == pytest.approx((0.229, 0.224, 0.225))
    assert loaded.metrics["best"]["val/study_kappa"] == pytest.approx(0.5)
    assert loaded.provenance["root"] == str(tmp_path)
    assert loaded.path == tmp_path / "a.ckpt"
    assert not loaded.model.training
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded.model(x), model.eval()(x))


def test_unprefixed_state_dict_is_accepted(tmp_path: Path) -> None:
    _write_checkpoint(tmp_path / "b.ckpt", prefix="")
    assert load_classifier(tmp_path / "b.ckpt").arch == "resnet18"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("text", "not a PyTorch checkpoint"),
        ("state_dict", "plain state dict"),
        ("lightning", "no 'medxai' metadata"),
        ("pickle", "cannot be loaded safely"),
        ("list", "not a checkpoint dict"),
    ],
)
def test_wrong_files_raise_input_error(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "x.ckpt"
    if content == "text":
        path.write_text("not a checkpoint\n")
    elif content == "state_dict":
        torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    elif content == "lightning":
        torch.save({"state_dict": torch.nn.Linear(2, 2).state_dict(), "epoch": 1}, path)
    elif content == "pickle":
        torch.save({"medxai": {"arch": Path("x")}}, path)
    else:
        torch.save([1, 2], path)
    with pytest.raises(InputError, match=match) as info:
        load_classifier(path)
    assert info.value.path == str(path)


def test_missing_file_and_mismatched_weights(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_classifier(tmp_path / "absent.ckpt")
    meta = make_metadata(arch="resnet34", input_size=64, mean=(0, 0, 0), std=(1, 1, 1))
    state = build_classifier("resnet18", weights=None).state_dict()
    torch.save({"state_dict": state, "medxai": meta}, tmp_path / "c.ckpt")
    with pytest.raises(InputError, match="do not fit resnet34"):
        load_classifier(tmp_path / "c.ckpt")
