"""Per-image metric values for one method's maps on one batch.

Each function takes a batch of ``B`` inputs and their ``B×1×S×S`` maps and returns one
dict of column values per image (columns as in :mod:`medxai.evaluate.catalog`), calling
the metric implementations of :mod:`medxai.metrics` (localisation rows are
:func:`medxai.metrics.localisation.localisation_row`'s).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from medxai.evaluate.catalog import SANITY_COLUMNS

Row = dict[str, Any]


def faithfulness(
    model: nn.Module,
    x: Tensor,
    saliency: Tensor,
    targets: Tensor,
    *,
    steps: int,
    batch_size: int,
) -> tuple[list[Row], Tensor, Tensor]:
    """Insertion and deletion AUCs (and their difference) per image, plus the curves.

    Returns the rows and the ``B×(steps+1)`` insertion and deletion curves.
    """
    from medxai.metrics.faithfulness import insertion_deletion

    result = insertion_deletion(model, x, saliency, targets, steps=steps, batch_size=batch_size)
    ins, dele = result.insertion_auc.tolist(), result.deletion_auc.tolist()
    rows = [{"insertion_auc": i, "deletion_auc": d, "ins_del": i - d} for i, d in zip(ins, dele)]
    return rows, result.insertion, result.deletion


def confidence(
    model: nn.Module, x: Tensor, saliency: Tensor, targets: Tensor, *, batch_size: int
) -> list[Row]:
    """Per image: the relative drop in % (``100·max(0, Y−O)/Y``) and ``increase`` (0 or 100).

    Their means over images are the average drop and the increase in confidence.
    """
    from medxai.metrics.confidence import confidence_change

    result = confidence_change(model, x, saliency.clamp(0, 1), targets, batch_size=batch_size)
    rises = (result.masked > result.original).tolist()
    return [
        {"average_drop": 100.0 * d, "increase_in_confidence": 100.0 if r else 0.0}
        for d, r in zip(result.drop.tolist(), rises)
    ]


def image_seed(seed: int, image: str) -> int:
    """A seed for one image that does not depend on which batch or rank it is in."""
    return (int(seed) * 1_000_003 + zlib.crc32(image.encode("utf-8"))) % (2**31)


def sensitivity(
    explainer: Any,
    model: nn.Module,
    x: Tensor,
    targets: Tensor,
    images: Sequence[str],
    *,
    seed: int,
    radius: float,
    samples: int,
) -> list[Row]:
    """Max-sensitivity per image, each image seeded by its own path (batch-independent)."""
    from medxai.metrics.robustness import sensitivity_max

    rows = []
    for i, image in enumerate(images):
        value = sensitivity_max(
            explainer,
            model,
            x[i : i + 1],
            targets[i : i + 1],
            perturb_radius=radius,
            n_perturb_samples=samples,
            seed=image_seed(seed, image),
        )
        rows.append({"sensitivity_max": float(value.reshape(-1)[0])})
    return rows


def explained_targets(logits: Tensor, target: int | None) -> Tensor:
    """The class each image's map explains: ``target``, or the predicted class if ``None``."""
    from medxai.cams.targets import predicted_classes

    if target is None:
        return predicted_classes(logits).cpu()
    return torch.full((logits.shape[0],), int(target), dtype=torch.long)


def sanity(result: Any) -> list[Row]:
    """Per image: the map's ``class_agnostic_similarity`` and ``class_contrast`` from the
    result's reference maps (:mod:`medxai.cams.references`); NaN where there are none."""
    references = getattr(result, "references", None)
    rows = []
    for i in range(len(result)):
        figures = {} if references is None else references.figures(i)
        rows.append(
            {
                column: math.nan if figures.get(column) is None else float(figures[column])
                for column in SANITY_COLUMNS
            }
        )
    return rows
