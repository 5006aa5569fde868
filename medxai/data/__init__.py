"""Datasets: MURA-v1.1 (:mod:`medxai.data.mura`), its transforms
(:mod:`medxai.data.transforms`) and the phantom generator (:mod:`medxai.data.phantoms`).

The names below are imported on first use, so that importing a sibling module such as
``medxai.data.phantoms`` does not load the MURA loader and its dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "BODY_PARTS": "medxai.data.mura",
    "SPLITS": "medxai.data.mura",
    "ImageRecord": "medxai.data.mura",
    "MuraDataset": "medxai.data.mura",
    "MuraIndex": "medxai.data.mura",
    "Problem": "medxai.data.mura",
    "build_index": "medxai.data.mura",
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
