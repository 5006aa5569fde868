"""The source DICOM images of a report, as the headers the DICOM outputs are built from.

A study can carry DICOM outputs only when every analysed image comes from a DICOM file
of one study: the new series are filed in that study, under that patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from medxai.errors import InputError, MedxaiError

#: Patient and study attributes (type 2 in the IODs written) that the objects copy from
#: the source; a source without one gets it empty, as the standard allows.
COPIED_TYPE2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "PatientOrientation",  # type 2C; the SR's image library describes it
)

#: Attributes that put a single-frame image in the patient coordinate system.
PLANE_ATTRIBUTES = (
    "FrameOfReferenceUID",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
)


@dataclass
class SourceImage:
    """One source DICOM file and the analysed images (frames) that came from it."""

    path: Path
    header: Dataset  # without pixel data; empty type-2 attributes filled in
    analysed: list[int] = field(default_factory=list)  # indices into the analysis, by frame

    @property
    def frames(self) -> int:
        return int(self.header.get("NumberOfFrames", 1) or 1)


def has_patient_geometry(header: Dataset) -> bool:
    """Whether every frame of the image has a position in the patient coordinate system.

    Single-frame: all of :data:`PLANE_ATTRIBUTES`. Enhanced multi-frame: a Frame of
    Reference, a shared plane orientation and pixel measures, and a plane position per
    frame. Projection radiographs (CR, DX) usually have neither, and a multi-frame image
    without functional groups (XA, RF, NM) has no position per frame.
    """
    if "FrameOfReferenceUID" not in header:
        return False
    if "PerFrameFunctionalGroupsSequence" in header:
        shared = header.get("SharedFunctionalGroupsSequence") or [Dataset()]
        per_frame = header.PerFrameFunctionalGroupsSequence
        return (
            "PlaneOrientationSequence" in shared[0]
            and "PixelMeasuresSequence" in shared[0]
            and all("PlanePositionSequence" in item for item in per_frame)
        )
    if int(header.get("NumberOfFrames", 1) or 1) > 1:
        return False
    return all(header.get(keyword) not in (None, "") for keyword in PLANE_ATTRIBUTES)


def read_header(path: Path) -> Dataset:
    """The DICOM header of ``path`` (no pixel data), or an :class:`InputError`."""
    try:
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        raise InputError(
            path,
            "--dicom needs DICOM inputs; this file is not DICOM (PNG/JPEG cannot "
            "carry the patient and study the DICOM outputs are filed under)",
        ) from None
    except Exception as exc:  # pydicom raises many types for damaged headers
        raise InputError(path, f"cannot read the DICOM header ({exc})") from None
    for keyword in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID"):
        if not header.get(keyword):
            raise InputError(path, f"--dicom: the source has no {keyword}")
    for keyword in COPIED_TYPE2:
        if keyword not in header:
            setattr(header, keyword, "")
    return header


def read_sources(images: Sequence[Any]) -> list[SourceImage]:
    """The source files of the analysed ``images`` (Radiographs), in order of appearance.

    Raises:
        InputError: an image that is not from a DICOM file, or a header without UIDs.
        MedxaiError: images from more than one study.
    """
    sources: dict[Path, SourceImage] = {}
    for index, image in enumerate(images):
        path = Path(image.source)
        if path not in sources:
            sources[path] = SourceImage(path, read_header(path))
        sources[path].analysed.append(index)
    studies = sorted({str(s.header.StudyInstanceUID) for s in sources.values()})
    if len(studies) > 1:
        raise MedxaiError(
            f"--dicom: the images belong to {len(studies)} studies ({', '.join(studies)}); "
            "DICOM outputs are filed in one study, so report each study on its own"
        )
    for source in sources.values():
        source.analysed.sort(key=lambda i: images[i].frame or 0)
    return list(sources.values())
