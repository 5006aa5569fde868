"""RISE: randomized input sampling for explanation (Petsiuk, Das, Saenko, BMVC 2018).

For an input ``X`` (``C×H×W``, normalised) and a target score ``s(·)`` (the class
probability: softmax, or the sigmoid for one logit; a callable target as given):

- Mask ``i = 1..N``: a binary ``s×s`` grid whose cells are 1 with probability ``p``,
  upsampled bilinearly (``align_corners=False``) to ``(s+1)·⌈H/s⌉ × (s+1)·⌈W/s⌉`` and
  cropped to ``H×W`` at a random shift ``(δ_y, δ_x) ∈ [0, ⌈H/s⌉) × [0, ⌈W/s⌉)``, which
  gives smooth masks ``M_i ∈ [0, 1]^{H×W}`` not aligned to the grid.
- Saliency ``S(p) = (1 / (N·p)) Σ_i s(X ⊙ M_i) · M_i(p)`` (the Monte-Carlo estimate of
  ``E[s(X ⊙ M) | M(p) = 1]``); masked-out pixels become 0, the dataset's mean colour.
- The returned map is ``S`` min–max normalised per sample to ``[0, 1]``.

Defaults ``N = 6000, s = 8, p = 0.1`` (the Poly-CAM paper's comparison). The random grids
and shifts (a few bytes per mask) are drawn up front from a generator seeded with
``seed``, so the result does not depend on ``batch_size``; the ``H×W`` masks are built on
the fly, one batch at a time, and every batch of masks is applied to all inputs.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medxai.cams.baselines import minmax_per_sample
from medxai.cams.hooks import eval_mode
from medxai.cams.registry import register
from medxai.cams.result import SaliencyResult
from medxai.cams.targets import Targets, TargetSpec, resolve_targets

__all__ = ["RISE", "rise_masks"]


def rise_masks(grids: Tensor, shifts: Tensor, size: tuple[int, int]) -> Tensor:
    """Smooth masks ``n×1×H×W`` from binary ``n×s×s`` grids and ``n×2`` (row, col) shifts."""
    n, s = grids.shape[0], grids.shape[-1]
    height, width = size
    cell_h, cell_w = math.ceil(height / s), math.ceil(width / s)
    up = F.interpolate(
        grids[:, None].float(),
        size=((s + 1) * cell_h, (s + 1) * cell_w),
        mode="bilinear",
        align_corners=False,
    )[:, 0]
    rows = shifts[:, 0, None] + torch.arange(height, device=grids.device)
    cols = shifts[:, 1, None] + torch.arange(width, device=grids.device)
    index = torch.arange(n, device=grids.device)[:, None, None]
    return up[index, rows[:, :, None], cols[:, None, :]][:, None]


@register("rise", accepts=("batch_size", "seed"))
class RISE:
    """RISE saliency (module doc for the formula).

    Args:
        model: the classifier.
        n_masks: ``N``.
        grid_size: ``s``.
        p: probability that a grid cell is kept.
        batch_size: most masked images per forward pass.
        seed: seeds the grids and shifts.
    """

    method = "rise"

    def __init__(
        self,
        model: nn.Module,
        *,
        n_masks: int = 6000,
        grid_size: int = 8,
        p: float = 0.1,
        batch_size: int = 64,
        seed: int = 0,
    ) -> None:
        if n_masks < 1 or grid_size < 1 or batch_size < 1:
            raise ValueError("n_masks, grid_size and batch_size must be ≥ 1")
        if not 0 < p <= 1:
            raise ValueError(f"p must be in (0, 1], got {p}")
        self.model = model
        self.n_masks, self.grid_size, self.p = n_masks, grid_size, p
        self.batch_size, self.seed = batch_size, seed

    @property
    def target_layers(self) -> list[str]:
        """RISE reads no layer: ``[]``."""
        return []

    def _random_draws(self, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
        generator = torch.Generator().manual_seed(self.seed)
        s = self.grid_size
        grids = torch.rand(self.n_masks, s, s, generator=generator) < self.p
        cells = torch.tensor([math.ceil(size[0] / s), math.ceil(size[1] / s)])
        shifts = (torch.rand(self.n_masks, 2, generator=generator) * cells).long()
        return grids, shifts

    def __call__(self, x: Tensor, targets: Targets = None) -> SaliencyResult:
        """Explain ``targets`` for ``x`` (``B×C×H×W``, normalised for the model)."""
        if not isinstance(x, Tensor) or x.ndim != 4:
            raise ValueError("expected a B×C×H×W tensor")
        batch, size = x.shape[0], (x.shape[2], x.shape[3])
        grids, shifts = self._random_draws(size)
        grids, shifts = grids.to(x.device), shifts.to(x.device)
        per_pass = max(1, self.batch_size // batch)  # masks per forward pass
        total = torch.zeros(batch, 1, *size, dtype=torch.float32, device=x.device)
        with eval_mode(self.model), torch.no_grad():
            logits = self.model(x)
            spec = resolve_targets(targets, logits)
            for start in range(0, self.n_masks, per_pass):
                stop = min(start + per_pass, self.n_masks)
                masks = rise_masks(grids[start:stop], shifts[start:stop], size).to(x.dtype)
                scores = self._masked_scores(x, masks, spec)  # B×n
                total += torch.einsum("bn,nhw->bhw", scores, masks[:, 0].float())[:, None]
        saliency = minmax_per_sample(total / (self.n_masks * self.p))
        return SaliencyResult(
            saliency=saliency,
            levels=[saliency],
            targets=spec.classes.clone(),
            scores=spec.score(logits).float(),
            method=self.method,
            settings=self._settings(),
        )

    def _masked_scores(self, x: Tensor, masks: Tensor, spec: TargetSpec) -> Tensor:
        """``B×n`` scores ``s(X_b ⊙ M_i)`` in one forward pass of ``B·n`` images."""
        batch, n = x.shape[0], masks.shape[0]
        images = (x[:, None] * masks[None]).flatten(0, 1)  # (b, i) → b·n + i
        logits = self.model(images)
        if spec.fn is not None:
            return spec.fn(logits).float().view(batch, n)
        sample = torch.arange(batch).repeat_interleave(n)
        return spec.score(logits, sample).float().view(batch, n)

    def _settings(self) -> dict[str, Any]:
        return {
            "n_masks": self.n_masks,
            "grid_size": self.grid_size,
            "p": self.p,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "score": "class probability",
        }
