"""Render one image of a phantom study from its :class:`~.spec.StudySpec`.

Intensity model (a transmission radiograph displayed with bone white):

``A = κ·(μ_soft·T_soft + μ_cortex·L_cortex + μ_medulla·L_medulla·(1 + 0.35·trabecular)
+ L_cast + μ_metal·L_metal) + A_marker``

with path lengths ``L`` in limb units (see :mod:`.geometry`), soft tissue as the union
(maximum) of its capsules and ``κ = 0.035 / mean radius of the long bones`` normalising
the zoom so a finger and a hand look alike in density. The detector shows
``I = 1 − exp(−exposure·A)``, displayed as
``P = background + (1 − background)·I^γ`` with a small heel-effect gradient, then blurred
(Gaussian, ``blur`` pixels), given signal-dependent noise and quantised to 8 bits.

All random fields of an image come from its view's seed and are drawn whether or not
the fracture or cast is drawn, so ``render(spec, i, fracture=False)`` differs from
``render(spec, i)`` only where the fracture is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from medxai.data.phantoms.anatomy import Anatomy, spread, template, varied
from medxai.data.phantoms.extras import cast_path, hardware_capsules, hardware_path, marker_layer
from medxai.data.phantoms.fractures import (
    FractureGeometry,
    ellipses,
    fractured_tube,
    geometry,
    healing_paths,
)
from medxai.data.phantoms.geometry import Capsule, View, solid, tube
from medxai.data.phantoms.spec import StudySpec, ViewSpec

MU_SOFT = 1.3
MU_CORTEX = 15.0
#: Callus: woven bone, less dense than mature cortex.
MU_CALLUS = 0.3 * MU_CORTEX
MU_MEDULLA = 1.2
MU_METAL = 150.0
#: Bone radius (limb units) at which κ = 1.
REFERENCE_RADIUS = 0.035


@dataclass(frozen=True)
class RenderedImage:
    """One phantom image and its truth, all in pixels of this image."""

    pixels: np.ndarray  # H×W uint8
    cast_mask: np.ndarray  # H×W bool (all False without a cast)
    bone_mask: np.ndarray  # H×W bool: inside a bone outline (a fracture gap counts as bone)
    annotations: list[dict]  # native-format ellipses of the fracture signs


def view_of(spec: StudySpec, index: int) -> View:
    v = spec.views[index]
    return View(size=spec.size, rotation_deg=v.rotation_deg, scale=v.scale, shift=v.shift,
                mirror=spec.mirror)


def anatomy_of(spec: StudySpec, index: int) -> Anatomy:
    """The study's limb as seen in view ``index`` (per-study variation, then view spread)."""
    base = varied(template(spec.body_part), np.random.default_rng(spec.anatomy_seed))
    return spread(base, spec.views[index].spread)


def annotations_of(spec: StudySpec, index: int) -> list[dict]:
    """Ground-truth ellipses of image ``index`` in the native annotation format."""
    if spec.fracture is None:
        return []
    view = view_of(spec, index)
    anatomy = anatomy_of(spec, index)
    geo = geometry(anatomy.bones[spec.fracture.bone], spec.fracture, view.pixel)
    return [_to_pixels(e, view) for e in ellipses(spec.fracture, geo, view.pixel)]


def _to_pixels(e: dict, view: View) -> dict:
    cx, cy = view.to_pixels(*e["c"])
    dx, dy = view.direction_to_pixels(*e["axis"])
    angle = math.degrees(math.atan2(-dy, dx))  # counter-clockwise on screen
    angle = (angle + 90.0) % 180.0 - 90.0
    return {
        "shape": "ellipse", "cx": round(cx, 2), "cy": round(cy, 2),
        "rx": round(e["rx"] * view.k, 2), "ry": round(e["ry"] * view.k, 2),
        "angle": round(angle, 2), "label": e["label"],
    }


def _normalised(field: np.ndarray) -> np.ndarray:
    return field / (float(field.std()) + 1e-9)


