"""medxai checkpoints: the metadata format and :func:`load_classifier` for consumers.

A medxai checkpoint is a Lightning checkpoint (or any ``torch.save``'d dict) holding

* ``state_dict``: the classifier's weights, keys prefixed ``model.`` (the LightningModule
  attribute) or not prefixed at all;
* ``medxai`` (:data:`METADATA_KEY`): a dict of primitive types only (str, int, float, bool,
  None, lists and dicts of them), so that ``torch.load(path, weights_only=True)`` reads it:

  ============== ==============================================================
  key            value
  ============== ==============================================================
  format         :data:`FORMAT_VERSION` (int)
  medxai_version version of medxai that wrote it
  arch           ``build_classifier`` architecture name, e.g. ``"resnet50"``
  num_outputs    number of logits (1: the "abnormal" logit)
  input_size     side in pixels of the square input, e.g. 320
  mean, std      per-channel normalisation (3 floats each), applied after scaling to [0, 1]
  class_names    ``["normal", "abnormal"]``; with one logit it is the last class's logit
  threshold      decision threshold on the (study) probability, 0.5
  metrics        ``{"latest": {...}, "best": {...}}``: validation metrics (floats) plus
                 ``epoch``; ``best`` is the epoch with the highest ``val/study_kappa``
  provenance     data root, split counts, SHA-256 of the index, initial weights, epoch,
                 global step, training hyper-parameters
  ============== ==============================================================

Every file is read with ``torch.load(..., weights_only=True)``; nothing in it is executed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from medxai.errors import InputError, MedxaiError

#: Key of the medxai metadata dict inside a checkpoint.
METADATA_KEY = "medxai"
#: Version of the metadata layout described above.
FORMAT_VERSION = 1
#: Class names for a single-logit classifier: the logit is the "abnormal" class's.
CLASS_NAMES = ("normal", "abnormal")
#: Keys every metadata dict must hold.
REQUIRED_KEYS = ("format", "arch", "num_outputs", "input_size", "mean", "std", "class_names")


@dataclass
class LoadedClassifier:
    """A classifier restored from a medxai checkpoint, ready for inference.

    ``model`` is in eval mode on ``map_location``; its output for a batch normalised with
    ``mean``/``std`` at ``input_size``×``input_size`` is one logit per image (abnormal).
    """

    model: nn.Module
    arch: str
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    class_names: tuple[str, ...]
    threshold: float = 0.5
    metrics: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def make_metadata(
    *,
    arch: str,
    input_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    num_outputs: int = 1,
    metrics: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """The ``checkpoint["medxai"]`` dict, converted to primitive types only."""
    from medxai import __version__

    return to_primitive(
        {
            "format": FORMAT_VERSION,
            "medxai_version": __version__,
            "arch": arch,
            "num_outputs": num_outputs,
            "input_size": input_size,
            "mean": list(mean),
            "std": list(std),
            "class_names": list(CLASS_NAMES),
            "threshold": threshold,
            "metrics": dict(metrics or {}),
            "provenance": dict(provenance or {}),
        }
    )


def to_primitive(value: Any) -> Any:
    """``value`` with tensors, paths and tuples turned into floats/ints, strings and lists."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, Mapping):
        return {str(k): to_primitive(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_primitive(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def read_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """``torch.load(path, weights_only=True)``, with every failure as an :class:`InputError`."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "checkpoint file not found")
    if not path.is_file():
        raise InputError(path, "not a file (expected a .ckpt checkpoint)")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        text = str(exc)
        if "Unsupported global" in text or "GLOBAL" in text:
            problem = "holds objects that cannot be loaded safely (weights_only=True refused it)"
        else:
            problem = f"not a PyTorch checkpoint ({type(exc).__name__})"
        raise InputError(path, problem) from exc
    if not isinstance(data, Mapping):
        raise InputError(path, f"not a checkpoint dict (found {type(data).__name__})")
    return dict(data)


def read_metadata(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated ``checkpoint["medxai"]`` dict; raises :class:`InputError` if unusable."""
    meta = checkpoint.get(METADATA_KEY)
    if meta is None:
        if all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            problem = "a plain state dict without medxai metadata; train it with train.py"
        else:
            problem = "not a medxai checkpoint (no 'medxai' metadata); train it with train.py"
        raise InputError(path, problem)
    if not isinstance(meta, Mapping):
        raise InputError(path, "medxai metadata is not a dict")
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise InputError(path, f"medxai metadata lacks {', '.join(missing)}")
    if int(meta["format"]) > FORMAT_VERSION:
        raise InputError(
            path, f"written by a newer medxai (format {meta['format']}); upgrade medxai"
        )
    return dict(meta)


def classifier_state_dict(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> dict:
    """The classifier's weights with the LightningModule's ``model.`` prefix removed."""
    state = checkpoint.get("state_dict")
    if not isinstance(state, Mapping):
        raise InputError(path, "checkpoint has no state_dict")
    if any(k.startswith("model.") for k in state):
        return {k[len("model.") :]: v for k, v in state.items() if k.startswith("model.")}
    return dict(state)


def load_classifier(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> LoadedClassifier:
    """Load a medxai checkpoint written by ``train.py`` into an eval-mode classifier.

    Raises:
        InputError: the file is missing, not a torch file, refused by ``weights_only``,
            lacks the medxai metadata, or its weights do not fit the recorded architecture.
    """
    from medxai.models import build_classifier

    path = Path(path)
    checkpoint = read_checkpoint(path, map_location)
    meta = read_metadata(checkpoint, path)
    state = classifier_state_dict(checkpoint, path)
    try:
        model = build_classifier(str(meta["arch"]), int(meta["num_outputs"]), weights=None)
    except MedxaiError as exc:
        raise InputError(path, str(exc)) from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InputError(path, f"weights do not fit {meta['arch']} ({len(state)} tensors)") from exc
    model.to(map_location).eval()
    return LoadedClassifier(
        model=model,
        arch=str(meta["arch"]),
        input_size=int(meta["input_size"]),
        mean=tuple(float(v) for v in meta["mean"]),  # type: ignore[arg-type]
        std=tuple(float(v) for v in meta["std"]),  # type: ignore[arg-type]
        class_names=tuple(str(c) for c in meta["class_names"]),
        threshold=float(meta.get("threshold", 0.5)),
        metrics=dict(meta.get("metrics") or {}),
        provenance=dict(meta.get("provenance") or {}),
        path=path,
        metadata=meta,
    )
