"""The MURA data module: index a MURA-v1.1 folder, serve train and valid images.

Lightning contract: :meth:`MuraDataModule.prepare_data` only checks that the root exists
and sets no state; :meth:`MuraDataModule.setup` runs on every rank and builds the index
(deterministic: every rank sees the same records in the same order). Under DDP Lightning
wraps the loaders in a ``DistributedSampler`` (``use_distributed_sampler``, the default).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from medxai.data.dataset import MuraDataset
from medxai.data.index import build_index
from medxai.data.records import ImageRecord
from medxai.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from medxai.errors import InputError, MedxaiError


def index_hash(records: Sequence[ImageRecord], root: Path) -> str:
    """SHA-256 over ``split, study, image path (relative to root), label`` of every record."""
    digest = hashlib.sha256()
    for r in records:
        try:
            rel = Path(r.path).relative_to(root).as_posix()
        except ValueError:
            rel = Path(r.path).as_posix()
        digest.update(f"{r.split}\t{r.study_id}\t{rel}\t{r.label}\n".encode())
    return digest.hexdigest()


def split_counts(records: Sequence[ImageRecord]) -> dict[str, int]:
    """Images and studies, normal and abnormal, of a list of records."""
    studies = {r.study_id: r.label for r in records}
    abnormal_images = sum(r.label for r in records)
    abnormal_studies = sum(studies.values())
    return {
        "images": len(records),
        "images_abnormal": abnormal_images,
        "images_normal": len(records) - abnormal_images,
        "studies": len(studies),
        "studies_abnormal": abnormal_studies,
        "studies_normal": len(studies) - abnormal_studies,
    }


class MuraDataModule(pl.LightningDataModule):
    """MURA-v1.1 ``train`` and ``valid`` splits (``valid`` is the validation set).

    Args:
        root: the dataset folder (the one holding ``train/``, ``valid/`` and the CSVs).
        size: images are resized to ``size``×``size`` (the recipe: 320).
        rotation: training images are rotated by up to ±``rotation`` degrees (15).
        batch_size: images per batch, per GPU/process under DDP.
        num_workers: DataLoader worker processes.
        body_parts: keep only these body parts (``["XR_WRIST"]`` or ``["wrist"]``); all
            when ``None``.
        pin_memory: pin host memory (only takes effect when CUDA is available).
        persistent_workers: keep workers alive between epochs (only when workers > 0).
        mean, std: normalisation (ImageNet by default, as for the pretrained backbones).
    """

    def __init__(
        self,
        root: str = "MURA-v1.1",
        size: int = 320,
        rotation: float = 15.0,
        batch_size: int = 32,
        num_workers: int = 4,
        body_parts: list[str] | None = None,
        pin_memory: bool = True,
        persistent_workers: bool = True,
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.root = str(root)
        self.size = int(size)
        self.rotation = float(rotation)
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.body_parts = list(body_parts) if body_parts else None
        self.pin_memory = bool(pin_memory)
        self.persistent_workers = bool(persistent_workers)
        self.mean = tuple(float(v) for v in mean)
        self.std = tuple(float(v) for v in std)
        self.train_records: list[ImageRecord] = []
        self.val_records: list[ImageRecord] = []
        self.train_set: MuraDataset | None = None
        self.val_set: MuraDataset | None = None
        self._index_hash = ""

    # -- Lightning hooks -------------------------------------------------------------
    def prepare_data(self) -> None:
        """Check the root exists (MURA is never downloaded); sets no state."""
        if not Path(self.root).expanduser().is_dir():
            raise InputError(self.root, "dataset folder not found (set --data.root)")

    def setup(self, stage: str | None = None) -> None:
        """Build the index and the datasets; runs on every rank."""
        if self.train_set is not None:
            return
        root = Path(self.root).expanduser()
        index = build_index(root)
        try:
            train = index.filter(split="train", body_parts=self.body_parts)
            valid = index.filter(split="valid", body_parts=self.body_parts)
        except ValueError as exc:
            raise InputError(root, str(exc)) from exc
        self.train_records, self.val_records = list(train.images), list(valid.images)
        if stage in (None, "fit") and not self.train_records:
            raise InputError(root, "no training images (train split empty after filtering)")
        if not self.val_records:
            raise InputError(root, "no validation images (valid split empty after filtering)")
        self._index_hash = index_hash(self.train_records + self.val_records, index.root)
        common = {"size": self.size, "rotation": self.rotation, "mean": self.mean, "std": self.std}
        self.train_set = MuraDataset(self.train_records, train=True, **common)
        self.val_set = MuraDataset(self.val_records, train=False, **common)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)

    def _loader(self, dataset: MuraDataset | None, shuffle: bool) -> DataLoader:
        if dataset is None:
            raise MedxaiError("MuraDataModule.setup() must run before the loaders are asked for")
        workers = self.num_workers
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=workers,
            pin_memory=self.pin_memory and torch.cuda.is_available(),
            persistent_workers=self.persistent_workers and workers > 0,
        )

    # -- what the model and the checkpoint need ---------------------------------------
    def class_counts(self) -> dict[str, tuple[int, int]]:
        """``{body_part: (normal_images, abnormal_images)}`` of the training split."""
        counts: dict[str, list[int]] = {}
        for r in self.train_records:
            counts.setdefault(r.body_part, [0, 0])[r.label] += 1
        return {part: (n[0], n[1]) for part, n in sorted(counts.items())}

    def val_body_parts(self) -> list[str]:
        """Body parts of the validation split, sorted (the same list on every rank)."""
        return sorted({r.body_part for r in self.val_records})

    def provenance(self) -> dict[str, Any]:
        """Where the data came from: root, split counts and the index hash."""
        return {
            "root": os.path.abspath(os.path.expanduser(self.root)),
            "body_parts": self.body_parts,
            "index_sha256": self._index_hash,
            "splits": {
                "train": split_counts(self.train_records),
                "valid": split_counts(self.val_records),
            },
        }
