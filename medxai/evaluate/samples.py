"""The dataset of one evaluation run: model inputs plus the ground truth for each image."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from medxai.evaluate.selection import WorkItem
from medxai.io.masks import annotation_mask_for, cast_mask_for, image_size, study_annotations


class EvaluationDataset(Dataset):
    """Items for the pending work: ``{"index", "x", "height", "width", "annotation", "cast"}``.

    ``x`` is the normalised ``3×S×S`` model input (as :class:`medxai.data.dataset.MuraDataset`
    makes it, without augmentation); ``index`` points into ``work``; ``annotation`` and
    ``cast`` are ``H×W`` bool arrays at the original image size, or ``None``.
    """

    def __init__(
        self,
        work: Sequence[WorkItem],
        size: int,
        mean: Sequence[float],
        std: Sequence[float],
        localisation: bool,
    ) -> None:
        from medxai.data.dataset import MuraDataset

        self.work = list(work)
        self.images = MuraDataset(
            [item.record for item in self.work], train=False, size=size, mean=mean, std=std
        )
        self.localisation = localisation
        self._annotations: dict[Path, dict[str, list]] = {}

    def __len__(self) -> int:
        return len(self.work)

    def _study(self, folder: Path, root: Path | None) -> dict[str, list]:
        if folder not in self._annotations:
            self._annotations[folder] = study_annotations(folder, root)
        return self._annotations[folder]

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.work[index].record
        path = Path(record.path)
        x = self.images[index][0]
        item: dict[str, Any] = {"index": index, "x": x, "annotation": None, "cast": None}
        if self.localisation:
            height, width = image_size(path, record.root)
            shapes = self._study(path.parent, record.root)
            item["annotation"] = annotation_mask_for(path, height, width, shapes)
            item["cast"] = cast_mask_for(path, height, width, record.root)
        return item


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack the inputs; keep indices and masks (of varying sizes) as lists."""
    return {
        "index": [item["index"] for item in items],
        "x": torch.stack([item["x"] for item in items]),
        "annotation": [item["annotation"] for item in items],
        "cast": [item["cast"] for item in items],
    }
