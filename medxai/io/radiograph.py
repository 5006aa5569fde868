"""The display-ready radiograph that every image reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Largest image accepted, in pixels (rows × columns × frames for DICOM, width × height
#: for PNG/JPEG). Larger files are refused as possible decompression bombs.
MAX_PIXELS = 100_000_000

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


def luminance(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luminance of an H×W×3 array, as float64 in the input's units."""
    r, g, b = LUMA_WEIGHTS
    rgb = rgb.astype(np.float64, copy=False)
    return r * rgb[..., 0] + g * rgb[..., 1] + b * rgb[..., 2]


def frame_name(file_name: str, frame: int | None) -> str:
    """Display name of a frame: ``file.dcm#frame2`` for 0-based frame 1."""
    return file_name if frame is None else f"{file_name}#frame{frame + 1}"
