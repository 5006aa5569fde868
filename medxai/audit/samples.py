"""Images of a MURA-layout split with their truth, ready for a model.

:func:`load_images` reads a split once: the gray pixels at their own size, the model
input (resized and normalised as in training), the label, the study, the cast mask
(``<study>/masks/<image>_cast.png`` when present, see :mod:`medxai.io.masks`) and
the annotation shapes (the study's ``annotations.json``). The same code reads phantoms
and MURA; a MURA copy without cast masks gives ``cast=None`` everywhere (then segment
casts with :func:`medxai.audit.cast.segment_cast`).

:func:`predict` and :func:`explain` run a model and a saliency method in batches.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from medxai.data.index import build_index
from medxai.data.transforms import IMAGENET_MEAN, IMAGENET_STD, read_radiograph_png, to_model_input
from medxai.io.masks import annotation_mask_for, cast_mask_for, study_annotations

__all__ = ["AuditImage", "explain", "inputs_of", "load_images", "predict"]


@dataclass
class AuditImage:
    """One image and its truth. ``pixels`` is ``H×W`` float in ``[0, 1]``."""

    path: Path
    study: str
    body_part: str
    label: int
    pixels: np.ndarray
    x: Tensor  # C×S×S model input
    cast: np.ndarray | None = None  # H×W bool, None without a (non-empty) mask
    annotation: np.ndarray | None = None  # H×W bool union of the shapes, None if none
    shapes: list[Any] = field(default_factory=list)

    @property
    def has_cast(self) -> bool:
        return self.cast is not None


def load_images(
    root: str | os.PathLike[str],
    split: str = "valid",
    *,
    size: int,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    limit: int | None = None,
) -> list[AuditImage]:
    """Every image of ``split`` under ``root`` (the first ``limit`` in index order)."""
    index = build_index(root).filter(split=split)
    records = index.images[:limit] if limit is not None else index.images
    annotations: dict[Path, dict[str, list]] = {}
    out = []
    for record in records:
        path = Path(record.path)
        pixels = read_radiograph_png(path, record.root)
        h, w = pixels.shape
        folder = path.parent
        if folder not in annotations:
            annotations[folder] = study_annotations(folder, record.root)
        shapes = list(annotations[folder].get(path.name, []))
        out.append(
            AuditImage(
                path=path,
                study=record.study_id,
                body_part=record.body_part,
                label=int(record.label),
                pixels=pixels,
                x=to_model_input(pixels, size, mean, std),
                cast=cast_mask_for(path, h, w, record.root),
                annotation=annotation_mask_for(path, h, w, annotations[folder]),
                shapes=shapes,
            )
        )
    return out


def inputs_of(images: Sequence[AuditImage]) -> Tensor:
    """The ``B×C×S×S`` batch of the images' model inputs."""
    return torch.stack([image.x for image in images])


def predict(model: nn.Module, x: Tensor, batch_size: int = 64) -> np.ndarray:
    """Abnormality probabilities ``σ(z)`` of a single-logit ``model`` for ``x`` (float64)."""
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                logits = model(x[start : start + batch_size]).reshape(-1)
                out.append(torch.sigmoid(logits.float()).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).double().numpy() if out else np.zeros(0)


def explain(explainer: Any, x: Tensor, targets: Any = 1, batch_size: int = 16) -> np.ndarray:
    """``B×S×S`` saliency maps (float64 in ``[0, 1]``) of ``explainer`` for ``targets``.

    The default target is class 1, "abnormal": the audits ask what makes the model call
    an image abnormal, whatever it predicted.
    """
    maps = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        result = explainer(batch, targets=targets)
        maps.append(result.saliency.detach().float().cpu()[:, 0])
    return torch.cat(maps).double().numpy() if maps else np.zeros((0, 0, 0))
