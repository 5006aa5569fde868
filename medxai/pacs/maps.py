"""A saliency map as a DICOM object referencing its source image.

Which object (see ``docs/pacs.md``):

* a **Parametric Map** when the source has patient-space geometry
  (:func:`~medxai.pacs.sources.has_patient_geometry`): the map is stored as float32 with
  a real-world value mapping (identity, unitless, range 0–1) and one frame per source
  frame;
* otherwise (projection radiographs: CR, DX, XA without a Frame of Reference), a
  **FRACTIONAL Segmentation** (type PROBABILITY) with one segment and one frame per
  source frame: stored value ``v`` in 0..255 means map value ``v / 255`` (the fractional
  encoding, ``MaximumFractionalValue = 255``), so values are exact to ±1/510. highdicom
  cannot build a Parametric Map of an image without patient geometry.

Both carry the map at the source's rows × columns, the source's Frame of Reference (when
it has one), a reference to the source image and, per frame, to the source frame it maps
(Derivation Image Sequence), a content label naming the method and, when the map is
approximate, ``_APPROX`` in the label and the description.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import highdicom as hd
import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import SecondaryCaptureImageStorage

from medxai.pacs.identity import (
    DEVICE_SERIAL,
    MANUFACTURER,
    MODEL_NAME,
    SOFTWARE_VERSION,
    ascii_label,
    code_string,
)
from medxai.pacs.sources import SourceImage, has_patient_geometry

PARAMETRIC_MAP, SEGMENTATION = "parametric-map", "segmentation"
#: Stored value of a map value of 1 in a FRACTIONAL Segmentation.
MAX_FRACTIONAL_VALUE = 255
#: What every map's values mean.
QUANTITY = codes.DCM.ClassActivation


@dataclass(frozen=True)
class MapDescription:
    """What a map is: its method, the class it explains, and whether it is approximate."""

    label: str  # the method's label in the report, e.g. "PCAM±"
    explained_class: str
    approximate: bool = False
    how: str = ""  # e.g. "fast mode, 32 channels per layer"

    @property
    def content_label(self) -> str:
        """Content Label (CS, 16 characters): ``PCAMPM`` or ``PCAMPM_APPROX``."""
        suffix = "_APPROX" if self.approximate else ""
        return code_string(self.label, 16 - len(suffix)) + suffix

    @property
    def description(self) -> str:
        """Content Description (LO, 64 characters): method, range, class when it fits,
        and whether the map is approximate."""
        head = f"{ascii_label(self.label)} saliency 0-1"
        middle = f" for '{ascii_label(self.explained_class)}'"
        tails = [""]
        if self.approximate:
            tails = [f"; approx.: {ascii_label(self.how)}"] if self.how else []
            tails.append("; approximate")
        # the longest that fits: class and how, then how alone, then the bare flag
        for text in [head + middle + tails[0], *(head + tail for tail in tails)]:
            if len(text) <= 64:
                return text
        return (head + tails[-1])[:64]

    @property
    def segment_label(self) -> str:
        """Segment Label (LO, 64 characters): the method and the class it explains."""
        return f"{ascii_label(self.label)} saliency for '{ascii_label(self.explained_class)}'"[:64]


def map_object_kind(source: SourceImage) -> str:
    """:data:`PARAMETRIC_MAP` for a source with patient geometry, else :data:`SEGMENTATION`."""
    return PARAMETRIC_MAP if has_patient_geometry(source.header) else SEGMENTATION


def _check_maps(source: SourceImage, maps: Sequence[np.ndarray]) -> np.ndarray:
    stack = np.stack([np.asarray(m, dtype=np.float32) for m in maps])
    rows, cols = int(source.header.Rows), int(source.header.Columns)
    if stack.shape != (source.frames, rows, cols):
        raise ValueError(
            f"{source.path.name}: maps of shape {stack.shape} for a source of "
            f"{source.frames} frame(s) of {rows}×{cols}"
        )
    return np.clip(np.nan_to_num(stack), 0.0, 1.0)


def _type_2c(obj: Dataset, source: SourceImage, kind: str) -> None:
    """General Image's Patient Orientation (type 2C: the source's, else empty) and General
    Series' Laterality (the source's; empty in a Parametric Map without one, which
    dciodvfy requires, and absent in a Segmentation, which it requires there)."""
    if "PatientOrientation" not in obj:
        obj.PatientOrientation = source.header.get("PatientOrientation", "")
    if "Laterality" in source.header:
        obj.Laterality = source.header.Laterality
    elif kind == PARAMETRIC_MAP and "Laterality" not in obj:
        obj.Laterality = ""


def _pixel_aligned(source: SourceImage) -> Dataset:
    """The source header without pixel spacing, for a Segmentation of an image without a
    Frame of Reference: such a SEG is aligned pixel for pixel with its source and needs no
    Pixel Measures (highdicom 0.28 writes one without Slice Thickness, then cannot read
    it back)."""
    header = copy.deepcopy(source.header)
    for keyword in ("PixelSpacing", "ImagerPixelSpacing", "NominalScannedPixelSpacing"):
        if keyword in header:
            delattr(header, keyword)
    return header


def _segmentation(
    header: Dataset, stack: np.ndarray, segment: hd.seg.SegmentDescription, common: dict
) -> hd.seg.Segmentation:
    """highdicom's FRACTIONAL Segmentation of ``stack`` (1×H×W) over the one-frame
    ``header``."""
    return hd.seg.Segmentation(
        [header],
        stack,
        segmentation_type="FRACTIONAL",
        segment_descriptions=[segment],
        fractional_type="PROBABILITY",
        max_fractional_value=MAX_FRACTIONAL_VALUE,
        omit_empty_frames=False,
        **common,
    )


def _frame_by_frame_segmentation(
    source: SourceImage, stack: np.ndarray, segment: hd.seg.SegmentDescription, common: dict
) -> hd.seg.Segmentation:
    """The Segmentation of a multi-frame source without patient geometry: one frame per
    source frame, frame *k* derived from source frame *k*.

    highdicom 0.28 builds a Segmentation of a source without a Frame of Reference for one
    frame only, and reads any multi-frame IOD as an enhanced one (plane positions in
    functional groups), which such a source lacks. So each frame is built by highdicom
    over a single-frame view of the source header (SOP Class Secondary Capture, no Number
    of Frames, and no plane position, orientation or spacing: the frames are aligned pixel
    for pixel with the source's), and the frames are joined: highdicom's encoded pixels in
    order, each frame's Derivation Image item with the source frame's Referenced Frame
    Number, and every Referenced SOP Class UID restored to the source's.
    """
    view = _pixel_aligned(source)
    for keyword in (
        "NumberOfFrames",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "SliceThickness",
    ):
        if keyword in view:
            delattr(view, keyword)
    view.SOPClassUID = SecondaryCaptureImageStorage
    frames = [_segmentation(view, stack[k : k + 1], segment, common) for k in range(len(stack))]
    pixels = np.stack([np.asarray(f.pixel_array).reshape(stack.shape[1:]) for f in frames])
    items = []
    for number, frame in enumerate(frames, start=1):
        item = frame.PerFrameFunctionalGroupsSequence[0]
        item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedFrameNumber = number
        items.append(item)
    obj = frames[0]
    obj.PerFrameFunctionalGroupsSequence = items
    obj.NumberOfFrames = len(frames)
    data = pixels.astype(np.uint8).tobytes()
    obj.PixelData = data + b"\0" * (len(data) % 2)

    def restore_class(_: Dataset, element: DataElement) -> None:
        if element.keyword == "ReferencedSOPClassUID" and element.value == view.SOPClassUID:
            element.value = source.header.SOPClassUID

    obj.walk(restore_class)
    return obj


def build_map(
    source: SourceImage,
    maps: Sequence[np.ndarray],
    what: MapDescription,
    series_uid: str,
    series_number: int,
    sop_uid: str,
    instance_number: int = 1,
) -> Dataset:
    """The map object of one source image (one map per frame, each at rows × columns)."""
    kind = map_object_kind(source)
    stack = _check_maps(source, maps)
    common = dict(
        series_instance_uid=series_uid,
        series_number=series_number,
        sop_instance_uid=sop_uid,
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MODEL_NAME,
        software_versions=SOFTWARE_VERSION,
        device_serial_number=DEVICE_SERIAL,
        content_label=what.content_label,
        content_description=what.description,
    )
    if kind == PARAMETRIC_MAP:
        mapping = hd.pm.RealWorldValueMapping(
            lut_label=code_string(what.label),
            lut_explanation=what.description,
            unit=codes.UCUM.NoUnits,
            value_range=(0.0, 1.0),
            slope=1.0,
            intercept=0.0,
            quantity_definition=QUANTITY,
        )
        obj = hd.pm.ParametricMap(
            [source.header],
            stack,
            contains_recognizable_visual_features=False,
            real_world_value_mappings=[mapping],
            voi_lut_transformations=[hd.VOILUTTransformation(window_center=0.5, window_width=1.0)],
            **common,
        )
    else:
        segment = hd.seg.SegmentDescription(
            segment_number=1,
            segment_label=what.segment_label,
            segmented_property_category=codes.SCT.SpatialAndRelationalConcept,
            segmented_property_type=QUANTITY,
            algorithm_type="AUTOMATIC",
            algorithm_identification=hd.AlgorithmIdentificationSequence(
                name=f"{MANUFACTURER} {ascii_label(what.label)}",
                family=codes.DCM.ArtificialIntelligence,
                version=SOFTWARE_VERSION,
            ),
        )
        if source.frames == 1:
            obj = _segmentation(_pixel_aligned(source), stack, segment, common)
        else:
            obj = _frame_by_frame_segmentation(source, stack, segment, common)
    _type_2c(obj, source, kind)
    return obj


def decoded_values(obj: Dataset) -> np.ndarray:
    """The map values (F×H×W float32 in [0, 1]) stored in a map object written here."""
    pixels = np.asarray(obj.pixel_array, dtype=np.float32)
    if pixels.ndim == 2:
        pixels = pixels[None]
    if obj.Modality == "SEG":  # fractional encoding: value = stored / MaximumFractionalValue
        return pixels / float(obj.MaximumFractionalValue)
    return pixels  # Parametric Map: float32, identity real-world value mapping
