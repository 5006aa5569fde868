"""MURA-v1.1: the index of a dataset copy, its problems, and the PyTorch dataset.

This module gathers the public names; the work is done in :mod:`medxai.data.layout`
(folder naming), :mod:`medxai.data.mura_csv` (the CSV files), :mod:`medxai.data.index`
(building and checking the index), :mod:`medxai.data.records` (what an index holds) and
:mod:`medxai.data.dataset` (the Dataset).

Example::

    index = build_index("/data/MURA-v1.1")
    train = MuraDataset(index.filter(split="train").images, train=True)
"""

from __future__ import annotations

from medxai.data.dataset import MuraDataset
from medxai.data.index import build_index
from medxai.data.layout import BODY_PARTS, SPLITS
from medxai.data.records import ImageRecord, MuraIndex, Problem

__all__ = [
    "BODY_PARTS",
    "SPLITS",
    "ImageRecord",
    "MuraDataset",
    "MuraIndex",
    "Problem",
    "build_index",
]
