"""Build small synthetic MURA-v1.1 trees for the data tests.

The standard tree (:data:`STANDARD`) has a patient under two body parts, a one-image
study, an 11-image study, an RGB PNG and a 16-bit PNG, plus files a loader must ignore
(``masks/``, ``annotations.json``). :data:`EXPECTED_COUNTS` is its exact count object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Study:
    split: str
    body_part: str
    patient: int
    number: int
    label: int
    images: int

    @property
    def rel(self) -> str:
        suffix = "positive" if self.label else "negative"
        patient = f"patient{self.patient:05d}"
        return f"{self.split}/{self.body_part}/{patient}/study{self.number}_{suffix}"


STANDARD: tuple[Study, ...] = (
    Study("train", "XR_WRIST", 1, 1, 1, 3),
    Study("train", "XR_WRIST", 1, 2, 0, 1),    # one-image study
    Study("train", "XR_HAND", 1, 1, 0, 2),     # same patient, second body part, number restarts
    Study("train", "XR_WRIST", 2, 1, 0, 11),   # eleven images
    Study("train", "XR_ELBOW", 3, 1, 1, 2),    # image1 is RGB, image2 is 16-bit
    Study("valid", "XR_WRIST", 11185, 1, 1, 2),
    Study("valid", "XR_HAND", 11186, 1, 0, 1),
)

RGB_IMAGE = "train/XR_ELBOW/patient00003/study1_positive/image1.png"
GRAY16_IMAGE = "train/XR_ELBOW/patient00003/study1_positive/image2.png"
WRIST_POSITIVE = "train/XR_WRIST/patient00001/study1_positive"


def _counts(sn: int, sa: int, im_n: int, im_a: int) -> dict:
    return {"studies": {"normal": sn, "abnormal": sa}, "images": {"normal": im_n, "abnormal": im_a}}


EXPECTED_COUNTS: dict = {
    "train": {
        "XR_ELBOW": _counts(0, 1, 0, 2),
        "XR_HAND": _counts(1, 0, 2, 0),
        "XR_WRIST": _counts(2, 1, 12, 3),
    },
    "valid": {
        "XR_HAND": _counts(1, 0, 1, 0),
        "XR_WRIST": _counts(0, 1, 0, 2),
    },
}


def gray_pixels(seed: int, shape: tuple[int, int] = (24, 20)) -> np.ndarray:
    """Deterministic 8-bit gray pixels."""
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def rgb_pixels() -> np.ndarray:
    """An RGB image whose luminance is known: rows of pure red, green and blue."""
    out = np.zeros((18, 16, 3), dtype=np.uint8)
    out[0:6, :, 0] = 255
    out[6:12, :, 1] = 255
    out[12:18, :, 2] = 255
    return out


def gray16_pixels() -> np.ndarray:
    """16-bit gray pixels spanning 0..65535."""
    return np.linspace(0, 65535, 20 * 16).reshape(20, 16).astype(np.uint16)


def build_tree(
    root: Path,
    studies: tuple[Study, ...] = STANDARD,
    *,
    header: bool = True,
    csv_prefix: str = "MURA-v1.1",
    csvs: bool = True,
) -> Path:
    """Write a MURA-v1.1-shaped tree at ``root`` (which need not be named MURA-v1.1)."""
    root.mkdir(parents=True, exist_ok=True)
    paths: dict[str, list[str]] = {"train": [], "valid": []}
    labels: dict[str, list[str]] = {"train": [], "valid": []}
    for k, study in enumerate(studies):
        folder = root / study.rel
        folder.mkdir(parents=True)
        for m in range(1, study.images + 1):
            rel = f"{study.rel}/image{m}.png"
            target = root / rel
            if rel == RGB_IMAGE:
                Image.fromarray(rgb_pixels(), mode="RGB").save(target)
            elif rel == GRAY16_IMAGE:
                Image.fromarray(gray16_pixels()).save(target)
            else:
                Image.fromarray(gray_pixels(100 * k + m)).save(target)
            paths[study.split].append(f"{csv_prefix}/{rel}")
        labels[study.split].append(f"{csv_prefix}/{study.rel}/,{study.label}")
        # things the loader must ignore
        (folder / "annotations.json").write_text('{"images": {}}')
        (folder / "masks").mkdir()
        Image.fromarray(gray_pixels(7)).save(folder / "masks" / "image1.png")
    if csvs:
        for split in ("train", "valid"):
            head_paths = ["Path"] if header else []
            head_labels = ["Study,Label"] if header else []
            (root / f"{split}_image_paths.csv").write_text(
                "\n".join(head_paths + paths[split]) + "\n"
            )
            (root / f"{split}_labeled_studies.csv").write_text(
                "\n".join(head_labels + labels[split]) + "\n"
            )
    return root


def set_csv_label(root: Path, study_rel: str, label: int) -> None:
    """Rewrite one study's label in its ``*_labeled_studies.csv``."""
    csv = root / f"{study_rel.split('/')[0]}_labeled_studies.csv"
    lines = csv.read_text().splitlines()
    out = [
        f"{line.rsplit(',', 1)[0]},{label}" if f"{study_rel}/" in line else line
        for line in lines
    ]
    csv.write_text("\n".join(out) + "\n")


def corrupt(path: Path) -> None:
    """Cut a PNG in half so that it cannot be decoded."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
