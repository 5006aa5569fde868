"""Small DICOM files for tests, built with pydicom.

``make_dicom(pixels, ...)`` returns a :class:`pydicom.Dataset`; ``write_dicom(path, ...)``
writes one (optionally compressed: JPEG 2000 lossless or RLE) and returns the path.
``pixels`` is H×W (grey), F×H×W (multi-frame grey), H×W×3 or F×H×W×3 (RGB), of an
unsigned or signed integer dtype.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    generate_uid,
)

CR_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.1")

PATIENT = {
    "PatientName": "Doe^Jane",
    "PatientID": "PID-0001",
    "PatientBirthDate": "19700101",
    "AccessionNumber": "ACC-42",
}


def make_dicom(
    pixels: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    modality: str = "CR",
    window: tuple[float, float] | None = None,
    voi_lut_function: str | None = None,
    voi_lut: tuple[Sequence[int], int, int] | None = None,
    rescale: tuple[float, float] | None = None,
    pixel_spacing: tuple[float, float] | None = None,
    imager_pixel_spacing: tuple[float, float] | None = None,
    presentation_lut_shape: str | None = None,
    study_uid: str | None = None,
    patient: dict[str, str] | None = None,
) -> Dataset:
    """A CR-like dataset holding ``pixels`` uncompressed (explicit VR little endian).

    ``window`` is (centre, width); ``voi_lut`` is (LUT data, first mapped value, bits per
    entry); ``rescale`` is (slope, intercept).
    """
    arr = np.asarray(pixels)
    colour = photometric in ("RGB", "YBR_FULL")
    frames = arr.shape[0] if arr.ndim == (4 if colour else 3) else 1
    rows, cols = arr.shape[-3:-1] if colour else arr.shape[-2:]
    bits_allocated = arr.dtype.itemsize * 8
    signed = np.issubdtype(arr.dtype, np.signedinteger)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage if colour else CR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    for key, value in (PATIENT if patient is None else patient).items():
        setattr(ds, key, value)
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    if colour:
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = int(rows), int(cols)
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored or bits_allocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    if voi_lut_function is not None:
        ds.VOILUTFunction = voi_lut_function
    if voi_lut is not None:
        data, first, bits = voi_lut
        item = Dataset()
        item.add_new("LUTDescriptor", "US", [len(data), first, bits])
        item.add_new("LUTData", "US", [int(v) for v in data])
        ds.VOILUTSequence = DicomSequence([item])
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
        ds.RescaleType = "US"
    if pixel_spacing is not None:
        ds.PixelSpacing = list(pixel_spacing)
    if imager_pixel_spacing is not None:
        ds.ImagerPixelSpacing = list(imager_pixel_spacing)
    if presentation_lut_shape is not None:
        ds.PresentationLUTShape = presentation_lut_shape
    ds.PixelData = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"))).tobytes()
    return ds


def write_dicom(
    path: str | Path, pixels: np.ndarray, *, transfer_syntax: str | None = None, **kwargs
) -> Path:
    """Write :func:`make_dicom`'s dataset to ``path``, compressed with ``transfer_syntax``."""
    ds = make_dicom(pixels, **kwargs)
    if transfer_syntax is not None and transfer_syntax != ExplicitVRLittleEndian:
        ds.compress(transfer_syntax)
    path = Path(path)
    ds.save_as(path, enforce_file_format=True)
    return path
