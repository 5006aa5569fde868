"""Reading a report's inputs: the study's images, the classifier and the annotations.

Every problem is raised as a one-line :class:`~medxai.errors.MedxaiError` naming the file
(a corrupt image among good ones is skipped and listed instead, by :mod:`medxai.io`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from medxai.errors import InputError, MedxaiError

#: Identifier keys shown first with ``--show-identifiers``; any others follow (UIDs aside).
IDENTIFIER_KEYS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber")


@dataclass
class StudyInputs:
    """The loaded study, classifier and annotations of one report."""

    folder: Path
    images: list[Any]  # medxai.io.radiograph.Radiograph
    classifier: Any  # medxai.checkpoint.LoadedClassifier
    annotations: dict[str, list[Any]] = field(default_factory=dict)
    annotation_path: Path | None = None
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def resolve_device(requested: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is a user error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise MedxaiError("--device cuda: no CUDA device is available (use --device cpu)")
    return torch.device(requested)


def read_study(folder: Path) -> Any:
    """The folder's :class:`~medxai.io.images.StudyScan`, with at least one image."""
    from medxai.io.images import scan_study

    if not folder.exists():
        raise InputError(folder, "study folder not found")
    if not folder.is_dir():
        raise InputError(folder, "not a folder (expected a study folder of PNG/JPEG/DICOM files)")
    scan = scan_study(folder)
    if not scan.images:  # scan_study raises first; kept for any other scanner
        raise InputError(folder, "no readable image (expected PNG, JPEG or DICOM files)")
    return scan


def read_annotations(
    folder: Path, explicit: Path | None, images: list[Any]
) -> tuple[dict[str, list[Any]], Path | None]:
    """The validated annotations (``--annotations`` or the folder's own file), and their path.

    The file is read under the access rule of :mod:`medxai.io.files` with its own folder
    as the root: a FIFO, a device or a link to another folder is refused in one line.
    """
    from medxai.io.annotations import find_annotation_file, load_annotations, validate_annotations

    path = explicit if explicit is not None else find_annotation_file(folder)
    if path is None:
        return {}, None
    annotations = load_annotations(path)
    sizes = {image.name: (image.height, image.width) for image in images}
    validate_annotations(annotations, sizes, path)
    return dict(annotations), path


def load_inputs(
    study: Path, checkpoint: Path, annotations: Path | None, device: torch.device
) -> StudyInputs:
    """Read everything a report needs; fails fast, before any model runs."""
    from medxai.checkpoint import load_classifier

    folder = Path(study)
    scan = read_study(folder)
    images = list(scan.images)
    shapes, annotation_path = read_annotations(folder, annotations, images)
    classifier = load_classifier(checkpoint, map_location=device)
    return StudyInputs(
        folder=folder,
        images=images,
        classifier=classifier,
        annotations=shapes,
        annotation_path=annotation_path,
        skipped=[(Path(p), str(reason)) for p, reason in scan.skipped],
        ignored=[Path(p) for p in scan.ignored],
        warnings=list(getattr(scan, "warnings", [])),
    )
