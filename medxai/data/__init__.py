"""Datasets: MURA-v1.1, its transforms (:mod:`medxai.data.transforms`) and the phantom
generator (:mod:`medxai.data.phantoms`).

MURA's work is done in :mod:`medxai.data.layout` (folder naming),
:mod:`medxai.data.mura_csv` (the CSV files), :mod:`medxai.data.index` (building and
checking the index), :mod:`medxai.data.records` (what an index holds) and
:mod:`medxai.data.dataset` (the Dataset). Example::

    index = build_index("/data/MURA-v1.1")
    train = MuraDataset(index.filter(split="train").images, train=True)

The names below are imported on first use, so that importing a sibling module such as
``medxai.data.phantoms`` does not load the MURA loader and its dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "BODY_PARTS": "medxai.data.layout",
    "SPLITS": "medxai.data.layout",
    "ImageRecord": "medxai.data.records",
    "MuraDataset": "medxai.data.dataset",
    "MuraIndex": "medxai.data.records",
    "Problem": "medxai.data.records",
    "build_index": "medxai.data.index",
    "IMAGENET_MEAN": "medxai.data.transforms",
    "IMAGENET_STD": "medxai.data.transforms",
    "read_radiograph_png": "medxai.data.transforms",
    "to_model_input": "medxai.data.transforms",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'medxai.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
