"""Shared helpers for metrics that query a model: eval mode, target scores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
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
