"""Things laid over the limb: a plaster cast, metal hardware and a laterality marker.

- Cast: a hollow sleeve (outer radius ``R`` = limb radius + padding, wall ``wall``)
  around the cast axis between ``t0`` and ``t1``, cut flat at both ends with a slightly
  wavy edge. Path length ``chord(R, d) − chord(R − wall, d)`` makes the sleeve faint in
  the middle and dense at its edges. Its density is modulated by mottled plaster texture
  (smoothed noise at two scales) and an optional crossed weave. The cast mask is the
  sleeve's outline.
- Hardware: a plate beside a long bone with screws across it (a thin wire in a finger);
  metal is so dense it saturates.
- Marker: the lead letter ``L`` or ``R`` drawn with strokes in an image corner, in pixels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

from medxai.data.phantoms.geometry import Array, Capsule, View, chord, project, smoothstep, solid
from medxai.data.phantoms.spec import CastSpec, HardwareSpec, MarkerSpec


def cast_path(
    u: Array, v: Array, axis: Capsule, spec: CastSpec, view: View, noise: Array
) -> tuple[Array, Array]:
    """Attenuation path (already weighted by texture and density) and the cast outline mask.

    ``noise`` is a standard normal field of the image's shape (drawn by the caller so the
    random stream does not depend on whether a cast is drawn).
    """
    (x0, y0), (x1, y1) = axis.p0, axis.p1
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    ax, ay = dx / length, dy / length
    along = (u - x0) * ax + (v - y0) * ay
    across = -(u - x0) * ay + (v - y0) * ax
    outer = axis.r + spec.padding
    inner = outer - spec.wall
    d = np.abs(across)
    wave = 0.012 * np.sin(across / 0.03 + spec.seed % 7)
    pixel = view.pixel
    ends = smoothstep((along - spec.t0 * length - wave) / pixel) * smoothstep(
        (spec.t1 * length + wave - along) / pixel
    )
    wall = chord(outer, d) - chord(inner, d)
    mottle = _normalised(gaussian_filter(noise, 0.02 / pixel)) + 0.4 * _normalised(
        gaussian_filter(noise, 0.8)
    )
    a = math.radians(spec.weave_angle_deg)
    k = 2 * math.pi / spec.weave_period
    weave = np.sin(k * (u * math.cos(a) + v * math.sin(a))) * np.sin(
        k * (-u * math.sin(a) + v * math.cos(a))
    )
    texture = np.clip(1.0 + 0.12 * mottle + spec.weave * weave, 0.3, 2.0)
    path = spec.density * ends * (wall + 0.15 * chord(inner, d)) * texture
    mask = (ends > 0.5) & (d < outer)
    return path, mask


def _normalised(field: Array) -> Array:
    return field / (float(field.std()) + 1e-9)


def hardware_capsules(bone: Capsule, spec: HardwareSpec) -> list[Capsule]:
    """Plate and screws (or one wire when ``spec.screws == 0``) for ``bone``."""
    (x0, y0), (x1, y1) = bone.p0, bone.p1
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy)
    ax, ay = dx / length, dy / length
    qx, qy = -ay, ax
    r = bone.r

    def at(t: float, off: float) -> tuple[float, float]:
        return x0 + t * dx + off * qx, y0 + t * dy + off * qy

    if spec.screws == 0:
        return [Capsule(p0=at(spec.t0, -0.6 * r), p1=at(spec.t1, 0.6 * r), r=0.12 * r, cortex=1)]
    side = spec.side
    caps = [Capsule(p0=at(spec.t0, side * 1.15 * r), p1=at(spec.t1, side * 1.15 * r),
                    r=0.2 * r, cortex=1.0)]
    for i in range(spec.screws):
        t = spec.t0 + (spec.t1 - spec.t0) * (i + 0.5) / spec.screws
        caps.append(Capsule(p0=at(t, side * 1.45 * r), p1=at(t, -side * 1.05 * r),
                            r=0.13 * r, cortex=1.0))
    return caps


def hardware_path(u: Array, v: Array, caps: list[Capsule]) -> Array:
    out = np.zeros_like(u)
    for cap in caps:
        out += solid(u, v, cap)
    return out


_LETTERS: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {
    "L": [((0.0, 0.0), (0.0, 1.0)), ((0.0, 1.0), (0.65, 1.0))],
    "R": [((0.0, 0.0), (0.0, 1.0)), ((0.0, 0.0), (0.45, 0.0)), ((0.45, 0.0), (0.65, 0.18)),
          ((0.65, 0.18), (0.65, 0.3)), ((0.65, 0.3), (0.45, 0.5)), ((0.45, 0.5), (0.0, 0.5)),
          ((0.3, 0.5), (0.7, 1.0))],
}


def marker_layer(size: int, spec: MarkerSpec) -> tuple[Array, tuple[slice, slice]]:
    """Attenuation of the marker (holder plus letter) and the pixel window it occupies."""
    h = max(spec.height * size, 7.0)
    w = 0.7 * h
    pad = 0.35 * h
    box_w, box_h = math.ceil(w + 2 * pad), math.ceil(h + 2 * pad)
    margin = int(0.04 * size)
    left = spec.corner in (0, 3)
    top = spec.corner in (0, 1)
    c0 = margin if left else size - margin - box_w
    r0 = margin if top else size - margin - box_h
    rows, cols = slice(r0, r0 + box_h), slice(c0, c0 + box_w)
    yy = np.arange(box_h, dtype=np.float64)[:, None] + 0.5 + np.zeros((1, box_w))
    xx = np.arange(box_w, dtype=np.float64)[None, :] + 0.5 + np.zeros((box_h, 1))
    stroke = max(0.09 * h, 0.8)
    letter = np.zeros((box_h, box_w))
    for (ax, ay), (bx, by) in _LETTERS[spec.letter]:
        cap = Capsule(p0=(pad + ax * w, pad + ay * h), p1=(pad + bx * w, pad + by * h), r=stroke)
        _, d, _ = project(xx, yy, cap)
        letter = np.maximum(letter, smoothstep(stroke - d))
    holder = smoothstep(np.minimum(np.minimum(xx, box_w - xx), np.minimum(yy, box_h - yy)) - 1.0)
    return 0.25 * holder + 4.0 * letter, (rows, cols)
