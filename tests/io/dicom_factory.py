"""Small DICOM files for tests, built with pydicom, and hostile image files.

``make_dicom(pixels, ...)`` returns a :class:`pydicom.Dataset`; ``write_dicom(path, ...)``
writes one (optionally compressed: JPEG 2000 lossless or RLE) and returns the path.
``pixels`` is H×W (grey), F×H×W (multi-frame grey), H×W×3 or F×H×W×3 (RGB), of an
unsigned or signed integer dtype, or float32/float64 (Float / Double Float Pixel Data).

Hostile files: ``png_header_only`` (a PNG announcing huge dimensions in a few bytes),
``damage_rle`` (RLE segments rewritten after their header so that they overrun the
frame, which makes pylibjpeg-rle's Rust decoder panic).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_frames
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
    floating = np.issubdtype(arr.dtype, np.floating)

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
    data = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"))).tobytes()
    if floating:  # Float Pixel Data (32-bit) or Double Float Pixel Data (64-bit)
        ds.PixelRepresentation = 0
        setattr(ds, "FloatPixelData" if bits_allocated == 32 else "DoubleFloatPixelData", data)
    else:
        ds.PixelData = data
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


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header announces ``width × height`` but holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def damage_rle(path: Path) -> Path:
    """Rewrite every RLE segment of ``path``'s first frame, after the 64-byte RLE header,
    with replicate runs (``0x81 v``: 128 copies of ``v``) that overrun the frame."""
    raw = bytearray(path.read_bytes())
    frame = next(generate_frames(pydicom.dcmread(path).PixelData))
    start = bytes(raw).find(frame) + 64
    end = start + len(frame) - 64
    raw[start:end] = (b"\x81\x07" * len(frame))[: end - start]
    path.write_bytes(bytes(raw))
    return path
