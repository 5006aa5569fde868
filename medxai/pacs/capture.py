"""The overlay of the PCAM± map on its radiograph as an RGB Secondary Capture, for viewers
without Parametric Map or Segmentation support.

The overlay is the report's own (:func:`medxai.viz.overlay.overlay`) at the source's rows ×
columns. Burned In Annotation is YES: the saliency colours are burned into the pixels.
"""

from __future__ import annotations

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset

from medxai.pacs.identity import MANUFACTURER, MODEL_NAME, SOFTWARE_VERSION, ascii_label
from medxai.pacs.sources import SourceImage
from medxai.viz.overlay import overlay


def overlay_rgb(image: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    """The H×W×3 uint8 overlay of ``saliency`` on the display-ready ``image``."""
    return np.round(overlay(image, saliency) * 255.0).astype(np.uint8)


def build_capture(
    source: SourceImage,
    image: np.ndarray,
    saliency: np.ndarray,
    label: str,
    frame: int | None,
    series_uid: str,
    series_number: int,
    sop_uid: str,
    instance_number: int,
) -> Dataset:
    """A Secondary Capture of one analysed image (one frame of ``source``) with its map."""
    rgb = overlay_rgb(image, saliency)
    spacing = source.header.get("PixelSpacing") or source.header.get("ImagerPixelSpacing")
    capture = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=source.header,
        pixel_array=rgb,
        photometric_interpretation="RGB",
        bits_allocated=8,
        # highdicom requires a coordinate system and a single-letter orientation; the
        # source's own Patient Orientation (which may be compound, e.g. "AL") replaces
        # this placeholder below.
        coordinate_system="PATIENT",
        series_instance_uid=series_uid,
        series_number=series_number,
        sop_instance_uid=sop_uid,
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        pixel_spacing=None if spacing is None else tuple(float(v) for v in spacing),
        patient_orientation=("L", "F"),
    )
    capture.PatientOrientation = source.header.get("PatientOrientation", "")
    capture.Laterality = source.header.get("Laterality", "")  # type 2C, as dciodvfy reads it
    capture.BurnedInAnnotation = "YES"
    capture.ManufacturerModelName = MODEL_NAME
    capture.SoftwareVersions = SOFTWARE_VERSION
    capture.ImageType = ["DERIVED", "SECONDARY"]
    capture.DerivationDescription = (
        f"{ascii_label(label)} saliency overlaid on the radiograph by {MANUFACTURER}"
    )[:1024]
    reference = Dataset()
    reference.ReferencedSOPClassUID = source.header.SOPClassUID
    reference.ReferencedSOPInstanceUID = source.header.SOPInstanceUID
    if frame is not None:
        reference.ReferencedFrameNumber = frame + 1
    capture.SourceImageSequence = [reference]
    return capture
