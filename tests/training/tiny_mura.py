"""A tiny MURA-v1.1-shaped folder for the training tests (no dependency on the phantoms).

Abnormal images carry a bright disc at a random place; normal images do not. Patients of
``train`` and ``valid`` are disjoint, as in MURA.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

PARTS = ("XR_WRIST", "XR_HAND")


def write_tiny_mura(
    root: Path,
    studies_per_split: int = 12,
    size: int = 64,
    images_per_study: int = 2,
    seed: int = 0,
    ragged: bool = False,
) -> Path:
    """Write ``studies_per_split`` studies per split (half abnormal) under ``root``.

    ``ragged``: study ``k`` gets ``1 + k % images_per_study`` images instead of all
    ``images_per_study``.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    patient = 0
    for split in ("train", "valid"):
        image_rows, study_rows = [], []
        for k in range(studies_per_split):
            patient += 1
            label = k % 2
            part = PARTS[(k // 2) % len(PARTS)]
            kind = "positive" if label else "negative"
            study = f"{split}/{part}/patient{patient:05d}/study1_{kind}"
            folder = root / study
            folder.mkdir(parents=True, exist_ok=True)
            count = 1 + k % images_per_study if ragged else images_per_study
            for i in range(1, count + 1):
                pixels = rng.normal(60, 15, (size, size))
                if label:
                    cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
                    pixels[(yy - cy) ** 2 + (xx - cx) ** 2 < (size // 8) ** 2] = 230
                image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
                image.save(folder / f"image{i}.png")
                image_rows.append(f"MURA-v1.1/{study}/image{i}.png")
            study_rows.append(f"MURA-v1.1/{study}/,{label}")
        (root / f"{split}_image_paths.csv").write_text("\n".join(image_rows) + "\n")
        (root / f"{split}_labeled_studies.csv").write_text("\n".join(study_rows) + "\n")
    return root
