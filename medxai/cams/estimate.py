"""How far a fast-mode Poly-CAM map may be from the exact one, estimated during the call.

In fast mode a channel that is not scored takes predicted scores (or, for PCAM−, its
representative's), so its weight is off by ``δw_k = w(s0, sp_k, sm_k) − w(s0, ŝp_k,
ŝm_k)``. The call measures this error where it is largest: in every layer that merged
channels, one member (the one farthest from its representative) is scored as well (a
*check*), and its scores are also predicted from the other scored channels, without the
checks. Each check gives
the ratio ``|δw| / d`` of its weight error to its mask distance ``d`` from the
representative; the image's error scale ``α`` is the largest ratio of its checks.

Model: every other member's weight error is ``α·d_k·ξ_k``, ``ξ_k`` standard normal,
independent. :data:`DRAWS` perturbed weight sets (``w_k + α·d_k·ξ_k``, clipped at 0 as
every Poly-CAM weight is) are drawn from a generator seeded with :data:`SEED`, each is
fused into a map exactly as the real weights are, and the estimate is the spread of these
maps around the fast map: the mean over draws of the Spearman rank correlation, of the
largest absolute difference and of the mean absolute difference. The same draws are
used for every image, so a batch gets what its images get alone.

What it is not: a bound. It assumes the error grows linearly with the mask distance,
with the slope of the worst measured member. docs/benchmarks.md records how it tracks
the true error on trained models.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

#: Perturbed weight sets per image.
DRAWS = 8
#: Seed of the perturbations.
SEED = 0


def average_ranks(values: Tensor) -> Tensor:
    """Ranks ``0..n−1`` of a 1-D tensor, ties sharing their average rank (as scipy)."""
    unique, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    del unique
    ends = counts.cumsum(0).double()
    average = ends - (counts.double() + 1.0) / 2.0
    return average[inverse]


def spearman(a: Tensor, b: Tensor) -> Tensor:
    """Spearman rank correlation of each pair of maps in two ``B×…`` batches (``B``);
    1 where both maps are constant, 0 where one of them is."""
    out = []
    for x, y in zip(a.flatten(1), b.flatten(1)):
        rx, ry = average_ranks(x.double()), average_ranks(y.double())
        rx, ry = rx - rx.mean(), ry - ry.mean()
        norm = rx.norm() * ry.norm()
        if float(norm) == 0.0:
            same = float(rx.norm()) == 0.0 and float(ry.norm()) == 0.0
            out.append(torch.tensor(1.0 if same else 0.0, dtype=torch.float64))
        else:
            out.append((rx * ry).sum() / norm)
    return torch.stack(out).float()


def error_scale(true: Tensor, approx: Tensor, distance: Tensor) -> Tensor:
    """``α``: the largest ``|true − approx| / distance`` over the checks of one image
    (1-D tensors); 0 when every check's weight was exact."""
    ratio = (true - approx).abs() / distance.clamp_min(1e-12)
    return ratio.max() if ratio.numel() else torch.zeros((), device=true.device)


def map_spread(
    saliency: Tensor,
    weights: list[Tensor],
    sigma: list[Tensor],
    to_saliency: Callable[[list[Tensor]], Tensor],
) -> dict[str, list[float]]:
    """The spread of the saliency under weight errors ``sigma·ξ`` (see the module doc).

    Args:
        saliency: the fast map, ``B×1×H×W``.
        weights: per layer, ``B×K_l`` weights that made it.
        sigma: per layer, ``B×K_l`` standard deviations of the weight errors.
        to_saliency: per-layer weights → ``B×1×H×W`` map, as the call makes it.

    Returns:
        ``{"spearman": [B], "max_abs": [B], "mean_abs": [B]}``, means over the draws.
    """
    generator = torch.Generator().manual_seed(SEED)
    draws = [
        [torch.randn(w.shape[1], generator=generator) for w in weights] for _ in range(DRAWS)
    ]
    rho, peak, mean = [], [], []
    for noise in draws:
        perturbed = [
            (w + s * xi.to(device=w.device, dtype=w.dtype)[None]).clamp_min(0.0)
            for w, s, xi in zip(weights, sigma, noise)
        ]
        other = to_saliency(perturbed)
        diff = (other - saliency).abs().flatten(1)
        rho.append(spearman(saliency, other))
        peak.append(diff.amax(1).float())
        mean.append(diff.mean(1).float())
    return {
        "spearman": torch.stack(rho).mean(0).tolist(),
        "max_abs": torch.stack(peak).mean(0).tolist(),
        "mean_abs": torch.stack(mean).mean(0).tolist(),
    }
