"""DICOM files → display-ready radiographs (one per frame).

Compressed transfer syntaxes (JPEG, JPEG-LS, JPEG 2000, RLE) decode through pydicom's
pixel data plugins (pylibjpeg and its libjpeg, openjpeg and rle plugins; pillow;
python-gdcm). A missing plugin is reported with the package to install. The display
chain is in :mod:`medxai.io.dicom_display`.

Pixel spacing is PixelSpacing, else ImagerPixelSpacing (at the detector: not corrected
for magnification, which is noted as a warning), else the Pixel Measures functional
group of an enhanced multi-frame file. Modality LUT and VOI attributes also come from
the shared and per-frame functional groups when the file has them.

Pixel data may be integer (Pixel Data), 32-bit float (Float Pixel Data, e.g. a
parametric map) or 64-bit float (Double Float Pixel Data); values that are not finite
(NaN, infinity) are shown black, with a warning.

Files are opened under the access rule of :mod:`medxai.io.files`; parsing and decoding
run inside the boundary of :mod:`medxai.io.decode`, compressed pixel data in its
isolated worker. A deflated data set may inflate to at most
:data:`~medxai.io.radiograph.MAX_INPUT_BYTES`.
"""

from __future__ import annotations

import math
import warnings
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.pixels import get_decoder
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian

from medxai.errors import InputError
from medxai.io.decode import decoding, isolated, memory_allowance
from medxai.io.dicom_display import MONOCHROME, colour_display, grayscale_display
from medxai.io.files import open_input
from medxai.io.radiograph import (
    MAX_INPUT_BYTES,
    Radiograph,
    check_pixel_count,
    finite_pixels,
    frame_name,
)

#: The elements that hold an image: integer, 32-bit float and 64-bit float pixel data.
PIXEL_KEYWORDS: tuple[str, ...] = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")

# What the pixel decoders read: copied into the data set sent to the decoding worker.
_PIXEL_MODULE_KEYWORDS: tuple[str, ...] = (
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "PlanarConfiguration",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "NumberOfFrames",
    "ExtendedOffsetTable",
    "ExtendedOffsetTableLengths",
    *PIXEL_KEYWORDS,
)

#: Identifying attributes copied into :attr:`Radiograph.identifiers` when present.
IDENTIFIER_KEYWORDS: tuple[str, ...] = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "OtherPatientIDs",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "AccessionNumber",
    "StudyInstanceUID",
    "StudyID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "InstitutionName",
    "ReferringPhysicianName",
)

# Transfer syntax UID prefixes → what to install to decode them.
_PLUGIN_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"),
        "pylibjpeg and pylibjpeg-libjpeg (or pillow, or python-gdcm)",
    ),
    (
        ("1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"),
        "pylibjpeg and pylibjpeg-libjpeg (or python-gdcm)",
    ),
    (
        ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"),
        "pylibjpeg and pylibjpeg-libjpeg (or pyjpegls, or python-gdcm)",
    ),
    (
        ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.20"),
        "pylibjpeg and pylibjpeg-openjpeg (or python-gdcm)",
    ),
    (("1.2.840.10008.1.2.5",), "pylibjpeg and pylibjpeg-rle"),
)

# Functional-group sequences and the attributes each may hold for a frame.
_FUNCTIONAL_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("PixelMeasuresSequence", ("PixelSpacing",)),
    ("PixelValueTransformationSequence", ("RescaleSlope", "RescaleIntercept", "RescaleType")),
    ("FrameVOILUTSequence", ("WindowCenter", "WindowWidth", "VOILUTFunction")),
)

_DISPLAY_KEYWORDS: tuple[str, ...] = (
    "PhotometricInterpretation",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "SamplesPerPixel",
    "ModalityLUTSequence",
    "RescaleSlope",
    "RescaleIntercept",
    "RescaleType",
    "VOILUTSequence",
    "WindowCenter",
    "WindowWidth",
    "VOILUTFunction",
    "PresentationLUTShape",
    "RedPaletteColorLookupTableDescriptor",
    "GreenPaletteColorLookupTableDescriptor",
    "BluePaletteColorLookupTableDescriptor",
    "RedPaletteColorLookupTableData",
    "GreenPaletteColorLookupTableData",
    "BluePaletteColorLookupTableData",
    "SegmentedRedPaletteColorLookupTableData",
    "SegmentedGreenPaletteColorLookupTableData",
    "SegmentedBluePaletteColorLookupTableData",
    "PixelSpacing",
    "ImagerPixelSpacing",
)


