"""MURA validation metrics that stay exact under DDP.

:class:`MuraMetrics` is a :class:`torchmetrics.Metric` whose states are per-image lists
(probability, label, image key, study key, body-part index). torchmetrics gathers them
from every rank (``dist_reduce_fx="cat"``) *before* :meth:`MuraMetrics.compute` groups
them, so

* a study whose images were served by different ranks is scored once, from all of its
  images;
* the duplicates ``DistributedSampler`` pads the last batch with are dropped: images are
  de-duplicated by image key (the first occurrence is kept; duplicates are the same image,
  so they carry the same probability).

Strings cannot be gathered, so the image path and the study id are mapped to ``int64``
keys by :func:`stable_key` (the first 8 bytes of BLAKE2b, identical in every process,
unlike Python's salted ``hash``; a collision among 40,000 keys has probability about
1e-10). Body parts are indices into the ``body_parts`` list the metric was built with.

Scoring follows MURA: the study probability is the mean of its images' probabilities,
the study is abnormal when it is > ``threshold`` (0.5); Cohen's kappa (overall and per
body part) and AUROC are computed on studies; image AUROC on the de-duplicated images.
An AUROC with a single class present is NaN (undefined), as is a per-part kappa with
a single class in both labels and predictions.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.functional.classification import binary_auroc, binary_cohen_kappa
from torchmetrics.utilities import dim_zero_cat

#: The seven MURA body parts, the default ``body_parts`` of :class:`MuraMetrics`.
MURA_BODY_PARTS: tuple[str, ...] = (
    "XR_ELBOW",
    "XR_FINGER",
    "XR_FOREARM",
    "XR_HAND",
    "XR_HUMERUS",
    "XR_SHOULDER",
    "XR_WRIST",
)


def stable_key(text: str) -> int:
    """A signed 64-bit integer for ``text``, the same in every process and run."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _keys(texts: Sequence[str], device: torch.device) -> Tensor:
    return torch.tensor([stable_key(t) for t in texts], dtype=torch.long, device=device)


def _auroc(probs: Tensor, labels: Tensor) -> float:
    if labels.numel() == 0 or labels.min() == labels.max():
        return math.nan
    return float(binary_auroc(probs, labels, thresholds=None))


def _kappa(probs: Tensor, labels: Tensor, threshold: float) -> float:
    if labels.numel() == 0:
        return math.nan
    preds = (probs > threshold).long()
    if preds.min() == preds.max() == labels.min() == labels.max():
        return math.nan  # one class everywhere: chance agreement is 1, kappa undefined
    return float(binary_cohen_kappa(preds, labels, threshold=0.5))


def study_scores(
    probs: Tensor, labels: Tensor, image_keys: Tensor, study_keys: Tensor, parts: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """De-duplicate images, then mean probability, label and body part per study.

    Returns ``(study_probs, study_labels, study_parts)`` ordered by study key. A study's
    label is the maximum of its images' labels (they all agree in MURA).
    """
    _, first = _first_occurrences(image_keys)
    probs, labels, study_keys, parts = probs[first], labels[first], study_keys[first], parts[first]
    unique, inverse = torch.unique(study_keys, return_inverse=True)
    count = torch.zeros(len(unique), dtype=torch.float64).index_add_(
        0, inverse, torch.ones_like(probs, dtype=torch.float64)
    )
    total = torch.zeros(len(unique), dtype=torch.float64).index_add_(0, inverse, probs.double())
    study_labels = torch.zeros(len(unique), dtype=torch.long).scatter_reduce_(
        0, inverse, labels.long(), reduce="amax"
    )
    study_parts = torch.zeros(len(unique), dtype=torch.long).scatter_reduce_(
        0, inverse, parts.long(), reduce="amax"
    )
    return total / count, study_labels, study_parts


def _first_occurrences(keys: Tensor) -> tuple[Tensor, Tensor]:
    """Unique keys and the index of each one's first occurrence in ``keys``."""
    unique, inverse = torch.unique(keys, return_inverse=True)
    positions = torch.arange(len(keys), device=keys.device)
    first = torch.full((len(unique),), len(keys), dtype=torch.long, device=keys.device)
    first = first.scatter_reduce(0, inverse, positions, reduce="amin")
    return unique, first


class MuraMetrics(Metric):
    """Image AUROC, study kappa and AUROC, and per-body-part study kappa (see module doc).

    :meth:`update` takes one batch: ``probs`` (B,), ``labels`` (B,), and per image its
    path (or any unique image id), study id and body part name. :meth:`compute` returns
    ``{"image_auroc", "study_kappa", "study_auroc", "kappa_<BODY_PART>"..., "images",
    "studies"}`` as Python floats; per-part kappas only for parts present.
    """

    full_state_update = False
    higher_is_better = True

    def __init__(
        self, body_parts: Sequence[str] = MURA_BODY_PARTS, threshold: float = 0.5
    ) -> None:
        super().__init__(compute_with_cache=False)
        self.body_parts = list(body_parts)
        self.threshold = threshold
        for name in ("probs", "labels", "image_keys", "study_keys", "parts"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(
        self,
        probs: Tensor,
        labels: Tensor,
        image_ids: Sequence[str],
        study_ids: Sequence[str],
        body_parts: Sequence[str],
    ) -> None:
        """Add one batch of image probabilities with their ids."""
        device = probs.device
        unknown = sorted(set(body_parts) - set(self.body_parts))
        if unknown:  # indices must mean the same on every rank: no growing the list here
            raise ValueError(f"body part(s) {', '.join(unknown)} not in {self.body_parts}")
        parts = torch.tensor([self.body_parts.index(b) for b in body_parts], device=device)
        self.probs.append(probs.detach().float().reshape(-1))
        self.labels.append(labels.detach().long().reshape(-1))
        self.image_keys.append(_keys(image_ids, device))
        self.study_keys.append(_keys(study_ids, device))
        self.parts.append(parts.long())

    def compute(self) -> dict[str, float]:
        """Group the gathered images by study and score them."""
        if isinstance(self.probs, list) and not self.probs:  # a tensor once gathered
            return {"images": 0.0, "studies": 0.0}
        probs, labels, image_keys, study_keys, parts = (
            dim_zero_cat(getattr(self, n)).cpu()
            for n in ("probs", "labels", "image_keys", "study_keys", "parts")
        )
        _, first = _first_occurrences(image_keys)
        s_probs, s_labels, s_parts = study_scores(probs, labels, image_keys, study_keys, parts)
        out = {
            "image_auroc": _auroc(probs[first], labels[first]),
            "study_kappa": _kappa(s_probs, s_labels, self.threshold),
            "study_auroc": _auroc(s_probs, s_labels),
            "images": float(len(first)),
            "studies": float(len(s_probs)),
        }
        for index, name in enumerate(self.body_parts):
            mask = s_parts == index
            if mask.any():
                out[f"kappa_{name}"] = _kappa(s_probs[mask], s_labels[mask], self.threshold)
        return out
