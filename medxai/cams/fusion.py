"""Poly-CAM's layer maps and their deep → shallow fusion (docs/polycam.md).

- Layer map: ``L_l = ReLU(Σ_k w_lk · A_lk)``, NaN treated as 0.
- Fusion: ``P_n = L_n``; for ``l = n-1 … 1``: ``P_l = ReLU(LN(L_l) ⊙ Up_{h_l×w_l}(P_{l+1}))``.
- LNorm: ``LN(L_l) = L_l / max(Up_{h_l×w_l}(Down_{h_{l+1}×w_{l+1}}(L_l)), 1e-12)``, i.e.
  each pixel divided by its local mean at the coarser scale; identity when disabled.

``Up``/``Down`` are bilinear, ``align_corners=False``, no antialias.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

EPS = 1e-12


def resize(maps: Tensor, size: tuple[int, int] | torch.Size) -> Tensor:
    """Bilinear resize of ``B×C×h×w`` maps to ``size`` (``align_corners=False``)."""
    return F.interpolate(maps, size=tuple(size), mode="bilinear", align_corners=False)


def layer_map(weights: Tensor, activations: Tensor) -> Tensor:
    """``ReLU(Σ_k w_k · A_k)`` for ``weights`` ``B×K`` and ``activations`` ``B×K×h×w``."""
    total = torch.einsum("bk,bkhw->bhw", weights.to(activations.dtype), activations)
    return torch.relu(torch.nan_to_num(total, nan=0.0))[:, None]


def local_norm(fine: Tensor, coarse_size: tuple[int, int] | torch.Size) -> Tensor:
    """``LN(L) = L / max(Up(Down_{coarse}(L)), 1e-12)``."""
    local_mean = resize(resize(fine, coarse_size), fine.shape[-2:])
    return fine / local_mean.clamp_min(EPS)


def fuse(layer_maps: list[Tensor], *, lnorm: bool = True) -> list[Tensor]:
    """Fused maps ``P_l`` for ``layer_maps`` given shallow → deep; returned deep → shallow."""
    fused = [layer_maps[-1]]
    for fine, coarse in zip(layer_maps[-2::-1], layer_maps[:0:-1]):
        normed = local_norm(fine, coarse.shape[-2:]) if lnorm else fine
        fused.append(torch.relu(normed * resize(fused[-1], fine.shape[-2:])))
    return fused
