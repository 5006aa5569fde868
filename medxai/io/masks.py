"""Ground truth for localisation: annotation and cast masks at the image's own size.

Geometry: localisation is measured in the **original image's pixel grid**. Annotation
shapes are given in original pixel coordinates and are rasterised there, unchanged; the
saliency map (made at the model's square input size) is resized to the original
``H×W`` (bilinear, ``align_corners=False``), undoing the squash-resize of the input.
This is the geometry the review report draws in, so its numbers and these agree.

- Annotations come from the study folder's own file (``annotations.json`` or
  ``annotations.xml``), keyed by image file name.
- A cast mask is ``<study>/masks/<image stem>_cast.png``; non-zero pixels are cast.

An image without shapes (or whose shapes cover no pixel) has no annotation mask; an image
without a cast file (or with an empty one) has no cast mask. Their columns are NaN.

Every file is read under the file-access rule of :mod:`medxai.io.files` (``root``: the
folder it must lie in, the data root of an evaluation; default its own folder): a
folder, FIFO, device or link out of the root where a mask or an annotation file is
expected is refused with an :class:`~medxai.errors.InputError`, never read as absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from medxai.errors import InputError
from medxai.io.decode import pil_image

#: Folder of a study holding per-image masks, and the suffix of a cast mask's file name.
MASK_FOLDER = "masks"
CAST_SUFFIX = "_cast.png"


def image_size(path: Path, root: Path | None = None) -> tuple[int, int]:
    """``(height, width)`` of a PNG or JPEG file, read from its header only."""
    with pil_image(path, root) as image:
        width, height = image.size
    return int(height), int(width)


def study_annotations(study_folder: Path, root: Path | None = None) -> dict[str, list]:
    """Shapes per image name from the study folder's annotation file (empty if none)."""
    from medxai.io.annotations import find_annotation_file, load_annotations

    found = find_annotation_file(study_folder)
    return dict(load_annotations(found, root)) if found is not None else {}


def annotation_mask_for(
    path: Path, height: int, width: int, annotations: dict[str, list]
) -> np.ndarray | None:
    """The union of the image's shapes in ``annotations`` as an ``H×W`` bool mask, or ``None``."""
    from medxai.io.annotations import annotation_mask

    shapes = annotations.get(Path(path).name)
    if not shapes:
        return None
    mask = annotation_mask(list(shapes), height, width)
    return mask if mask.any() else None


def cast_mask_path(path: Path) -> Path:
    """Where the cast mask of image ``path`` lives (it may not exist)."""
    path = Path(path)
    return path.parent / MASK_FOLDER / f"{path.stem}{CAST_SUFFIX}"


def cast_mask_for(
    path: Path, height: int, width: int, root: Path | None = None
) -> np.ndarray | None:
    """The image's cast mask as an ``H×W`` bool mask, or ``None`` when absent or empty.

    Absent means nothing is at :func:`cast_mask_path`. Raises :class:`InputError` when
    the mask is refused by the access rule, is not a readable PNG, or its size differs
    from the image's.
    """
    mask_path = cast_mask_path(path)
    if not os.path.lexists(mask_path):
        return None
    with pil_image(mask_path, root, ("PNG",), "mask") as image:
        mask = np.asarray(image.convert("L")) > 0
    if mask.shape != (height, width):
        raise InputError(
            mask_path,
            f"mask is {mask.shape[1]}×{mask.shape[0]} but the image is {width}×{height}",
        )
    return mask if mask.any() else None
