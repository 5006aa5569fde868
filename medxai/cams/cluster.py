"""Grouping one layer's channel masks so that near-identical masks share one masked pass.

Poly-CAM scores a channel only through its mask: ``sp_k = s(X ⊙ Up(M_k))`` and
``sm_k = s(X ⊙ (1 − Up(M_k)))`` with ``M_k = N(A_k)``. Two channels whose masks are
close therefore score alike, and a cluster of such channels can be scored once, at one
member, its *representative*; every member then takes the representative's scores and
keeps its own activation and its own weight rule (docs/polycam.md, "Fast mode").

Distance. ``d(a, b) = sqrt(mean_p (a(p) − b(p))²)``, the root-mean-square difference of
two normalised masks over the feature map's pixels, in ``[0, 1]``. Masks are compared at
the layer's own resolution: ``Up`` is linear, so the RMS difference of the upsampled masks
equals this one up to the interpolation's smoothing, and the cost stays that of the
feature map. A masked score is a smooth function of the masked image, and the masked
images of two channels differ by ``X ⊙ Up(a − b)``, so the score difference shrinks with
``d``.

Algorithm, for the ``n`` masks of one layer and one image (deterministic, all on the
masks' device):

1. *Farthest-point traversal* (Gonzalez's 2-approximation of the ``k``-center problem):
   the first representative is the mask nearest the mean mask; each next one is the
   mask farthest from every representative chosen so far (the lowest index on ties,
   which every choice here takes, with distances within :data:`TIE` counted as ties).
   It stops at ``k`` representatives (the budget), or as soon as every mask is within
   ``tolerance`` of a representative, whichever comes first. Each mask joins its nearest
   representative.
2. *Refinement*, when no tolerance is given: :data:`REFINE_STEPS` k-medoid rounds (each
   cluster's representative becomes the member nearest the cluster's mean mask, then
   every mask joins its nearest representative), which moves representatives from the
   outliers the traversal starts with towards the middle of their groups. With a
   tolerance, the traversal's clusters are kept as they are, so that every member stays
   within the tolerance of its representative.

Cost: ``O(n·k·h·w)`` multiply-adds per layer and image (measured in docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

#: k-medoid rounds after the traversal (budget form only).
REFINE_STEPS = 3
#: Distances closer than this are ties, resolved by the lowest index. Float arithmetic
#: gives the same image slightly different activations in different batches (about 1e-6
#: of a mask's range); without this, such noise could flip a choice between near-equal
#: candidates, and a batch would not cluster as its images do alone.
TIE = 1e-4


@dataclass(frozen=True)
class Clusters:
    """Clusters of ``n`` masks.

    Attributes:
        representatives: ``r`` indices (into the ``n`` masks) of the scored members.
        assignment: ``n`` indices into ``representatives``: the cluster of each mask.
        distance: ``n`` RMS distances of each mask to its representative (0 for the
            representatives).
    """

    representatives: Tensor
    assignment: Tensor
    distance: Tensor

    @property
    def source(self) -> Tensor:
        """``n`` indices (into the masks) of the mask whose scores each mask takes."""
        return self.representatives[self.assignment]


def rms_distance(masks: Tensor, other: Tensor) -> Tensor:
    """``n×m`` RMS distances between the rows of ``masks`` (``n×D``) and ``other`` (``m×D``),
    computed as differences (identical rows give exactly 0)."""
    return (masks[:, None, :] - other[None, :, :]).pow(2).mean(-1).sqrt()


def pick(values: Tensor, *, largest: bool) -> int:
    """Index of the largest (smallest) of 1-D ``values``: the lowest index within
    :data:`TIE` of it."""
    best = values.max() if largest else values.min()
    return int(((values - best).abs() <= TIE).nonzero()[0, 0])


def _nearest(masks: Tensor, centers: Tensor) -> tuple[Tensor, Tensor]:
    """Index of the nearest center for each mask (the lowest index among those within
    :data:`TIE` of the nearest), and the distance to it."""
    distances = torch.cat(
        [rms_distance(masks, centers[i : i + 1]) for i in range(len(centers))], dim=1
    )
    close = distances <= distances.min(dim=1, keepdim=True).values + TIE
    index = close.to(torch.uint8).argmax(dim=1)  # the first of the near-nearest
    return index, distances.gather(1, index[:, None])[:, 0]


def cluster_masks(masks: Tensor, budget: int, tolerance: float | None = None) -> Clusters:
    """Cluster ``n`` flattened masks (``n×D``) into at most ``budget`` clusters.

    With ``tolerance``, clustering stops as soon as every mask is within it of its
    representative (fewer clusters when the masks allow). Identical masks always share a
    cluster when the budget allows one cluster per distinct mask.
    """
    n = masks.shape[0]
    if budget < 1:
        raise ValueError(f"budget must be at least 1, got {budget}")
    masks = masks.float()
    mean = masks.mean(dim=0, keepdim=True)
    first = pick(rms_distance(masks, mean)[:, 0], largest=False)
    chosen = [first]
    nearest = rms_distance(masks, masks[first : first + 1])[:, 0]
    while len(chosen) < min(budget, n):
        if tolerance is not None and float(nearest.max()) <= tolerance:
            break
        far = pick(nearest, largest=True)
        if float(nearest[far]) == 0.0:
            break  # every mask equals a representative
        chosen.append(far)
        nearest = torch.minimum(nearest, rms_distance(masks, masks[far : far + 1])[:, 0])
    representatives = torch.tensor(chosen, dtype=torch.long, device=masks.device)
    assignment, distance = _nearest(masks, masks[representatives])
    if tolerance is None and len(chosen) < n:
        for _ in range(REFINE_STEPS):
            updated = _medoids(masks, representatives, assignment)
            if torch.equal(updated, representatives):
                break
            representatives = updated
            assignment, distance = _nearest(masks, masks[representatives])
    # a representative is its own member (distance 0) even where another is as near
    assignment[representatives] = torch.arange(len(representatives), device=masks.device)
    distance[representatives] = 0.0
    return Clusters(representatives, assignment, distance)


def _medoids(masks: Tensor, representatives: Tensor, assignment: Tensor) -> Tensor:
    """For each cluster, the member nearest the cluster's mean mask (lowest index on ties)."""
    out = representatives.clone()
    for c in range(len(representatives)):
        members = (assignment == c).nonzero()[:, 0]
        if len(members) > 1:
            centre = masks[members].mean(dim=0, keepdim=True)
            out[c] = members[pick(rms_distance(masks[members], centre)[:, 0], largest=False)]
    return out