def _bone_paths(
    anatomy: Anatomy, view: View, spec: StudySpec, fracture: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, FractureGeometry | None]:
    size = spec.size
    cortex = np.zeros((size, size))
    medulla = np.zeros((size, size))
    outline = np.zeros((size, size), dtype=bool)
    geo = None
    if spec.fracture is not None:
        geo = geometry(anatomy.bones[spec.fracture.bone], spec.fracture, view.pixel)
    for name in sorted(anatomy.bones):
        cap = anatomy.bones[name]
        window = view.bbox([cap.p0, cap.p1], cap.max_radius() * 1.1 + 0.05)
        if window is None:
            continue
        u, v = view.limb_grid(*window)
        broken = spec.fracture is not None and name == spec.fracture.bone
        if fracture and geo is not None and spec.fracture is not None and broken:
            lc, lm = fractured_tube(u, v, cap, spec.fracture, geo, view.pixel)
            if geo.chip is not None:
                outline[window] |= solid(u, v, geo.chip) > 0.5 * view.pixel
        else:
            lc, lm = tube(u, v, cap)
        cortex[window] += lc
        medulla[window] += lm
        outline[window] |= solid(u, v, cap) > 0.5 * view.pixel
    return cortex, medulla, outline, geo


def render(
    spec: StudySpec, index: int = 0, *, fracture: bool = True, cast: bool = True
) -> RenderedImage:
    """Image ``index`` of ``spec``; ``fracture=False`` / ``cast=False`` leave those out."""
    vs: ViewSpec = spec.views[index]
    view = view_of(spec, index)
    anatomy = anatomy_of(spec, index)
    size = spec.size
    rng = np.random.default_rng(vs.seed)
    trabecular = _normalised(gaussian_filter(rng.standard_normal((size, size)), 0.7))
    cast_noise = rng.standard_normal((size, size))
    detector = rng.standard_normal((size, size))
    heel = rng.uniform(-1, 1, size=2)

    kappa = REFERENCE_RADIUS / float(np.mean([anatomy.bones[b].r for b in anatomy.long_bones]))
    full = (slice(0, size), slice(0, size))
    u, v = view.limb_grid(*full)
    soft = np.zeros((size, size))
    for cap in anatomy.soft:
        soft = np.maximum(soft, solid(u, v, cap))
    cortex, medulla, outline, geo = _bone_paths(anatomy, view, spec, fracture)
    att = MU_SOFT * soft + MU_CORTEX * cortex + MU_MEDULLA * medulla * (1 + 0.35 * trabecular)
    if fracture and geo is not None and spec.fracture is not None:
        callus, swelling = healing_paths(u, v, spec.fracture, geo)
        att += MU_CALLUS * callus + MU_SOFT * swelling

    cast_mask = np.zeros((size, size), dtype=bool)
    if spec.cast is not None and cast:
        axis = anatomy.cast_axis
        axis = Capsule(p0=axis.p0, p1=axis.p1, r=axis.r * (0.6 + 0.4 * vs.spread))
        path, cast_mask = cast_path(u, v, axis, spec.cast, view, cast_noise)
        att += path
    if spec.hardware is not None:
        caps = hardware_capsules(anatomy.bones[spec.hardware.bone], spec.hardware)
        att += MU_METAL * hardware_path(u, v, caps)
    att *= kappa
    if spec.marker is not None:
        layer, window = marker_layer(size, spec.marker)
        att[window] += layer

    transmitted = 1.0 - np.exp(-vs.exposure * att)
    ramp = (np.arange(size) / size - 0.5)
    gradient = 1.0 + 0.06 * (heel[0] * ramp[None, :] + heel[1] * ramp[:, None])
    shown = (vs.background + (1 - vs.background) * transmitted**vs.gamma) * gradient
    shown = gaussian_filter(shown, vs.blur)
    shown = shown + vs.noise * np.sqrt(np.clip(shown, 0, None) + 0.1) * detector
    pixels = np.clip(np.rint(shown * 255.0), 0, 255).astype(np.uint8)
    return RenderedImage(
        pixels=pixels,
        cast_mask=cast_mask,
        bone_mask=outline,
        annotations=annotations_of(spec, index) if fracture else [],
    )
