"""The MURA-v1.1 folder layout: names of splits, body parts, patients, studies and images.

Every image lives at ``{split}/{body_part}/{patient}/{study}/{image}`` below the dataset
root, e.g. ``train/XR_WRIST/patient00001/study1_positive/image1.png``. The study folder's
suffix is its label: ``_positive`` = 1 (abnormal), ``_negative`` = 0 (normal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SPLITS: tuple[str, ...] = ("train", "valid")
BODY_PARTS: tuple[str, ...] = (
    "XR_ELBOW", "XR_FINGER", "XR_FOREARM", "XR_HAND", "XR_HUMERUS", "XR_SHOULDER", "XR_WRIST",
)
LABEL_NAMES: dict[int, str] = {0: "normal", 1: "abnormal"}

BODY_PART_RE = re.compile(r"XR_[A-Z0-9_]+")
PATIENT_RE = re.compile(r"patient\d+")
STUDY_RE = re.compile(r"study\d+_(positive|negative)")
IMAGE_RE = re.compile(r"image(\d+)\.png")


def image_paths_csv(split: str) -> str:
    """File name of a split's image list, e.g. ``train_image_paths.csv``."""
    return f"{split}_image_paths.csv"


def labeled_studies_csv(split: str) -> str:
    """File name of a split's study labels, e.g. ``train_labeled_studies.csv``."""
    return f"{split}_labeled_studies.csv"


@dataclass(frozen=True)
class StudyParts:
    """A parsed study folder path relative to the root."""

    split: str
    body_part: str
    patient: str
    study: str

    @property
    def study_id(self) -> str:
        return f"{self.split}/{self.body_part}/{self.patient}/{self.study}"

    @property
    def label(self) -> int:
        """1 for a ``_positive`` (abnormal) study folder, 0 for ``_negative``."""
        return 1 if self.study.endswith("_positive") else 0


@dataclass(frozen=True)
class ImageParts:
    """A parsed image path relative to the root."""

    study: StudyParts
    name: str

    @property
    def number(self) -> int:
        match = IMAGE_RE.fullmatch(self.name)
        return int(match.group(1)) if match else 0

    @property
    def rel(self) -> str:
        return f"{self.study.study_id}/{self.name}"


def _path_parts(text: str) -> list[str]:
    return [p for p in text.strip().replace("\\", "/").split("/") if p not in ("", ".")]


def parse_study(parts: list[str]) -> StudyParts | None:
    """``[split, body_part, patient, study]`` as :class:`StudyParts`, or None if not MURA-shaped."""
    if len(parts) != 4:
        return None
    split, body_part, patient, study = parts
    if (
        split in SPLITS
        and BODY_PART_RE.fullmatch(body_part)
        and PATIENT_RE.fullmatch(patient)
        and STUDY_RE.fullmatch(study)
    ):
        return StudyParts(split, body_part, patient, study)
    return None


def study_from_listed(text: str) -> StudyParts | None:
    """The study of a path as written in a CSV, resolved against any root.

    Only the last four components count (``split/body_part/patient/study``), so
    ``MURA-v1.1/train/...``, ``/data/mura/train/...`` and ``train/...`` all name the same
    study wherever the dataset was unpacked or renamed.
    """
    return parse_study(_path_parts(text)[-4:])


def image_from_listed(text: str) -> ImageParts | None:
    """The image of a path as written in a CSV (last five components), or None."""
    parts = _path_parts(text)[-5:]
    if len(parts) != 5 or not IMAGE_RE.fullmatch(parts[4]):
        return None
    study = parse_study(parts[:4])
    return ImageParts(study, parts[4]) if study else None


def normalise_body_part(name: str) -> str:
    """``"wrist"``, ``"XR_WRIST"`` or ``"xr_wrist"`` to ``"XR_WRIST"``."""
    upper = name.strip().upper()
    return upper if upper.startswith("XR_") else f"XR_{upper}"
