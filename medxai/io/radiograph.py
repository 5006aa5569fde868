"""The display-ready radiograph that every image reader returns, and the input-size policy.

The policy: files above :data:`MAX_INPUT_BYTES` are not read, images above
:data:`MAX_PIXELS` are not decoded (:func:`check_pixel_count`, from the header), and
no reader returns a pixel that is not finite (:func:`finite_pixels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medxai.errors import InputError

#: Largest image accepted, in pixels (rows × columns × frames for DICOM, width × height
#: for PNG/JPEG). Larger files are refused as possible decompression bombs, before any
#: pixel is decoded: 100 M pixels is four times a large flat-panel radiograph
#: (about 4,300 × 5,800) and costs at most 800 MB as float64 during the display chain.
MAX_PIXELS = 100_000_000

#: Largest input file read, in bytes: the largest uncompressed image within
#: :data:`MAX_PIXELS` (8 bytes per pixel: 64-bit float data, or three 16-bit samples)
#: plus 64 MiB for headers. Larger files are refused before they are read.
MAX_INPUT_BYTES = 8 * MAX_PIXELS + 64 * 2**20

#: ITU-R BT.601 luma weights, the same as PIL's RGB → L conversion.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


@dataclass
class Radiograph:
    """One image (or one frame of a multi-frame DICOM file), ready to display.

    ``pixels`` is float32 H×W in [0, 1] with MONOCHROME2 polarity: bright = dense.
    ``name`` is the file name, plus ``#frameN`` (1-based) for multi-frame files; it is
    the key annotation files use. ``pixel_spacing_mm`` is (row, column) spacing.
    """

    pixels: np.ndarray
    name: str
    source: Path
    frame: int | None = None
    pixel_spacing_mm: tuple[float, float] | None = None
    identifiers: dict[str, str] = field(default_factory=dict)
    study_uid: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def check_pixel_count(path: Path, width: int, height: int, frames: int = 1) -> None:
    """Refuse an image above :data:`MAX_PIXELS` or without pixels, from its header's size.

    Every reader (PNG, JPEG, DICOM; report and training) calls this before decoding.
    """
    if width < 1 or height < 1 or frames < 1:
        raise InputError(path, f"the image is {width}×{height} pixels; nothing to show")
    total = width * height * frames
    if total > MAX_PIXELS:
        shape = f"{width}×{height}" + (f" pixels × {frames} frame(s)" if frames > 1 else "")
        raise InputError(
            path,
            f"image of {shape} = {total:,} pixels exceeds the {MAX_PIXELS:,}-pixel limit "
            "(possible decompression bomb)",
        )


def finite_pixels(path: Path, pixels: np.ndarray) -> np.ndarray:
    """``pixels`` unchanged when every value is finite; else an InputError naming ``path``."""
    if not np.isfinite(pixels).all():
        raise InputError(path, "the decoded image holds values that are not finite (NaN)")
    return pixels


def luminance(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luminance of an H×W×3 array, as float64 in the input's units."""
    r, g, b = LUMA_WEIGHTS
    rgb = rgb.astype(np.float64, copy=False)
    return r * rgb[..., 0] + g * rgb[..., 1] + b * rgb[..., 2]


def frame_name(file_name: str, frame: int | None) -> str:
    """Display name of a frame: ``file.dcm#frame2`` for 0-based frame 1."""
    return file_name if frame is None else f"{file_name}#frame{frame + 1}"
