"""Which channels of a layer get masked passes, and whose scores the others take.

A :class:`LayerPlan` is made for each target layer from the baseline pass, before any
masked pass:

- exact (:func:`exact_plan`): every non-constant channel is scored;
- clustered (:func:`clustered_plan`, fast mode): per image, the non-constant channels'
  masks are clustered (:mod:`medxai.cams.cluster`); one representative per cluster is
  scored, and every other member's scores are predicted from the scored channels
  (:mod:`medxai.cams.predict`) or, for PCAM−, copied from its representative
  (``source``). When channels were merged, the member
  farthest from its representative is scored too, as a check of the error
  (:mod:`medxai.cams.estimate`); it keeps its own scores. Representatives and checks
  together stay within the budget: at most ``channel_budget`` scored channels per layer,
  image and sign.

Constant channels are never scored here: they share the one all-zero-mask pass of their
image (:mod:`medxai.cams.masked`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from medxai.cams.cluster import cluster_masks, pick

#: Members scored per layer and image to measure fast mode's error (within the budget).
ERROR_CHECKS = 1


@dataclass
class LayerPlan:
    """The plan of one layer for a batch of ``B`` images with ``K`` channels.

    Attributes:
        scored: ``B×K`` bool, the channels given masked passes.
        source: ``B×K`` long, the channel whose scores each channel takes (itself when
            scored).
        representative: ``B×K`` long, the representative of each channel's cluster
            (itself when unclustered; for a check, the representative it was measured
            against).
        distance: ``B×K`` RMS mask distance from each channel to its cluster's
            representative (0 for representatives and unclustered channels).
        checked: ``B×K`` bool, scored members that measure the error.
        clusters: per image, the number of clusters (scored representatives).
    """

    scored: Tensor
    source: Tensor
    representative: Tensor
    distance: Tensor
    checked: Tensor
    clusters: list[int]

    @property
    def merged(self) -> Tensor:
        """``B×K`` bool: channels that take another channel's scores."""
        return self.source != _identity(self.source)

    def max_distance(self) -> list[float]:
        """Per image, the largest distance of a channel that takes another's scores."""
        masked = torch.where(self.merged, self.distance, torch.zeros_like(self.distance))
        return [float(d.max()) if d.numel() else 0.0 for d in masked]


def _identity(like: Tensor) -> Tensor:
    return torch.arange(like.shape[1], device=like.device).expand_as(like)


def exact_plan(live: Tensor) -> LayerPlan:
    """Every non-constant channel (``live``, ``B×K`` bool) scored."""
    return LayerPlan(
        scored=live.clone(),
        source=_identity(live).clone(),
        representative=_identity(live).clone(),
        distance=torch.zeros(live.shape, device=live.device),
        checked=torch.zeros_like(live),
        clusters=[int(n) for n in live.sum(1)],
    )


def clustered_plan(
    masks: Tensor, live: Tensor, budget: int, tolerance: float | None
) -> LayerPlan:
    """Fast mode's plan for ``masks`` (``B×K×h×w``, normalised) and ``live`` (``B×K``).

    Per image: with no tolerance and at most ``budget`` live channels, every one is
    scored (exact). Otherwise the live masks are clustered into at most
    ``budget − ERROR_CHECKS`` clusters (all ``budget`` when it is too small to spare
    one), and, when channels were merged, the :data:`ERROR_CHECKS` members farthest from
    their representatives (lowest index on ties, :func:`~medxai.cams.cluster.pick`) are
    scored as well.
    """
    plan = exact_plan(live)
    for b in range(live.shape[0]):
        channels = live[b].nonzero()[:, 0]
        n = len(channels)
        if n == 0 or (tolerance is None and n <= budget):
            continue
        checks = ERROR_CHECKS if budget > ERROR_CHECKS else 0
        flat = masks[b, channels].flatten(1)
        found = cluster_masks(flat, budget - checks, tolerance)
        scored = torch.zeros(n, dtype=torch.bool, device=live.device)
        scored[found.representatives] = True
        source = found.source.clone()
        distance = found.distance.clone()
        checked = torch.zeros_like(scored)
        for _ in range(checks if len(found.representatives) < n else 0):
            candidates = torch.where(scored, torch.zeros_like(distance), distance)
            if float(candidates.max()) <= 0.0:
                break
            farthest = pick(candidates, largest=True)
            checked[farthest] = scored[farthest] = True
            source[farthest] = farthest
        plan.scored[b] = False
        plan.scored[b, channels] = scored
        plan.source[b, channels] = channels[source]
        plan.representative[b, channels] = channels[found.source]
        plan.distance[b, channels] = distance.to(plan.distance.dtype)
        plan.checked[b, channels] = checked
        plan.clusters[b] = len(found.representatives)
    return plan
