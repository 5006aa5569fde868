"""A study on a DICOMweb server, retrieved into a temporary study folder for the report.

QIDO-RS lists the study's (or one series') instances; instances whose SOP class is not
an image (structured reports, presentation states, segmentations, parametric maps, …)
are skipped with a note, and so are images that medxai wrote itself (its Secondary
Captures); WADO-RS retrieves the rest into ``<tmp>/<StudyInstanceUID>/``, which is
removed when the report is done.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.uid import UID

from medxai.errors import InputError
from medxai.pacs.dicomweb import SERIES, SOP_CLASS, SOP_INSTANCE, DicomWebServer, json_value
from medxai.pacs.identity import MANUFACTURER

#: SOP class UID roots of objects that are not images to explain.
NON_IMAGE_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88": "structured report or key object selection",
    "1.2.840.10008.5.1.4.1.1.11": "presentation state",
    "1.2.840.10008.5.1.4.1.1.66": "segmentation, registration or raw data",
    "1.2.840.10008.5.1.4.1.1.30": "parametric map",
    "1.2.840.10008.5.1.4.1.1.104": "encapsulated document",
    "1.2.840.10008.5.1.4.1.1.9": "waveform",
    "1.2.840.10008.5.1.4.1.1.481": "radiotherapy object",
}


def non_image_kind(sop_class: str) -> str | None:
    """What a non-image SOP class is, or ``None`` for an image class."""
    for root, kind in NON_IMAGE_CLASSES.items():
        if sop_class == root or sop_class.startswith(root + "."):
            return kind
    return None


@dataclass
class RetrievedStudy:
    """The temporary study folder and the notes on what was skipped."""

    folder: Path
    study_uid: str
    retrieved: int = 0
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def retrieved_study(
    server: DicomWebServer, study: str, series: str | None = None
) -> Iterator[RetrievedStudy]:
    """Retrieve the image instances of ``study`` (or one ``series``) into a temporary
    folder that exists for the ``with`` block.

    Raises:
        InputError: the study or series is unknown, or holds no image instance.
    """
    listed = server.instances(study, series)
    with tempfile.TemporaryDirectory(prefix="medxai-dicomweb-") as tmp:
        result = RetrievedStudy(folder=Path(tmp) / study, study_uid=study)
        result.folder.mkdir()
        for entry in listed:
            sop_class = json_value(entry, SOP_CLASS) or ""
            instance = json_value(entry, SOP_INSTANCE) or ""
            kind = non_image_kind(sop_class)
            if kind is not None:
                name = UID(sop_class).name if UID(sop_class).is_valid else sop_class
                result.notes.append(f"skipped instance {instance}: not an image ({kind}: {name})")
                continue
            ds = server.retrieve(study, json_value(entry, SERIES) or "", instance)
            if "PixelData" not in ds and "FloatPixelData" not in ds:
                result.notes.append(f"skipped instance {instance}: no pixel data")
                continue
            if str(ds.get("Manufacturer", "")) == MANUFACTURER:
                result.notes.append(f"skipped instance {instance}: written by medxai")
                continue
            ds.save_as(result.folder / f"{instance}.dcm", enforce_file_format=True)
            result.retrieved += 1
        if not result.retrieved:
            where = f"series {series} of study {study}" if series else f"study {study}"
            raise InputError(
                server.url,
                f"{where} holds no image instance to explain ({len(listed)} listed; "
                + "; ".join(result.notes)
                + ")",
            )
        yield result
