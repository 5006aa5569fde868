"""Counterfactual images with the plaster cast painted out.

Two ways, from the cleanest to the most general:

- :func:`render_without_cast` (phantoms): the study's truth (``phantom.json``) is
  rendered again with ``cast=False``. The generator draws every random field whether or
  not the cast is drawn, so the result differs from the original image only where the
  cast was: the same limb, bones, fracture, noise and exposure.
- :func:`inpaint_cast` (any radiograph with a cast mask, e.g. MURA): the masked pixels
  are replaced by the surrounding soft-tissue intensity ``t``, the median of the ring
  ``R = dilate(M, r) \\ M`` restricted to pixels brighter than the background (the
  darkest quartile of the image is taken as background). The bones under the cast are
  painted out too, so this counterfactual also removes any fracture the cast covered;
  read it as an upper bound of the probability drop that removing the cast can cause.

The effect of a counterfactual on a model is ``Δ = p(x) − p(x_cf)``, the drop of the
abnormality probability when the cast is removed (:func:`probability_drop`).
"""

from __future__ import annotations

import json
import os
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

import numpy as np
from scipy import ndimage

from medxai.data.phantoms import StudySpec, render
from medxai.data.phantoms import spec as spec_module

__all__ = ["inpaint_cast", "probability_drop", "render_without_cast", "spec_from_dict"]


def _build(cls: type, data: Any) -> Any:
    """Rebuild dataclass ``cls`` from ``data`` (nested dataclasses, tuples, optionals)."""
    hints = get_type_hints(cls, vars(spec_module))
    values = {}
    for f in fields(cls):
        if f.name in data:  # a field added to the generator later keeps its default
            values[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**values)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    args = getattr(hint, "__args__", ())
    origin = getattr(hint, "__origin__", None)
    if is_dataclass(hint):
        return _build(hint, value)
    if origin is tuple:
        inner = args[0] if args else Any
        return tuple(_convert(inner, v) for v in value)
    for arg in args:  # X | None
        if is_dataclass(arg):
            return _build(arg, value)
    return value


def spec_from_dict(data: dict) -> StudySpec:
    """The :class:`~medxai.data.phantoms.StudySpec` saved as ``phantom.json["spec"]``."""
    return _build(StudySpec, data)


def render_without_cast(study_folder: str | os.PathLike[str], image_name: str) -> np.ndarray:
    """Image ``image_name`` of a phantom study rendered again without its cast (uint8)."""
    folder = Path(study_folder)
    truth = json.loads((folder / "phantom.json").read_text())
    spec = spec_from_dict(truth["spec"])
    views = list(truth["views"])
    index = sorted(views, key=lambda n: int("".join(c for c in n if c.isdigit()) or 0)).index(
        image_name
    )
    return render(spec, index, cast=False).pixels


def inpaint_cast(pixels: np.ndarray, mask: np.ndarray, ring_px: int | None = None) -> np.ndarray:
    """``pixels`` with the cast ``mask`` filled by the surrounding soft tissue (module doc).

    ``pixels`` is ``H×W`` (any numeric type; the result has the same dtype). ``ring_px``
    is the ring's width ``r``, by default 3 % of the longer side (at least 2 pixels).
    An empty mask returns a copy of ``pixels``.
    """
    image = np.asarray(pixels)
    m = np.asarray(mask, dtype=bool)
    if image.shape != m.shape:
        raise ValueError(f"pixels {image.shape} and mask {m.shape} differ in size")
    out = image.copy()
    if not m.any():
        return out
    r = ring_px if ring_px is not None else max(2, round(0.03 * max(image.shape)))
    ring = ndimage.binary_dilation(m, iterations=int(r)) & ~m
    values = image[ring].astype(np.float64)
    background = float(np.percentile(image, 25))
    tissue = values[values > background]
    fill = float(np.median(tissue if tissue.size else values)) if values.size else background
    if np.issubdtype(image.dtype, np.integer):
        out[m] = round(fill)
    else:
        out[m] = fill
    return out


def probability_drop(original: np.ndarray, counterfactual: np.ndarray) -> np.ndarray:
    """``Δ = p(x) − p(x_cf)`` per image: positive when removing the cast lowers ``p``."""
    return np.asarray(original, dtype=np.float64) - np.asarray(counterfactual, dtype=np.float64)