def plugin_hint(transfer_syntax: str) -> str:
    """What to install to decode pixel data in ``transfer_syntax``."""
    for uids, hint in _PLUGIN_HINTS:
        if transfer_syntax in uids:
            return hint
    if transfer_syntax.startswith("1.2.840.10008.1.2.4.20"):  # HTJ2K (201–203)
        return "pylibjpeg and pylibjpeg-openjpeg (2.4 or later)"
    return "python-gdcm"


def _decoder_available(transfer_syntax: UID) -> bool | None:
    """True/False when pydicom knows the syntax and has/lacks a plugin; None if unknown."""
    try:
        return bool(get_decoder(transfer_syntax).is_available)
    except NotImplementedError:
        return None


def _syntax_name(uid: UID) -> str:
    return uid.name if uid.name != str(uid) else f"transfer syntax {uid}"


def _known_name(uid: UID) -> str:
    return uid.name if uid.is_transfer_syntax and uid.name != str(uid) else "unknown"


def _check_decodable(path: Path, uid: UID) -> None:
    available = _decoder_available(uid)
    if available is None:
        raise InputError(
            path,
            f"unsupported transfer syntax {uid} ({_known_name(uid)}): "
            "no pixel data decoder handles it; decompress the file first "
            "(e.g. gdcmconv --raw, or dcmdjpeg) or install python-gdcm",
        )
    if not available:
        raise InputError(
            path,
            f"{_syntax_name(uid)} pixel data needs a decoder plugin: "
            f"install {plugin_hint(str(uid))}",
        )


def _text(value: object) -> str:
    if isinstance(value, MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def read_identifiers(ds: Dataset) -> dict[str, str]:
    """Non-empty identifying attributes (:data:`IDENTIFIER_KEYWORDS`) as text."""
    found = {}
    for keyword in IDENTIFIER_KEYWORDS:
        value = ds.get(keyword)
        if value not in (None, ""):
            text = _text(value)
            if text:
                found[keyword] = text
    return found


def _spacing(value: object) -> tuple[float, float] | None:
    try:
        row, col = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(row) and math.isfinite(col) and row > 0 and col > 0):
        return None
    return row, col


