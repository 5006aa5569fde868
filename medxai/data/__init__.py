"""Datasets: MURA-v1.1 (:mod:`medxai.data.mura`), its transforms
(:mod:`medxai.data.transforms`) and the phantom generator (:mod:`medxai.data.phantoms`)."""

from medxai.data.mura import (
    BODY_PARTS,
    SPLITS,
    ImageRecord,
    MuraDataset,
    MuraIndex,
    Problem,
    build_index,
)
from medxai.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    read_radiograph_png,
    to_model_input,
)

__all__ = [
    "BODY_PARTS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "SPLITS",
    "ImageRecord",
    "MuraDataset",
    "MuraIndex",
    "Problem",
    "build_index",
    "read_radiograph_png",
    "to_model_input",
]
