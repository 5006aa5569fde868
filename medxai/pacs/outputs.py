"""The DICOM outputs of one report: a map object per source image and method, a Secondary
Capture per analysed image, one Comprehensive SR per study; each encoded and read back.

New series go into the source study (same Study Instance UID and Patient module, copied
by highdicom from the source headers) with fresh UIDs (:mod:`medxai.pacs.uids`). The
files land in the report folder's ``dicom/`` folder, written atomically with the report.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import highdicom as hd
import pydicom
from pydicom.dataset import Dataset

from medxai.cams.presets import approximation_text
from medxai.errors import OutputError
from medxai.pacs.capture import build_capture
from medxai.pacs.identity import (
    SERIES_NUMBER_CAPTURE,
    SERIES_NUMBER_MAPS,
    SERIES_NUMBER_SR,
    ascii_label,
    code_string,
)
from medxai.pacs.maps import (
    PARAMETRIC_MAP,
    SEGMENTATION,
    MapDescription,
    build_map,
    map_object_kind,
)
from medxai.pacs.sources import SourceImage
from medxai.pacs.sr import build_sr
from medxai.pacs.uids import new_uid

#: The report's sub-folder holding the DICOM objects.
DICOM_DIR = "dicom"
CAPTURE, REPORT = "secondary-capture", "structured-report"

#: Object kind → highdicom reader used to check that a written object reads back.
READERS: dict[str, Callable[[Dataset], Any]] = {
    PARAMETRIC_MAP: hd.pm.ParametricMap.from_dataset,
    SEGMENTATION: hd.seg.Segmentation.from_dataset,
    CAPTURE: hd.Image.from_dataset,
    REPORT: hd.sr.ComprehensiveSR.from_dataset,
}


@dataclass
class DicomOutputs:
    """Files to write (path relative to the report folder → bytes) and their index for
    ``summary.json``."""

    files: dict[str, bytes] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, obj: Dataset, kind: str, **about: Any) -> None:
        relative = f"{DICOM_DIR}/{name}"
        self.files[relative] = encode(obj, kind, relative)
        self.objects.append(
            {
                "file": relative,
                "object": kind,
                "sop_class_uid": str(obj.SOPClassUID),
                "series_instance_uid": str(obj.SeriesInstanceUID),
                "sop_instance_uid": str(obj.SOPInstanceUID),
                **about,
            }
        )


def encode(obj: Dataset, kind: str, relative: str) -> bytes:
    """``obj`` as a DICOM file's bytes, after checking it reads back with pydicom and
    highdicom (and, for images, that its pixel data decodes)."""
    buffer = io.BytesIO()
    obj.save_as(buffer, enforce_file_format=True)
    data = buffer.getvalue()
    try:
        back = pydicom.dcmread(io.BytesIO(data))
        READERS[kind](back)
        if "PixelData" in back or "FloatPixelData" in back:
            back.pixel_array  # noqa: B018 — decodes, or raises
    except Exception as exc:  # any failure here means the object is unusable
        raise OutputError(relative, f"the DICOM object does not read back ({exc})") from exc
    return data


def describe(method: Mapping[str, Any], explained_class: str) -> MapDescription:
    """A map's description from its method entry in ``summary.json``."""
    how = approximation_text(method["settings"]) if method["approximate"] else ""
    return MapDescription(method["label"], explained_class, bool(method["approximate"]), how)


def dicom_outputs(
    sources: Sequence[SourceImage], analysis: Any, summary: Mapping[str, Any]
) -> DicomOutputs:
    """Every DICOM object of the report (``analysis`` is the report's StudyAnalysis)."""
    out = DicomOutputs()
    methods = summary["explanation"]["methods"]
    images = analysis.images
    for m, method in enumerate(methods):
        label = method["label"]
        series_uid, series_number = new_uid(), SERIES_NUMBER_MAPS + m
        for s, source in enumerate(sources):
            kind = map_object_kind(source)
            first = images[source.analysed[0]]
            obj = build_map(
                source,
                [images[i].maps[label] for i in source.analysed],
                describe(method, first.explained_class),
                series_uid,
                series_number,
                new_uid(),
                instance_number=s + 1,
            )
            obj.SeriesDescription = f"medxai {ascii_label(label)} map"
            name = f"map_{code_string(label).lower()}_{s + 1:02d}.dcm"
            out.add(name, obj, kind, method=label, source=str(source.header.SOPInstanceUID))
    where = {index: source for source in sources for index in source.analysed}
    overlay_label = methods[-1]["label"]
    series_uid = new_uid()
    for i, item in enumerate(images):
        source = where[i]
        capture = build_capture(
            source,
            item.image.pixels,
            item.maps[overlay_label],
            overlay_label,
            item.image.frame,
            series_uid,
            SERIES_NUMBER_CAPTURE,
            new_uid(),
            instance_number=i + 1,
        )
        capture.SeriesDescription = f"medxai {ascii_label(overlay_label)} overlays"
        out.add(
            f"overlay_{i + 1:02d}.dcm",
            capture,
            CAPTURE,
            method=overlay_label,
            source=str(source.header.SOPInstanceUID),
            frame=item.image.frame,
        )
    report = build_sr(sources, summary, new_uid(), SERIES_NUMBER_SR, new_uid())
    report.SeriesDescription = "medxai report"
    out.add("report_sr.dcm", report, REPORT)
    return out