def pixel_spacing(attrs: Dataset, notes: list[str]) -> tuple[float, float] | None:
    """(row, column) spacing in mm: PixelSpacing, else ImagerPixelSpacing."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        if keyword not in attrs or attrs[keyword].value in (None, ""):
            continue
        spacing = _spacing(attrs[keyword].value)
        if spacing is None:
            notes.append(f"{keyword} {attrs[keyword].value!r} is invalid and was ignored")
            continue
        if keyword == "ImagerPixelSpacing":
            notes.append(
                "pixel spacing is ImagerPixelSpacing (at the detector, not corrected for "
                "magnification)"
            )
        return spacing
    return None


def _group_item(ds: Dataset, group: str, frame: int | None) -> Dataset | None:
    if group == "PerFrameFunctionalGroupsSequence":
        items = ds.get(group)
        if not items or frame is None or frame >= len(items):
            return None
        return items[frame]
    items = ds.get(group)
    return items[0] if items else None


def _unpacked_voi_luts(ds: Dataset) -> DicomSequence:
    """Copies of the VOI LUT items with LUT Data as integers (OW bytes unpacked)."""
    little_endian = getattr(ds, "original_encoding", (None, True))[1] is not False
    items = []
    for original in ds.VOILUTSequence:
        item = Dataset()
        for element in original:
            item.add(element)
        data = original.get("LUTData")
        if isinstance(data, bytes):
            words = np.frombuffer(
                data[: len(data) // 2 * 2], dtype="<u2" if little_endian else ">u2"
            )
            item.add_new("LUTData", "US", words.tolist())
        items.append(item)
    return DicomSequence(items)


def frame_attributes(ds: Dataset, frame: int | None) -> Dataset:
    """The display attributes that apply to one frame.

    Top-level attributes, overridden by the shared, then the per-frame functional groups
    of an enhanced multi-frame file.
    """
    attrs = Dataset()
    for keyword in _DISPLAY_KEYWORDS:
        if keyword in ds:
            attrs[keyword] = ds[keyword]
    if attrs.get("VOILUTSequence"):
        attrs.VOILUTSequence = _unpacked_voi_luts(ds)
    for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        item = _group_item(ds, group, frame)
        if item is None:
            continue
        for sequence, keywords in _FUNCTIONAL_GROUPS:
            inner = item.get(sequence)
            if not inner:
                continue
            for keyword in keywords:
                if keyword in inner[0]:
                    attrs[keyword] = inner[0][keyword]
    return attrs


def _check_inflated_size(path: Path, handle: BinaryIO) -> None:
    """Refuse a deflated data set that would inflate beyond MAX_INPUT_BYTES.

    pydicom inflates the whole data set in memory before parsing it; this counts the
    inflated bytes first, in bounded chunks, without keeping them.
    """
    handle.seek(132)  # after the preamble and "DICM": the file meta group, explicit VR LE
    meta = pydicom.filereader.read_dataset(
        handle, is_implicit_VR=False, is_little_endian=True,
        stop_when=lambda tag, vr, length: tag.group != 2,
    )  # fmt: skip
    if meta.get("TransferSyntaxUID") != DeflatedExplicitVRLittleEndian:
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    while chunk := handle.read(1 << 20):
        data = chunk
        while data:
            total += len(inflater.decompress(data, 1 << 24))
            if total > MAX_INPUT_BYTES:
                raise InputError(
                    path,
                    f"the deflated data set inflates beyond the {MAX_INPUT_BYTES:,}-byte "
                    "input limit (possible decompression bomb)",
                )
            data = inflater.unconsumed_tail


def _read(path: Path, handle: BinaryIO) -> Dataset:
    forced = False
    try:
        if handle.read(132)[128:132] == b"DICM":
            _check_inflated_size(path, handle)
        handle.seek(0)
        try:
            ds = pydicom.dcmread(handle)
        except InvalidDicomError:  # no DICM prefix: perhaps an old file without a preamble
            forced = True
            handle.seek(0)
            ds = pydicom.dcmread(handle, force=True)
    except InputError:
        raise
    except (OSError, EOFError) as exc:
        raise InputError(path, f"cannot read the DICOM file ({exc})") from None
    except Exception as exc:  # pydicom raises many types for damaged headers
        raise InputError(path, f"not a readable DICOM file ({exc})") from None
    if forced and "SOPClassUID" not in ds and not any(k in ds for k in PIXEL_KEYWORDS):
        raise InputError(path, "not a DICOM file (no DICM prefix, no DICOM attributes)")
    return ds


def _frame_count(path: Path, ds: Dataset) -> int:
    raw = ds.get("NumberOfFrames", 1)
    try:
        frames = int(raw) if raw not in (None, "") else 1
    except (TypeError, ValueError):
        raise InputError(path, f"NumberOfFrames {raw!r} is not a number") from None
    if frames < 1:
        raise InputError(path, f"NumberOfFrames is {frames}; no image to show")
    return frames


def _check_size(path: Path, ds: Dataset, frames: int) -> int:
    """The number of pixels to decode, once :func:`check_pixel_count` allows it."""
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
    except (AttributeError, TypeError, ValueError):
        raise InputError(path, "the image has no valid Rows/Columns") from None
    check_pixel_count(path, cols, rows, frames)
    return rows * cols * frames


def decode_pixels(path: Path, ds: Dataset) -> np.ndarray:
    """``ds.pixel_array``, with the decoders' failures as one-line InputErrors.

    Runs in the decoding worker for compressed transfer syntaxes (see :func:`_decode`).
    """
    try:
        return ds.pixel_array
    except ValueError as exc:
        message = str(exc)
        if "less than expected" in message:
            raise InputError(
                path, f"truncated pixel data ({message.split(' - ')[0].strip()})"
            ) from None
        raise InputError(path, f"cannot decode the pixel data ({message})") from None
    except RuntimeError as exc:
        message = str(exc)
        if "all available plugins" in message:  # each plugin failed: damaged or unusual data
            uid = UID(str(ds.file_meta.TransferSyntaxUID))
            reasons = "; ".join(line.strip() for line in message.splitlines()[1:])
            raise InputError(
                path,
                f"no installed plugin could decode the {_syntax_name(uid)} pixel data "
                f"({reasons}); the data may be damaged, or python-gdcm may read it",
            ) from None
        raise InputError(path, f"cannot decode the pixel data ({message})") from None


def _pixel_module(ds: Dataset) -> Dataset:
    """A data set holding only what the pixel decoders read (sent to the worker)."""
    out = Dataset()
    out.file_meta = ds.file_meta
    for keyword in _PIXEL_MODULE_KEYWORDS:
        if keyword in ds:
            out[keyword] = ds[keyword]
    return out


def _decoded_bytes(ds: Dataset, pixels: int) -> int:
    try:
        samples = max(1, int(ds.get("SamplesPerPixel") or 1))
        bits = max(8, int(ds.get("BitsAllocated") or 16))
    except (TypeError, ValueError):
        samples, bits = 3, 64
    return pixels * samples * (bits + 7) // 8


def _decode(path: Path, ds: Dataset, pixels: int) -> np.ndarray:
    """The stored values; compressed data are decoded in the isolated worker."""
    uid = UID(str(ds.file_meta.TransferSyntaxUID))
    if not uid.is_compressed or uid == DeflatedExplicitVRLittleEndian:
        return decode_pixels(path, ds)
    module = _pixel_module(ds)
    encoded = len(ds.get("PixelData") or b"")
    memory = memory_allowance(_decoded_bytes(ds, pixels), encoded)
    what = f"{_syntax_name(uid)} pixel data"
    return isolated(path, what, decode_pixels, path, module, pixels=pixels, memory=memory)


def load_dicom(path: str | Path, root: str | Path | None = None) -> list[Radiograph]:
    """Read a DICOM file into one :class:`Radiograph` per frame (see module notes).

    ``root`` is the folder the file must lie in (:func:`medxai.io.files.open_input`;
    default: the file's own folder). Raises :class:`~medxai.errors.InputError` for a
    file that the access rule refuses, that is not DICOM, is truncated, holds no pixel
    data, is too large (:data:`~medxai.io.radiograph.MAX_PIXELS`), uses a transfer
    syntax no installed plugin decodes (naming the package to install), or whose
    decoder fails in any way.
    """
    path = Path(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_input(path, root) as handle, decoding(path, "DICOM file"):
            images = _load(path, handle)
    notes = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    for image in images:
        image.warnings[:0] = notes
    return images


def _load(path: Path, handle: BinaryIO) -> list[Radiograph]:
    ds = _read(path, handle)
    if not any(keyword in ds for keyword in PIXEL_KEYWORDS):
        hint = "" if "Rows" not in ds else "; the file may be truncated"
        raise InputError(path, f"no pixel data (not an image){hint}")
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if not uid:
        raise InputError(path, "no Transfer Syntax UID in the file meta information")
    _check_decodable(path, UID(str(uid)))
    frames = _frame_count(path, ds)
    count = _check_size(path, ds, frames)
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if not photometric:
        raise InputError(path, "no PhotometricInterpretation")
    data = _decode(path, ds, count)
    colour = photometric not in MONOCHROME
    if frames == 1:
        data = data[None]  # F×H×W (grey, palette indices) or F×H×W×3 (colour)

    identifiers = read_identifiers(ds)
    study_uid = identifiers.get("StudyInstanceUID")
    images = []
    for index in range(frames):
        notes: list[str] = []
        attrs = frame_attributes(ds, index if frames > 1 else None)
        try:
            if colour:
                pixels = colour_display(data[index], attrs)
            else:
                pixels = grayscale_display(data[index], attrs, notes)
        except Exception as exc:  # malformed LUTs or attributes that contradict the data
            raise InputError(
                path, f"cannot display the {photometric} pixel data ({type(exc).__name__}: {exc})"
            ) from None
        if pixels.ndim != 2:
            raise InputError(path, f"unexpected pixel array of shape {pixels.shape}")
        finite_pixels(path, pixels)
        frame = index if frames > 1 else None
        images.append(
            Radiograph(
                pixels=pixels,
                name=frame_name(path.name, frame),
                source=path,
                frame=frame,
                pixel_spacing_mm=pixel_spacing(attrs, notes),
                identifiers=dict(identifiers),
                study_uid=study_uid,
                warnings=notes,
            )
        )
    return images
