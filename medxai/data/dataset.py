"""The MURA :class:`~torch.utils.data.Dataset`: one item per image."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

from medxai.data.records import ImageRecord
from medxai.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    read_radiograph_png,
    to_model_input,
    to_train_input,
)


class MuraDataset(Dataset):
    """Images of MURA records as normalised ``3×size×size`` tensors.

    An item is ``(image, label, study_id, body_part, str(path))``.

    - ``train=False``: resize to ``size×size`` and normalise; exactly
      ``to_model_input(read_radiograph_png(path, root), size, mean, std)``.
    - ``train=True``: resize, then rotate by an angle drawn uniformly from
      ``[-rotation, rotation]`` degrees (uncovered corners are black, 0, before
      normalisation), then normalise. The angle comes from torch's global generator, so
      ``torch.manual_seed`` makes it repeatable and each DataLoader worker draws its own.

    A missing or corrupt file raises :class:`~medxai.errors.InputError`; build the index
    with ``check_readable=True`` to find such files up front.
    """

    def __init__(
        self,
        records: Sequence[ImageRecord],
        *,
        train: bool,
        size: int = 320,
        rotation: float = 15.0,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        if rotation < 0:
            raise ValueError(f"rotation must be >= 0 degrees, got {rotation}")
        self.records: list[ImageRecord] = list(records)
        self.train = bool(train)
        self.size = int(size)
        self.rotation = float(rotation)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def labels(self) -> list[int]:
        """The label of every item, in order (e.g. for class-frequency loss weights)."""
        return [r.label for r in self.records]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, str, str, str]:
        record = self.records[i]
        pixels = read_radiograph_png(record.path, record.root)
        if self.train and self.rotation > 0:
            angle = (torch.rand(()).item() * 2.0 - 1.0) * self.rotation
            image = to_train_input(pixels, self.size, angle, self.mean, self.std)
        else:
            image = to_model_input(pixels, self.size, self.mean, self.std)
        return image, record.label, record.study_id, record.body_part, str(record.path)
