"""The DICOM grayscale display chain: stored values → modality LUT → VOI → polarity.

Conventions (PS3.3 C.11 and C.7.6.3.1.2):

* **Modality LUT**: the Modality LUT Sequence, else Rescale Slope/Intercept, through
  :func:`pydicom.pixels.apply_modality_lut`.
* **VOI** (the first of several choices is used):

  - a VOI LUT Sequence is preferred when present (as pydicom does); its output is
    divided by ``2**n - 1`` where ``n`` is the LUT's bits per entry (raised when the LUT
    data hold larger values than the descriptor admits, a common export mistake); LUT
    data stored as OW bytes are unpacked by :mod:`medxai.io.dicom`;
  - else Window Center/Width with the VOI LUT Function (LINEAR, LINEAR_EXACT or
    SIGMOID), written here from the standard so that the window maps straight onto
    [0, 1]: values at or below the window's lower edge give 0, above its upper edge 1;
  - else no VOI: the frame's own minimum–maximum of the modality output maps to [0, 1]
    (a uniform frame gives 0).

* **Polarity**: the output is MONOCHROME2 (bright = dense). A MONOCHROME1 image is
  inverted once, after the VOI (``1 - v``). Presentation LUT Shape INVERSE on a
  MONOCHROME2 image inverts it once. For a MONOCHROME1 image the standard requires
  INVERSE (the DX Image Module, PS3.3 C.8.11.3, also used by mammography and
  intra-oral images), and there it describes that very same inversion, so the image is
  inverted once, never twice. IDENTITY never inverts a MONOCHROME2 image and
  leaves a MONOCHROME1 image's inversion in place.
* **Values that are not finite** (NaN or infinity, in float pixel data or after an
  extreme rescale) are left out of the VOI and shown black, with a warning.
* **Colour** (RGB, YBR_*, PALETTE COLOR): converted to RGB, then to BT.601 luminance,
  divided by the largest stored value; no VOI applies.
"""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels import apply_color_lut, apply_modality_lut

from medxai.io.radiograph import luminance

MONOCHROME = ("MONOCHROME1", "MONOCHROME2")


def _first(value: object) -> float:
    """The first of a multi-valued DS/IS element, as float."""
    if isinstance(value, (MultiValue, list, tuple)):
        value = value[0]
    return float(value)  # type: ignore[arg-type]


def _min_max(values: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi <= lo:
        return np.zeros(values.shape, dtype=np.float64)
    return (values.astype(np.float64) - lo) / (hi - lo)


def window(values: np.ndarray, centre: float, width: float, function: str = "LINEAR") -> np.ndarray:
    """Window ``values`` to [0, 1] following PS3.3 C.11.2.1.2 (output range 0–1).

    ``function`` is LINEAR, LINEAR_EXACT or SIGMOID; raises ``ValueError`` for an unknown
    function or a width the function does not allow.
    """
    x = values.astype(np.float64, copy=False)
    function = function.strip().upper() or "LINEAR"
    if function == "LINEAR":
        if width < 1:
            raise ValueError(f"window width {width:g} is below 1")
        c, w = centre - 0.5, width - 1.0
        if w == 0:  # width 1: a threshold at the centre
            return (x > c).astype(np.float64)
        return np.clip((x - c) / w + 0.5, 0.0, 1.0)
    if function == "LINEAR_EXACT":
        if width <= 0:
            raise ValueError(f"window width {width:g} is not positive")
        return np.clip((x - centre) / width + 0.5, 0.0, 1.0)
    if function == "SIGMOID":
        if width <= 0:
            raise ValueError(f"window width {width:g} is not positive")
        return 1.0 / (1.0 + np.exp(np.clip(-4.0 * (x - centre) / width, -700, 700)))
    raise ValueError(f"VOI LUT Function {function!r} is not supported")


def _voi_lut(values: np.ndarray, attrs: Dataset) -> np.ndarray:
    """Apply the first VOI LUT (PS3.3 C.11.2.1.1), output divided to [0, 1].

    Written out rather than taken from pydicom, whose index array has the LUT's entry
    type: an 8-bit LUT with more than 256 entries would wrap around.
    """
    item = attrs.VOILUTSequence[0]
    entries, first, bits = (int(v) for v in item.LUTDescriptor)
    entries = entries or 2**16
    lut = np.asarray(item.LUTData, dtype=np.int64).ravel()[:entries]
    if lut.size == 0:
        raise ValueError("the LUT has no data")
    if first >= 2**15 and float(np.min(values)) < 0:  # a signed first value read as US
        first -= 2**16
    index = np.clip(np.rint(values).astype(np.int64) - first, 0, lut.size - 1)
    bits = max(bits, int(lut.max()).bit_length())
    return lut[index].astype(np.float64) / float(2**bits - 1)


def _voi(modality: np.ndarray, attrs: Dataset, warnings: list[str]) -> np.ndarray:
    if attrs.get("VOILUTSequence"):
        try:
            return _voi_lut(modality, attrs)
        except (ValueError, AttributeError, IndexError, KeyError, TypeError) as exc:
            warnings.append(f"VOI LUT Sequence is unusable ({exc}); trying the window")
    if "WindowCenter" in attrs and "WindowWidth" in attrs:
        try:
            centre, width = _first(attrs.WindowCenter), _first(attrs.WindowWidth)
            if not (math.isfinite(centre) and math.isfinite(width)):
                raise ValueError("window centre/width is not finite")
            return window(modality, centre, width, str(attrs.get("VOILUTFunction") or "LINEAR"))
        except (ValueError, TypeError, IndexError) as exc:
            warnings.append(f"window centre/width is unusable ({exc}); using the image's range")
    return _min_max(modality)


def should_invert(attrs: Dataset) -> bool:
    """True when the display must invert the VOI output to get bright = dense."""
    shape = str(attrs.get("PresentationLUTShape") or "").strip().upper()
    return attrs.get("PhotometricInterpretation") == "MONOCHROME1" or shape == "INVERSE"


def grayscale_display(stored: np.ndarray, attrs: Dataset, warnings: list[str]) -> np.ndarray:
    """Stored values of one MONOCHROME frame → float32 [0, 1], bright = dense."""
    modality = apply_modality_lut(stored, attrs)
    missing = ~np.isfinite(modality)
    if missing.any():
        if missing.all():
            raise ValueError("no pixel value is finite")
        warnings.append(
            f"{int(missing.sum()):,} pixel value(s) are not finite (NaN or infinite) and "
            "are shown black"
        )
        modality = np.where(missing, np.min(modality[~missing]), modality)
    values = _voi(modality, attrs, warnings)
    if should_invert(attrs):
        values = 1.0 - values
    values = np.where(missing, 0.0, values)
    return np.clip(values, 0.0, 1.0).astype(np.float32)


def colour_display(rgb: np.ndarray, attrs: Dataset) -> np.ndarray:
    """An RGB (or palette-index) frame → float32 [0, 1] luminance."""
    if attrs.get("PhotometricInterpretation") == "PALETTE COLOR":
        rgb = apply_color_lut(rgb, attrs)
        top = float(np.iinfo(rgb.dtype).max) if np.issubdtype(rgb.dtype, np.integer) else 1.0
    else:
        top = float(2 ** int(attrs.get("BitsStored") or 8) - 1)
    return np.clip(luminance(rgb) / top, 0.0, 1.0).astype(np.float32)
