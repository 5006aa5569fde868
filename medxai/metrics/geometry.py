"""Saliency maps brought to another pixel grid: the one resize used by every measure.

A map is made at the model's square input size ``S×S``; the model saw the radiograph
squashed to that size without keeping the aspect ratio. A map is brought to an ``H×W``
grid (the input batch for the faithfulness metrics, the original image for localisation
and for drawing) by a plain bilinear resize, ``align_corners=False``, no antialiasing.
At the same size the resize is the identity and is skipped.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["map_at", "resize_maps"]


def resize_maps(saliency: Tensor, size: tuple[int, int]) -> Tensor:
    """``B×1×h×w`` (or ``B×h×w``) maps resized bilinearly to ``B×1×H×W``, float32.

    Maps already at ``size`` are left unchanged.
    """
    maps = torch.as_tensor(saliency).float()
    if maps.ndim == 3:
        maps = maps[:, None]
    if maps.ndim != 4 or maps.shape[1] != 1:
        raise ValueError(f"expected B×1×h×w saliency maps, got {tuple(maps.shape)}")
    if tuple(maps.shape[-2:]) != tuple(size):
        maps = F.interpolate(maps, size=tuple(size), mode="bilinear", align_corners=False)
    return maps


def map_at(saliency: Tensor | np.ndarray, height: int, width: int) -> np.ndarray:
    """One ``S×S`` map (or ``1×S×S``, ``1×1×S×S``) at ``height×width``, clamped at 0,
    as float64 (:func:`resize_maps`)."""
    maps = torch.as_tensor(saliency).detach().cpu()
    maps = resize_maps(maps.reshape(1, 1, *maps.shape[-2:]), (int(height), int(width)))
    return maps[0, 0].clamp(min=0).double().numpy()
