"""Tests for :mod:`medxai.checkpoint`: metadata round trip and refusal of wrong files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from medxai.checkpoint import (
    CLASS_NAMES,
    abnormal_index,
    explained_class,
    load_classifier,
    make_metadata,
    validate_metadata,
)
from medxai.errors import InputError, MedxaiError
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


def _valid_metadata(**changes) -> dict:
    meta = make_metadata(arch="resnet18", input_size=64, mean=(0.5,) * 3, std=(0.25,) * 3)
    meta.update(changes)
    return meta


def test_validate_metadata_converts_types() -> None:
    meta = validate_metadata(_valid_metadata(threshold=None, metrics=None))
    assert meta["mean"] == (0.5, 0.5, 0.5) and meta["std"] == (0.25, 0.25, 0.25)
    assert meta["class_names"] == CLASS_NAMES and meta["num_outputs"] == 1
    assert meta["threshold"] == 0.5 and meta["metrics"] == {}
    assert validate_metadata(_valid_metadata(input_size=2048, threshold=1))["threshold"] == 1.0
    assert validate_metadata(_valid_metadata(num_outputs=2))["num_outputs"] == 2


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"input_size": 31}, "input_size 31 is outside 32 to 2048"),
        ({"input_size": 2049}, "input_size 2049 is outside"),
        ({"input_size": 64.0}, "input_size must be a whole number"),
        ({"input_size": True}, "input_size must be a whole number"),
        ({"mean": (0.5, 0.5, 0.5, 0.5)}, "mean must be 3 numbers"),
        ({"mean": [0.5, "0.5", 0.5]}, "mean must be 3 finite numbers"),
        ({"std": [0.2, float("inf"), 0.2]}, "std must be 3 finite numbers"),
        ({"std": [0.2, -0.1, 0.2]}, "std must be positive"),
        ({"class_names": ["normal", ""]}, "class_names must be a list of non-empty names"),
        ({"class_names": "normal,abnormal"}, "class_names must be a list"),
        ({"threshold": float("nan")}, "threshold must be a probability"),
        ({"threshold": -0.1}, "threshold must be a probability"),
        ({"num_outputs": 0}, "num_outputs 0 is outside 1 to 1000"),
        ({"num_outputs": 3}, "2 class names for 3 logits"),
        ({"arch": "vgg16"}, "unknown architecture 'vgg16'"),
        ({"format": 2}, "newer medxai"),
        ({"provenance": "train.py"}, "provenance must be a dict"),
    ],
)
def test_validate_metadata_refuses(changes: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate_metadata(_valid_metadata(**changes))


def test_validate_metadata_refuses_non_dicts() -> None:
    with pytest.raises(ValueError, match="not a dict"):
        validate_metadata([1, 2])


def test_abnormal_index_rule() -> None:
    assert abnormal_index(["normal", "abnormal"], 1) == 1
    assert abnormal_index(["ABNORMAL ", "normal"], 1) == 0
    assert abnormal_index(["normal", "implant", "abnormal"], 3) == 2
    with pytest.raises(ValueError, match="name no 'abnormal' class"):
        abnormal_index(["fracture", "normal", "implant"], 3)
    with pytest.raises(ValueError, match="name more than one 'abnormal' class"):
        abnormal_index(["abnormal", "Abnormal"], 2)
    with pytest.raises(ValueError, match="1 class names for 1 logit"):
        abnormal_index(["abnormal"], 1)


def test_explained_class_for_evaluate_targets() -> None:
    assert explained_class("1", ["normal", "abnormal"], 1) == 1
    assert explained_class("0", ["normal", "abnormal"], 1) == 0
    assert explained_class("1", ["abnormal", "normal"], 2) == 0
    assert explained_class("0", ["abnormal", "normal"], 2) == 1
    assert explained_class("predicted", ["abnormal", "normal"], 2) is None
    assert explained_class("1", ["normal", "implant", "abnormal"], 3) == 2
    with pytest.raises(ValueError, match=r"--target 0 \(normal\) needs a two-class model"):
        explained_class("0", ["normal", "implant", "abnormal"], 3)


def test_training_resume_reads_metadata_through_the_validator() -> None:
    """Resuming training checks the metadata too: a bad one is one line, not a traceback."""
    from training.module import MuraClassifier

    module = MuraClassifier(arch="resnet18", weights=None)
    good = _valid_metadata(metrics={"latest": {"epoch": 2}, "best": {"epoch": 1}})
    module.on_load_checkpoint({"medxai": good})
    assert (module.latest_metrics, module.best_metrics) == ({"epoch": 2}, {"epoch": 1})
    with pytest.raises(MedxaiError, match="bad medxai metadata: input_size must be a whole"):
        module.on_load_checkpoint({"medxai": _valid_metadata(input_size="big")})
    with pytest.raises(MedxaiError, match="bad medxai metadata: medxai metadata is not a dict"):
        module.on_load_checkpoint({"medxai": ["not", "a", "dict"]})
