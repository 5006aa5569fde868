"""Fracture model: a lucent line across a bone, a cortical step, angulation and a chip.

Geometry (limb frame, at the fracture point ``pf`` at ``t`` along the bone, local radius
``r``): the *line* runs along ``m`` (the bone's cross direction tilted by
``line_angle_deg``), its normal ``n`` points to the proximal end, ``s = (p − pf)·n`` is the
signed distance to the line and ``w = (p − pf)·m`` the position along it.

- Lucent line: bone attenuation is multiplied by ``1 − depth`` where
  ``|s + jag(w)| < gap/2`` (at least ``min_gap_px`` wide), over the part of the bone the line
  crosses (``extent``, starting from the cortex on ``start_side``).
- Step and angulation: the two sides are pulled apart sideways by ``±displacement·r/2``
  and rotated by ``±angulation/2`` about ``pf``; both fade to zero at ``|s| = 1.6 r``,
  so the whole change stays local to the fracture (the ground-truth ellipses cover it).
- Fragment: a small solid chip of bone beside the cortex where the line exits.
- Healing signs (:func:`healing_paths`): a fusiform periosteal callus, a cuff whose
  thickness is ``callus·r·exp(−(a/r)²)`` at distance ``a`` along the bone axis from
  ``pf``, and soft-tissue swelling, an extra soft-tissue path
  ``swelling·r·exp(−(a/r)² − (d/(1.5 r))²)`` at distance ``d`` from the axis. Both are
  centred on the fracture and fall to a fifth of their peak within the fracture-line
  ellipse.

The ellipses returned here are the ground truth: "fracture line" (centred on ``pf``,
along ``m``), "cortical irregularity" (where the line crosses a displaced cortex) and
"bone fragment" (around the chip). Their centres lie inside the bone outline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from medxai.data.phantoms.geometry import (
    Array,
    Capsule,
    chord,
    radius_profile,
    smoothstep,
    solid,
    tube,
)
from medxai.data.phantoms.spec import FractureSpec

#: Distance from the line (in bone radii) over which step and angulation fade out.
FADE = 1.6


@dataclass(frozen=True)
class FractureGeometry:
    pf: tuple[float, float]
    q: tuple[float, float]  # across the bone
    m: tuple[float, float]  # along the fracture line
    n: tuple[float, float]  # normal to the line, towards the proximal end
    r: float
    r_line: float  # half-length of the line inside the bone
    gap: float
    step: float  # signed sideways step between the fragments
    chip: Capsule | None


def _unit(x: float, y: float) -> tuple[float, float]:
    norm = math.hypot(x, y) or 1.0
    return x / norm, y / norm


def _rot(v: tuple[float, float], deg: float) -> tuple[float, float]:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return c * v[0] - s * v[1], s * v[0] + c * v[1]


def geometry(bone: Capsule, spec: FractureSpec, pixel: float) -> FractureGeometry:
    """Where the fracture lies on ``bone`` (after per-study and per-view changes)."""
    (x0, y0), (x1, y1) = bone.p0, bone.p1
    a = _unit(x1 - x0, y1 - y0)
    q = (-a[1], a[0])
    pf = (x0 + spec.t * (x1 - x0), y0 + spec.t * (y1 - y0))
    r = float(radius_profile(np.array([spec.t]), bone)[0])
    m = _rot(q, spec.line_angle_deg)
    n = _rot(a, spec.line_angle_deg)
    r_line = r / max(math.cos(math.radians(spec.line_angle_deg)), 0.6)
    gap = max(spec.gap * r, spec.min_gap_px * pixel)
    step = math.copysign(max(abs(spec.displacement) * r, spec.min_step_px * pixel),
                         spec.displacement)
    chip = None
    if spec.fragment:
        side = spec.fragment_side
        half = spec.fragment_size * r
        dist = r_line * 0.9 + spec.fragment_offset * r
        c = (pf[0] + side * m[0] * dist, pf[1] + side * m[1] * dist)
        chip = Capsule(
            p0=(c[0] - n[0] * half * 0.7, c[1] - n[1] * half * 0.7),
            p1=(c[0] + n[0] * half * 0.7, c[1] + n[1] * half * 0.7),
            r=max(0.5 * half, spec.min_chip_px * pixel), cortex=1.0,
        )
    return FractureGeometry(pf, q, m, n, r, r_line, gap, step, chip)


def fractured_tube(
    u: Array, v: Array, bone: Capsule, spec: FractureSpec, geo: FractureGeometry, pixel: float
) -> tuple[Array, Array]:
    """Cortical and medullary path lengths of ``bone`` with the fracture applied."""
    du, dv = u - geo.pf[0], v - geo.pf[1]
    s = du * geo.n[0] + dv * geo.n[1]
    w = du * geo.m[0] + dv * geo.m[1]
    sign = np.where(s < 0, -1.0, 1.0)
    fade = np.clip(1.0 - np.abs(s) / (FADE * geo.r), 0.0, 1.0) ** 2
    shift = 0.5 * geo.step * sign * fade
    ang = np.radians(0.5 * spec.angulation_deg) * sign * fade
    # source point: undo the sideways shift, then the rotation about pf
    su, sv = du - shift * geo.q[0], dv - shift * geo.q[1]
    c, sn = np.cos(ang), np.sin(ang)
    src_u = geo.pf[0] + c * su + sn * sv
    src_v = geo.pf[1] - sn * su + c * sv
    cortex, medulla = tube(src_u, src_v, bone)
    jag = spec.jag_amplitude * geo.r * (
        np.sin(w / (0.35 * geo.r) + spec.jag_phase) + 0.5 * np.sin(w / (0.13 * geo.r))
    )
    in_line = smoothstep((0.5 * geo.gap - np.abs(s + jag)) / pixel)
    across = spec.start_side * w - geo.r_line * (1.0 - 2.0 * spec.extent)
    keep = 1.0 - spec.depth * in_line * smoothstep(across / pixel)
    cortex = cortex * keep
    medulla = medulla * keep
    if geo.chip is not None:
        cortex = cortex + 0.8 * solid(u, v, geo.chip)
    return cortex, medulla


def healing_paths(
    u: Array, v: Array, spec: FractureSpec, geo: FractureGeometry
) -> tuple[Array, Array]:
    """Callus (bone-like) and swelling (soft-tissue) path lengths around the fracture."""
    du, dv = u - geo.pf[0], v - geo.pf[1]
    along = du * geo.q[1] - dv * geo.q[0]  # along the bone axis (q is across it)
    across = np.abs(du * geo.q[0] + dv * geo.q[1])
    envelope = np.exp(-((along / geo.r) ** 2))
    cuff = chord(geo.r * (1.0 + spec.callus * envelope), across) - chord(geo.r, across)
    swelling = spec.swelling * geo.r * envelope * np.exp(-((across / (1.5 * geo.r)) ** 2))
    return cuff, swelling


def ellipses(spec: FractureSpec, geo: FractureGeometry, pixel: float) -> list[dict]:
    """Ground-truth ellipses in the limb frame: ``label, c, rx, ry, axis`` (axis = rx direction)."""
    r = geo.r
    out = [{
        "label": "fracture line", "c": geo.pf,
        "rx": max(1.3 * geo.r_line + 0.5 * abs(geo.step), 3 * pixel),
        "ry": max(1.25 * r + 0.5 * abs(geo.step), 0.5 * geo.gap + 2 * pixel),
        "axis": geo.m,
    }]
    sides = [spec.start_side]
    if spec.extent >= 1.0 and abs(geo.step) > 0.15 * r:
        sides = [-1, 1]
    for side in sides:
        d = 0.65 * geo.r_line
        out.append({
            "label": "cortical irregularity",
            "c": (geo.pf[0] + side * geo.m[0] * d, geo.pf[1] + side * geo.m[1] * d),
            "rx": max(0.5 * r, 2 * pixel), "ry": max(0.5 * r, 2 * pixel), "axis": geo.m,
        })
    if geo.chip is not None:
        (x0, y0), (x1, y1) = geo.chip.p0, geo.chip.p1
        half = 0.5 * math.hypot(x1 - x0, y1 - y0)
        out.append({
            "label": "bone fragment", "c": ((x0 + x1) / 2, (y0 + y1) / 2),
            "rx": half + geo.chip.r + 1.5 * pixel, "ry": geo.chip.r + 1.5 * pixel,
            "axis": geo.n,
        })
    return out
