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
  num_outputs    number of logits, 1 to :data:`MAX_OUTPUTS` (1: the "abnormal" logit)
  input_size     side in pixels of the square input, :data:`MIN_INPUT_SIZE` to
                 :data:`MAX_INPUT_SIZE`, e.g. 320
  mean, std      per-channel normalisation (3 finite floats each, ``std > 0``), applied
                 after scaling to [0, 1]
  class_names    ``["normal", "abnormal"]``: distinct names, one per logit (two for one
                 logit, whose score is the last class's); exactly one is ``"abnormal"``
  threshold      decision threshold on the (study) probability, in [0, 1]; 0.5
  metrics        ``{"latest": {...}, "best": {...}}``: validation metrics (floats) plus
                 ``epoch``; ``best`` is the epoch with the highest ``val/study_kappa``
  provenance     data root, split counts, SHA-256 of the index, initial weights, epoch,
                 global step, training hyper-parameters
  ============== ==============================================================

Every file is read with ``torch.load(..., weights_only=True)``; nothing in it is executed.
:func:`read_metadata` checks every key above (types, ranges, lengths, finite values) before
anything is built from it, and :func:`load_classifier` refuses weights holding NaN or
infinite values, so that a broken checkpoint is refused with one line naming it instead of
producing a NaN probability.
"""

from __future__ import annotations

import math
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
#: The class whose probability the report and the evaluation explain (matched ignoring case).
ABNORMAL = "abnormal"
#: Smallest input side: the backbones downsample by 32 before their pooling layer.
MIN_INPUT_SIZE = 32
#: Largest input side. One ``3×S×S`` float32 input is ``12·S²`` bytes: 48 MiB at 2048
#: (MURA classifiers use 224 to 512), but 43 GB at 60,000, and the explainers run batches
#: of dozens of such inputs.
MAX_INPUT_SIZE = 2048
#: Most logits a classifier head may have (the head is built before the weights are read).
MAX_OUTPUTS = 1000
#: Default decision threshold on the study probability.
DEFAULT_THRESHOLD = 0.5


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
    threshold: float = DEFAULT_THRESHOLD
    metrics: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    num_outputs: int = 1

    @property
    def abnormal_index(self) -> int:
        """The class index of "abnormal" (see :func:`abnormal_index`)."""
        return abnormal_index(self.class_names, self.num_outputs)

    def explained_class(self, target: str) -> int | None:
        """:func:`explained_class` for this model; :class:`InputError` if it has no answer."""
        try:
            return explained_class(target, self.class_names, self.num_outputs)
        except ValueError as exc:
            raise InputError(self.path or "checkpoint", str(exc)) from None


def make_metadata(
    *,
    arch: str,
    input_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    num_outputs: int = 1,
    class_names: Sequence[str] = CLASS_NAMES,
    metrics: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
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
            "class_names": list(class_names),
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


def abnormal_index(class_names: Sequence[str], num_logits: int) -> int:
    """The class index of "abnormal", the class whose probability is reported.

    The rule: exactly one of ``class_names`` is ``"abnormal"`` (ignoring case and spaces),
    and its position is the index. With one logit ``z`` there are two classes and the
    logit is the last one's (class 1 → ``σ(z)``, class 0 → ``1 − σ(z)``); with ``K > 1``
    logits there is one name per logit (softmax). The index is what
    :func:`medxai.cams.targets.class_probability` takes.

    Raises:
        ValueError: the names do not match the logits, or do not say which is "abnormal".
    """
    names = [str(name).strip().lower() for name in class_names]
    expected = 2 if num_logits == 1 else num_logits
    if len(names) != expected:
        logits = "1 logit (2 classes)" if num_logits == 1 else f"{num_logits} logits"
        raise ValueError(f"{len(names)} class names for {logits}")
    found = [i for i, name in enumerate(names) if name == ABNORMAL]
    if len(found) != 1:
        which = "no" if not found else "more than one"
        raise ValueError(
            f"class_names {list(class_names)} name {which} '{ABNORMAL}' class, so the "
            f"probability of {ABNORMAL} is undefined"
        )
    return found[0]


def explained_class(target: str, class_names: Sequence[str], num_logits: int) -> int | None:
    """The class index that ``medxai evaluate --target`` names.

    ``"1"`` is the abnormal class (:func:`abnormal_index`), ``"0"`` the other class of a
    two-class model (one logit, or two), ``"predicted"`` is ``None`` (each image's
    predicted class).

    Raises:
        ValueError: ``"0"`` for a model with more than two classes, or an unknown target.
    """
    if target == "predicted":
        return None
    abnormal = abnormal_index(class_names, num_logits)
    if target == "1":
        return abnormal
    if target == "0":
        if len(class_names) != 2:
            raise ValueError(
                f"--target 0 (normal) needs a two-class model, not {list(class_names)}; "
                "use --target 1 or predicted"
            )
        return 1 - abnormal
    raise ValueError(f"unknown target {target!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(meta: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = meta[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} {value} is outside {low} to {high}")
    return value


def _channels(meta: Mapping[str, Any], key: str, positive: bool) -> tuple[float, float, float]:
    value = meta[key]
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise ValueError(f"{key} must be 3 numbers (one per channel), not {value!r}")
    if not all(_is_number(v) and math.isfinite(v) for v in value):
        raise ValueError(f"{key} must be 3 finite numbers, not {list(value)!r}")
    if positive and not all(v > 0 for v in value):
        raise ValueError(f"{key} must be positive (it divides the pixels), not {list(value)!r}")
    return (float(value[0]), float(value[1]), float(value[2]))


def validate_metadata(meta: Any) -> dict[str, Any]:
    """The metadata with every key of the table above checked and converted to its type.

    Returns a copy in which ``format``, ``num_outputs`` and ``input_size`` are ints,
    ``mean``/``std`` tuples of 3 floats, ``class_names`` a tuple of str, ``threshold`` a
    float (:data:`DEFAULT_THRESHOLD` when absent), ``metrics`` and ``provenance`` dicts.

    Raises:
        ValueError: the first problem, in words (:func:`read_metadata` adds the path).
    """
    from medxai.models import ARCHITECTURES

    if not isinstance(meta, Mapping):
        raise ValueError("medxai metadata is not a dict")
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise ValueError(f"medxai metadata lacks {', '.join(missing)}")
    checked = dict(meta)
    checked["format"] = _integer(meta, "format", 1, 10**6)
    if checked["format"] > FORMAT_VERSION:
        raise ValueError(f"written by a newer medxai (format {meta['format']}); upgrade medxai")
    arch = meta["arch"]
    if not isinstance(arch, str) or arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; use one of {', '.join(ARCHITECTURES)}")
    checked["num_outputs"] = _integer(meta, "num_outputs", 1, MAX_OUTPUTS)
    checked["input_size"] = _integer(meta, "input_size", MIN_INPUT_SIZE, MAX_INPUT_SIZE)
    checked["mean"] = _channels(meta, "mean", positive=False)
    checked["std"] = _channels(meta, "std", positive=True)
    names = meta["class_names"]
    if not isinstance(names, (list, tuple)) or not all(
        isinstance(n, str) and n.strip() for n in names
    ):
        raise ValueError(f"class_names must be a list of non-empty names, not {names!r}")
    if len({n.strip().lower() for n in names}) != len(names):
        raise ValueError(f"class_names {list(names)} repeat a name")
    abnormal_index(names, checked["num_outputs"])
    checked["class_names"] = tuple(names)
    threshold = meta.get("threshold", DEFAULT_THRESHOLD)
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    if not _is_number(threshold) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a probability in [0, 1], not {threshold!r}")
    checked["threshold"] = float(threshold)
    for key in ("metrics", "provenance"):
        value = meta.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise ValueError(f"{key} must be a dict, not {type(value).__name__}")
        checked[key] = dict(value or {})
    return checked


def read_metadata(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated ``checkpoint["medxai"]`` dict (:func:`validate_metadata`).

    Raises:
        InputError: no metadata, or metadata that :func:`validate_metadata` refuses.
    """
    meta = checkpoint.get(METADATA_KEY)
    if meta is None:
        if all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            problem = "a plain state dict without medxai metadata; train it with train.py"
        else:
            problem = "not a medxai checkpoint (no 'medxai' metadata); train it with train.py"
        raise InputError(path, problem)
    try:
        return validate_metadata(meta)
    except ValueError as exc:
        raise InputError(path, f"bad medxai metadata: {exc}") from None


def validation_metrics(metrics: Mapping[str, Any], epoch: Any) -> dict[str, Any] | None:
    """The validation metrics of the checkpoint's own weights.

    A checkpoint holds ``{"latest": {...}, "best": {...}}``; the group whose ``epoch`` is
    the checkpoint's epoch is chosen (else ``best``, else ``latest``, else a flat dict).
    Returns ``{"group", "epoch", "metrics"}``, or ``None`` when nothing is recorded.
    """
    groups = {k: v for k, v in metrics.items() if isinstance(v, Mapping)}
    chosen = next(
        (k for k, v in groups.items() if epoch is not None and v.get("epoch") == epoch), None
    )
    chosen = chosen or ("best" if "best" in groups else "latest" if "latest" in groups else None)
    values = (
        dict(groups[chosen])
        if chosen
        else {k: v for k, v in metrics.items() if not isinstance(v, Mapping)}
    )
    if not values:
        return None
    return {"group": chosen, "epoch": values.pop("epoch", epoch), "metrics": values}


def checkpoint_validation(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """:func:`validation_metrics` of the checkpoint file at ``path``: its metadata's
    ``metrics`` at its own epoch (``provenance.epoch``, else Lightning's ``epoch``).

    Only the metrics are read, so a checkpoint whose other metadata is incomplete still
    answers; a missing or unreadable file raises :class:`InputError`.
    """
    checkpoint = read_checkpoint(path)
    meta = checkpoint.get(METADATA_KEY)
    meta = meta if isinstance(meta, Mapping) else {}
    metrics = meta.get("metrics")
    provenance = meta.get("provenance")
    epoch = provenance.get("epoch") if isinstance(provenance, Mapping) else None
    if epoch is None:
        epoch = checkpoint.get("epoch")
    return validation_metrics(metrics if isinstance(metrics, Mapping) else {}, epoch)


def classifier_state_dict(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> dict:
    """The classifier's weights with the LightningModule's ``model.`` prefix removed."""
    state = checkpoint.get("state_dict")
    if not isinstance(state, Mapping):
        raise InputError(path, "checkpoint has no state_dict")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise InputError(path, "state_dict holds entries that are not named tensors")
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
        model = build_classifier(meta["arch"], meta["num_outputs"], weights=None)
    except MedxaiError as exc:
        raise InputError(path, str(exc)) from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InputError(path, f"weights do not fit {meta['arch']} ({len(state)} tensors)") from exc
    broken = non_finite_tensors(state)
    if broken:
        raise InputError(
            path,
            f"weights hold NaN or infinite values ({len(broken)} tensors, first {broken[0]}); "
            "the checkpoint is broken",
        )
    model.to(map_location).eval()
    return LoadedClassifier(
        model=model,
        arch=meta["arch"],
        input_size=meta["input_size"],
        mean=meta["mean"],
        std=meta["std"],
        class_names=meta["class_names"],
        threshold=meta["threshold"],
        metrics=meta["metrics"],
        provenance=meta["provenance"],
        path=path,
        metadata=meta,
        num_outputs=meta["num_outputs"],
    )


def non_finite_tensors(state: Mapping[str, Any]) -> list[str]:
    """Names of the floating-point tensors of ``state`` that hold NaN or ±inf."""
    return [
        name
        for name, value in state.items()
        if isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and not bool(torch.isfinite(value).all())
    ]


def require_finite(
    values: torch.Tensor, checkpoint: str | os.PathLike[str] | None, what: str
) -> None:
    """Raise :class:`InputError` naming ``checkpoint`` if ``values`` hold NaN or ±inf.

    A classifier whose weights are finite can still compute NaN (e.g. a negative
    batch-norm variance); no probability or map computed from such values may be reported.
    """
    if not bool(torch.isfinite(values).all()):
        raise InputError(
            checkpoint or "checkpoint",
            f"{what} is NaN or infinite; the checkpoint's weights or normalisation are broken",
        )
