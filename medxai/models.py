"""Classifier factory: torchvision backbones with a single "abnormal" logit.

:func:`build_classifier` builds ResNet-18/34/50 or DenseNet-121/169 and replaces the final
layer by ``nn.Linear(features, num_outputs)``. With ``num_outputs=1`` (the default) the one
output is the logit of the "abnormal" class; ``sigmoid(logit)`` is the abnormality
probability.

ImageNet weights are never downloaded. ``weights="IMAGENET1K_V1"`` reads the file that
torchvision would have cached, ``$TORCH_HOME/hub/checkpoints/<file>`` (``<file>`` is the last
part of the weights' URL, e.g. ``resnet50-0676ba61.pth``); a path to a ``.pth`` file can be
given instead. A missing file raises :class:`~medxai.errors.MedxaiError` at once with a
one-line message naming the file and where to put it. Weight files are always read with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
import torchvision.models as tvm
from torch import nn

from medxai.errors import InputError, MedxaiError

#: Architectures :func:`build_classifier` knows, with their torchvision constructors.
ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "resnet18": tvm.resnet18,
    "resnet34": tvm.resnet34,
    "resnet50": tvm.resnet50,
    "densenet121": tvm.densenet121,
    "densenet169": tvm.densenet169,
}

#: Spellings of "no pretrained weights" (a YAML ``null`` arrives as ``None``).
RANDOM_INIT = (None, "", "none", "null", "random")

# Old-style DenseNet keys in torchvision's weight files: "denselayer1.norm.1.weight"
# stands for the attribute "denselayer1.norm1.weight".
_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$"
)


def torch_hub_checkpoints() -> Path:
    """Folder where torchvision caches weight files: ``$TORCH_HOME/hub/checkpoints``."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def pretrained_filename(arch: str, weights: str) -> str:
    """The file name torchvision uses for ``arch``'s ``weights`` enum entry (e.g. IMAGENET1K_V1)."""
    enum = tvm.get_model_weights(arch)
    try:
        entry = enum[weights]
    except KeyError:
        known = ", ".join(w.name for w in enum)
        raise MedxaiError(
            f"unknown weights {weights!r} for {arch}; use one of {known}, a .pth file path, or null"
        ) from None
    return os.path.basename(entry.url)


def resolve_weights_file(arch: str, weights: str | os.PathLike[str]) -> Path:
    """The local file holding ``weights`` for ``arch``; raises :class:`MedxaiError` if absent."""
    text = os.fspath(weights)
    if text.endswith((".pth", ".pt")) or os.sep in text or Path(text).is_file():
        path = Path(text).expanduser()
        if not path.is_file():
            raise InputError(path, "weights file not found")
        return path
    filename = pretrained_filename(arch, text)
    path = torch_hub_checkpoints() / filename
    if not path.is_file():
        raise MedxaiError(
            f"{arch} {text} weights not found: no internet downloads here; put {filename} at "
            f"{path} (or set TORCH_HOME, or pass the file path as weights, or weights: null "
            "for random init)"
        )
    return path


def _load_weight_file(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        problem = f"cannot read as a PyTorch weights file ({type(exc).__name__})"
        raise InputError(path, problem) from exc
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise InputError(path, "not a state dict of tensors")
    return {
        _DENSENET_OLD_KEY.sub(r"\1\2", key): value
        for key, value in state.items()
        if isinstance(value, torch.Tensor)
    }


def _backbone_head(model: nn.Module) -> tuple[str, nn.Linear]:
    if isinstance(getattr(model, "fc", None), nn.Linear):
        return "fc", model.fc
    if isinstance(getattr(model, "classifier", None), nn.Linear):
        return "classifier", model.classifier
    raise TypeError(f"no final linear layer found on {type(model).__name__}")  # pragma: no cover


def build_classifier(
    arch: str = "resnet50",
    num_outputs: int = 1,
    weights: str | os.PathLike[str] | None = "IMAGENET1K_V1",
) -> nn.Module:
    """Build ``arch`` with its final layer replaced by ``num_outputs`` logits.

    Args:
        arch: one of :data:`ARCHITECTURES`.
        num_outputs: size of the new final layer; 1 means one "abnormal" logit.
        weights: ``"IMAGENET1K_V1"`` (or another torchvision weights name) read from the
            torchvision cache, a path to a weights file, or ``None``/``"null"`` for random
            initialisation. The backbone weights are loaded strictly; the new head is always
            freshly initialised.

    Raises:
        MedxaiError: unknown architecture, or the weights file is missing or unreadable.
    """
    if arch not in ARCHITECTURES:
        raise MedxaiError(f"unknown architecture {arch!r}; use one of {', '.join(ARCHITECTURES)}")
    if num_outputs < 1:
        raise MedxaiError(f"num_outputs must be at least 1, got {num_outputs}")
    state = None
    if not (weights is None or (isinstance(weights, str) and weights.lower() in RANDOM_INIT)):
        state = _load_weight_file(resolve_weights_file(arch, weights))
    model = ARCHITECTURES[arch](weights=None)
    if state is not None:
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            detail = " ".join(str(exc).split())[:200]
            raise MedxaiError(f"weights do not fit {arch}: {detail}") from exc
    name, old = _backbone_head(model)
    setattr(model, name, nn.Linear(old.in_features, num_outputs))
    return model
