"""Shared helpers for metrics that query a model: eval mode, maps at input size, scores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medxai.cams.targets import Targets, TargetSpec, resolve_targets


@contextmanager
def evaluation(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and no autograd for the block; every module's ``training`` flag restored."""
    flags = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            yield model
    finally:
        for module, training in flags:
            module.training = training


def maps_at_input_size(saliency: Tensor, size: tuple[int, int]) -> Tensor:
    """``B×1×h×w`` (or ``B×h×w``) maps resized bilinearly to ``B×1×H×W``, float32.

    ``align_corners=False``, no antialiasing; maps already at ``size`` are left unchanged.
    """
    maps = torch.as_tensor(saliency).float()
    if maps.ndim == 3:
        maps = maps[:, None]
    if maps.ndim != 4 or maps.shape[1] != 1:
        raise ValueError(f"expected B×1×h×w saliency maps, got {tuple(maps.shape)}")
    if tuple(maps.shape[-2:]) != tuple(size):
        maps = F.interpolate(maps, size=size, mode="bilinear", align_corners=False)
    return maps


def resolve(model: nn.Module, x: Tensor, targets: Targets) -> tuple[TargetSpec, Tensor]:
    """Resolve ``targets`` on the unmodified input; returns the spec and the scores ``Y``.

    Must be called inside :func:`evaluation`.
    """
    logits = model(x)
    spec = resolve_targets(targets, logits)
    return spec, spec.score(logits)


def chunked_scores(
    model: nn.Module, spec: TargetSpec, images: Tensor, sample_index: Tensor
) -> Tensor:
    """Scores of the targets of ``sample_index`` on ``images`` (one forward pass)."""
    logits = model(images)
    if spec.fn is not None:
        return spec.fn(logits).float().reshape(-1)
    return spec.score(logits, sample_index.cpu())
