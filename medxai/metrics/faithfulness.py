"""Insertion and deletion (Petsiuk et al. 2018), with the Poly-CAM paper's protocol.

For one input ``X`` (``C×H×W``, normalised for the model), its map ``S`` and target class
``c`` with score ``s(·)`` (the class probability: softmax, or the sigmoid for one logit,
see :func:`medxai.cams.targets.class_probability`):

- Baseline ``X̃ = G(X)``: a Gaussian blur of the normalised input, kernel 11×11, σ = 5
  (``torchvision.transforms.functional.gaussian_blur``, reflect padding).
- Ranking: ``S`` is resized bilinearly (``align_corners=False``) to ``H×W`` and its pixels
  are ranked from most to least salient, ``r(p) ∈ {0, …, HW−1}``; ties keep raster order
  (a stable sort). All channels of a pixel move together.
- Steps: ``n = max(H, W)`` by default (``H`` for the paper's square inputs; the longer
  side for a non-square one, so each step still moves at most about one row of pixels).
  Step ``k ∈ {0, …, n}`` moves the ``N_k = ⌊k·HW/n⌋`` top-ranked pixels
  (``N_0 = 0``, ``N_n = HW``).
- Insertion: ``I_k = where(r < N_k, X, X̃)`` (from the blurred image toward the original);
  deletion: ``D_k = where(r < N_k, X̃, X)`` (from the original toward the blurred image).
- Curves: ``ins_k = s(I_k)``, ``del_k = s(D_k)``, ``n + 1`` points each.
- AUC: the mean of the ``n + 1`` points, ``AUC = (1/(n+1)) Σ_{k=0..n} curve_k``, step 0
  and the final step included and weighted like every other step (the trapezoid rule
  would give the two end points half weight instead).
- Difference: ``insertion AUC − deletion AUC`` (higher is better).

The step images are never materialised per step in Python: each chunk of at most
``batch_size`` (image, step, mode) triples is built with one ``torch.where`` on
``rank < N_k`` and scored in one forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torchvision.transforms.functional import gaussian_blur

from medxai.cams.targets import Targets
from medxai.metrics._model import chunked_scores, evaluation, resolve
from medxai.metrics.geometry import resize_maps

__all__ = ["FaithfulnessResult", "blur_baseline", "insertion_deletion", "pixel_ranks"]


@dataclass
class FaithfulnessResult:
    """Insertion and deletion curves and their AUCs for a batch of ``B`` inputs.

    Attributes:
        insertion: ``B×(n+1)`` scores ``s(I_k)``, ``k = 0..n``.
        deletion: ``B×(n+1)`` scores ``s(D_k)``.
        fractions: ``n+1`` fractions of pixels moved, ``N_k / HW``.
        targets: ``B`` classes explained (``-1`` for a callable target).
        scores: ``B`` scores of the unmodified inputs.
    """

    insertion: Tensor
    deletion: Tensor
    fractions: Tensor
    targets: Tensor
    scores: Tensor

    @property
    def insertion_auc(self) -> Tensor:
        """``B`` insertion AUCs, the mean of the ``n+1`` curve points."""
        return self.insertion.mean(dim=1)

    @property
    def deletion_auc(self) -> Tensor:
        """``B`` deletion AUCs, the mean of the ``n+1`` curve points."""
        return self.deletion.mean(dim=1)

    @property
    def difference(self) -> Tensor:
        """``B`` values of insertion AUC − deletion AUC."""
        return self.insertion_auc - self.deletion_auc


def blur_baseline(x: Tensor, kernel_size: int = 11, sigma: float = 5.0) -> Tensor:
    """The blurred baseline ``G(X)``: Gaussian, ``kernel_size²`` pixels, std ``sigma``."""
    return gaussian_blur(x, kernel_size=[kernel_size, kernel_size], sigma=[sigma, sigma])


def pixel_ranks(saliency: Tensor, size: tuple[int, int]) -> Tensor:
    """``B×1×H×W`` long ranks of the map resized to ``size``: 0 = most salient pixel.

    Ties keep raster order (stable descending sort).
    """
    maps = resize_maps(saliency, size).flatten(1)
    order = torch.sort(maps, dim=1, descending=True, stable=True).indices
    ranks = torch.empty_like(order)
    positions = torch.arange(order.shape[1], device=order.device).expand_as(order)
    ranks.scatter_(1, order, positions)
    return ranks.view(-1, 1, *size)


def insertion_deletion(
    model: nn.Module,
    x: Tensor,
    saliency: Tensor,
    targets: Targets = None,
    *,
    steps: int | None = None,
    batch_size: int = 64,
    baseline: Tensor | None = None,
) -> FaithfulnessResult:
    """Insertion and deletion curves of ``saliency`` for ``model`` on ``x`` (module doc).

    Args:
        model: the classifier; run in eval mode without gradients, flags restored.
        x: ``B×C×H×W`` inputs, normalised for the model.
        saliency: ``B×1×h×w`` maps (any size; resized bilinearly to ``H×W``).
        targets: as for the explainers; ``None`` explains the predicted class.
        steps: ``n``; default ``max(H, W)``.
        batch_size: most step images per forward pass.
        baseline: the image the curves start (insertion) or end (deletion) at;
            default :func:`blur_baseline` of ``x``.
    """
    if x.ndim != 4:
        raise ValueError(f"expected B×C×H×W inputs, got {tuple(x.shape)}")
    batch, _, height, width = x.shape
    n = max(height, width) if steps is None else int(steps)
    if n < 1 or batch_size < 1:
        raise ValueError("steps and batch_size must be ≥ 1")
    blurred = blur_baseline(x) if baseline is None else baseline.to(x)
    ranks = pixel_ranks(saliency.to(x.device), (height, width))
    counts = (torch.arange(n + 1, device=x.device) * (height * width)) // n  # N_k

    # jobs: every (sample, step, mode) triple, mode 0 = insertion, 1 = deletion
    sample = torch.arange(batch, device=x.device).repeat_interleave(2 * (n + 1))
    mode = torch.arange(2, device=x.device).repeat_interleave(n + 1).repeat(batch)
    step = torch.arange(n + 1, device=x.device).repeat(2 * batch)
    out = torch.empty(sample.numel(), dtype=torch.float32)
    with evaluation(model):
        spec, scores = resolve(model, x, targets)
        for start in range(0, sample.numel(), batch_size):
            idx = slice(start, start + batch_size)
            i, k, deleting = sample[idx], step[idx], mode[idx].bool()
            moved = ranks[i] < counts[k].view(-1, 1, 1, 1)
            keep_original = moved ^ deleting.view(-1, 1, 1, 1)
            images = torch.where(keep_original, x[i], blurred[i])
            out[idx] = chunked_scores(model, spec, images, i).float().cpu()
    curves = out.view(batch, 2, n + 1)
    return FaithfulnessResult(
        insertion=curves[:, 0],
        deletion=curves[:, 1],
        fractions=counts.cpu().float() / (height * width),
        targets=spec.classes.clone(),
        scores=scores.float().cpu(),
    )
