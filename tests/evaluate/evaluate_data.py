"""A tiny MURA-layout set with annotations and cast masks, and a tiny checkpoint.

Images are non-square and of different sizes, so the map-to-original-size geometry is
exercised. Abnormal studies carry a bright ellipse (annotated in ``annotations.json``);
one image has a cast mask.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from medxai.checkpoint import make_metadata
from medxai.models import build_classifier

#: Side of the tiny model's square input.
INPUT_SIZE = 64
SIZES = ((80, 64), (72, 96), (64, 64))  # (height, width)


def write_tiny_set(root: Path, studies: int = 4, images_per_study: int = 2, seed: int = 0) -> Path:
    """Write ``studies`` valid studies (alternating normal/abnormal) and one train study."""
    rng = np.random.default_rng(seed)
    for split, count, first_patient in (("train", 1, 1), ("valid", studies, 11185)):
        image_rows, study_rows = [], []
        for k in range(count):
            label = k % 2
            part = ("XR_WRIST", "XR_HAND")[(k // 2) % 2]
            kind = "positive" if label else "negative"
            study = f"{split}/{part}/patient{first_patient + k:05d}/study1_{kind}"
            folder = root / study
            folder.mkdir(parents=True, exist_ok=True)
            shapes: dict[str, list[dict]] = {}
            for i in range(1, images_per_study + 1):
                height, width = SIZES[(k + i) % len(SIZES)]
                pixels = rng.normal(60, 15, (height, width))
                name = f"image{i}.png"
                if label:
                    cx, cy = width * 0.6, height * 0.4
                    yy, xx = np.mgrid[0:height, 0:width]
                    pixels[((xx - cx) / 10) ** 2 + ((yy - cy) / 6) ** 2 <= 1] = 230
                    if i == 1:
                        shapes[name] = [
                            {
                                "shape": "ellipse",
                                "cx": cx,
                                "cy": cy,
                                "rx": 10,
                                "ry": 6,
                                "angle": 0,
                                "label": "fracture",
                            }
                        ]
                    if i == 2 and k == 1:
                        mask = np.zeros((height, width), np.uint8)
                        mask[:, : width // 3] = 255
                        (folder / "masks").mkdir(exist_ok=True)
                        Image.fromarray(mask).save(folder / "masks" / "image2_cast.png")
                Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / name)
                image_rows.append(f"MURA-v1.1/{study}/{name}")
            if shapes:
                (folder / "annotations.json").write_text(json.dumps({"images": shapes}))
            study_rows.append(f"MURA-v1.1/{study}/,{label}")
        (root / f"{split}_image_paths.csv").write_text("\n".join(image_rows) + "\n")
        (root / f"{split}_labeled_studies.csv").write_text("\n".join(study_rows) + "\n")
    return root


def write_tiny_checkpoint(path: Path, seed: int = 0) -> Path:
    """A ResNet-18 with random weights and one logit, saved in the medxai checkpoint format."""
    torch.manual_seed(seed)
    model = build_classifier("resnet18", 1, weights=None)
    meta = make_metadata(
        arch="resnet18",
        input_size=INPUT_SIZE,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
    )
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, "medxai": meta}, path)
    return path
