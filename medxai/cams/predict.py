"""Fast mode's scores for the channels it does not score: predicted from the scored ones.

Every target layer's mask ``M_lk`` acts on the same input, so ``sp = s(X ⊙ Up(M))`` and
``sm = s(X ⊙ (1 − Up(M)))`` are two functions of one thing, the upsampled mask, shared
by all layers. Fast mode scores a few channels per layer (:mod:`medxai.cams.plan`) and
predicts the scores of every other channel, of every layer, from all of them at once:

- *features*: each mask resized to :data:`SIDE` × :data:`SIDE` input-space cells
  (bilinear), ``u_k`` (``D = SIDE²`` values in ``[0, 1]``);
- *trend*: a ridge regression ``y ≈ β·u + c`` over the scored channels (penalty
  :data:`RIDGE` on ``β`` and ``c`` alike, as in the measured comparison: leaving ``c``
  unpenalised dropped PCAM+ on the demo model from 0.980 to 0.948), the first-order,
  RISE-like model of a masked score;
- *residual*: Gaussian-process (kernel) interpolation of the trend's residuals with the
  kernel ``exp(−d²/(2ℓ²))``, ``d`` the RMS distance of two features and ``ℓ`` the median
  distance between scored channels, plus :data:`JITTER` on the diagonal. It reproduces a
  scored channel's own score (up to the jitter) and returns to the trend far from every
  scored channel.

Scored channels keep their own scores exactly. Measured against copying the nearest
representative's scores (docs/benchmarks.md, "Clustered fast mode", "Predicted scores"):
PCAM± Spearman with the exact map on the harder 64 px model 0.972 against 0.890 at 8
scored channels per layer. PCAM− does not use it (:class:`~medxai.cams.polycam.PolyCAM`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: Side of the input-space grid the masks are compared on.
SIDE = 16
#: Ridge penalty of the linear trend (on masks in [0, 1], ``SIDE²`` features).
RIDGE = 1.0
#: Added to the kernel matrix's diagonal (numerical safety; scores are probabilities).
JITTER = 1e-3


def mask_features(masks: Tensor) -> Tensor:
    """``B×K×h×w`` normalised masks → ``B×K×SIDE²`` input-space features."""
    b, k, h, w = masks.shape
    flat = masks.reshape(b * k, 1, h, w).float()
    resized = F.interpolate(flat, size=(SIDE, SIDE), mode="bilinear", align_corners=False)
    return resized.reshape(b, k, SIDE * SIDE)


def predict_scores(train: Tensor, values: Tensor, query: Tensor) -> Tensor:
    """Predicted scores at ``query`` (``m×D``) from ``values`` (``n×S``, ``S`` scores per
    channel) scored at ``train`` (``n×D``): trend plus kernel interpolation (module doc).
    Computed in float64 on the inputs' device; returns ``m×S`` float32."""
    x, y, q = train.double(), values.double(), query.double()
    n, dim = x.shape
    ones = torch.ones(n, 1, dtype=x.dtype, device=x.device)
    design = torch.cat([x, ones], dim=1)
    penalty = RIDGE * torch.eye(dim + 1, dtype=x.dtype, device=x.device)
    beta = torch.linalg.solve(design.T @ design + penalty, design.T @ y)
    residual = y - design @ beta
    trend = torch.cat([q, torch.ones(len(q), 1, dtype=x.dtype, device=x.device)], 1) @ beta
    between = _distance(x, x)
    positive = between[between > 0]
    if n < 2 or positive.numel() == 0:
        return (trend + residual.mean(0, keepdim=True)).float()
    scale = positive.median()
    kernel = torch.exp(-0.5 * (between / scale) ** 2)
    kernel = kernel + JITTER * torch.eye(n, dtype=x.dtype, device=x.device)
    cross = torch.exp(-0.5 * (_distance(q, x) / scale) ** 2)
    return (trend + cross @ torch.linalg.solve(kernel, residual)).float()


def _distance(a: Tensor, b: Tensor) -> Tensor:
    """RMS distances between the rows of ``a`` and ``b`` (as
    :func:`medxai.cams.cluster.rms_distance`, without its ``n×m×D`` intermediate)."""
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist") / a.shape[1] ** 0.5


def fill_unscored(
    features: list[Tensor], scored: list[Tensor], live: list[Tensor], scores: list[list[Tensor]]
) -> list[list[Tensor]]:
    """Each image's unscored live channels' scores, predicted from its scored channels of
    every layer (:func:`predict_scores`); scored and constant channels keep theirs.

    Args:
        features: per layer, ``B×K_l×D`` (:func:`mask_features`).
        scored: per layer, ``B×K_l`` bool, the channels with masked passes.
        live: per layer, ``B×K_l`` bool, the non-constant channels.
        scores: per kind of score (e.g. ``[sp, sm]``), per layer ``B×K_l``.

    Returns:
        ``scores``' structure with the predictions filled in (new tensors).
    """
    out = [[s.clone() for s in kind] for kind in scores]
    for b in range(scored[0].shape[0]):
        train = torch.cat([f[b, s[b]] for f, s in zip(features, scored)])
        if not len(train):
            continue
        values = torch.stack(
            [torch.cat([s[b, m[b]] for s, m in zip(kind, scored)]) for kind in scores], 1
        )
        for layer, (f, s, lv) in enumerate(zip(features, scored, live)):
            wanted = lv[b] & ~s[b]
            if not wanted.any():
                continue
            predicted = predict_scores(train, values, f[b, wanted])
            for i, kind in enumerate(out):
                kind[layer][b, wanted] = predicted[:, i].to(kind[layer].dtype)
    return out
