"""Body-part templates: the bones and soft tissue of a limb in the limb frame.

A template is a list of named bones (hollow :class:`~.geometry.Capsule` s whose ends flare
at the joints) and soft-tissue capsules (solid, water-like). Bones meet at joints with a
narrow joint space between them. Per-study variation (limb size, bone proportions) and
per-view variation (``spread``: how far the bones sit apart across the limb; 1 for a PA
view, about 0.35 for a lateral one where the bones overlap) are applied here.

Units: one limb unit is the image side at scale 1; distal is at negative ``y`` (top of
the image, as MURA radiographs are usually hung). ``fracture_sites`` lists the bones a
fracture may be placed on, with the allowed range of ``t`` along each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from medxai.data.phantoms.geometry import Capsule

BODY_PARTS: tuple[str, ...] = ("XR_FINGER", "XR_FOREARM", "XR_HAND", "XR_WRIST")


@dataclass(frozen=True)
class Anatomy:
    """The bones and soft tissue of one limb, plus the axis a cast sleeve follows."""

    bones: dict[str, Capsule]
    soft: tuple[Capsule, ...]
    cast_axis: Capsule
    fracture_sites: dict[str, tuple[float, float]] = field(default_factory=dict)
    long_bones: tuple[str, ...] = ()


def _ray(
    prefix: str,
    base: tuple[float, float],
    angle_deg: float,
    lengths: list[float],
    radii: list[float],
    gap: float,
) -> tuple[dict[str, Capsule], tuple[float, float]]:
    """Chain of bones from ``base`` towards the fingertip, ``angle_deg`` from vertical."""
    a = math.radians(angle_deg)
    dx, dy = math.sin(a), -math.cos(a)
    bones: dict[str, Capsule] = {}
    x, y = base
    names = ["mc", "pp", "mp", "dp"] if len(lengths) == 4 else ["mc", "pp", "dp"]
    for i, (name, length, r) in enumerate(zip(names, lengths, radii)):
        last = i == len(lengths) - 1
        p0 = (x, y)
        span = length - 2 * r
        p1 = (x + dx * span, y + dy * span)
        # the proximal end (p0 at the carpus side) flares into the joint; the distal tuft narrows
        bones[f"{prefix}_{name}"] = Capsule(
            p0=p1, p1=p0, r=r, flare0=-0.25 if last else 0.3, flare1=0.4, cortex=0.38
        )
        x, y = p1[0] + dx * (2 * r + gap), p1[1] + dy * (2 * r + gap)
    return bones, (x, y)


def _carpals(cx: float, cy: float, s: float) -> dict[str, Capsule]:
    """Eight carpal bones in two rows around ``(cx, cy)``, size ``s`` (capitate radius)."""
    spec = {
        "scaphoid": (-0.95, 0.55, 0.9, -0.35, 0.15),
        "lunate": (-0.05, 0.65, 0.9, 0.0, 0.0),
        "triquetrum": (0.8, 0.55, 0.75, 0.1, 0.1),
        "pisiform": (1.05, 0.35, 0.5, 0.0, 0.0),
        "trapezium": (-1.5, -0.55, 0.75, -0.2, -0.1),
        "trapezoid": (-0.8, -0.7, 0.7, 0.0, 0.0),
        "capitate": (0.0, -0.65, 1.0, 0.0, 0.35),
        "hamate": (0.85, -0.55, 0.9, 0.0, 0.25),
    }
    out = {}
    for name, (x, y, r, ex, ey) in spec.items():
        p = (cx + x * 1.9 * s, cy + y * 1.9 * s)
        out[name] = Capsule(
            p0=(p[0] - ex * s, p[1] - ey * s), p1=(p[0] + ex * s, p[1] + ey * s),
            r=r * s, cortex=0.35,
        )
    return out


def _hand(scale: float, cy: float) -> tuple[dict[str, Capsule], list[Capsule]]:
    """Carpus centred at ``(0, cy)`` and five rays, ``scale`` = metacarpal length."""
    s = scale
    bones = _carpals(0.0, cy, 0.085 * s)
    soft: list[Capsule] = []
    rays = [  # x offset, base y offset, angle, lengths (mc, pp, [mp], dp), radius
        ("d1", -0.42, -0.02, -38.0, [0.62, 0.48, 0.36], 0.085),
        ("d2", -0.17, -0.32, -9.0, [1.0, 0.62, 0.36, 0.26], 0.075),
        ("d3", 0.0, -0.33, 0.0, [0.98, 0.68, 0.42, 0.28], 0.078),
        ("d4", 0.16, -0.31, 8.0, [0.92, 0.62, 0.38, 0.27], 0.07),
        ("d5", 0.3, -0.26, 17.0, [0.82, 0.5, 0.3, 0.25], 0.064),
    ]
    for name, ox, oy, ang, lengths, r in rays:
        radii = [r * s * f for f in ([1.0, 0.95, 0.85, 0.75][: len(lengths)])]
        base = (ox * s, cy + oy * s)
        chain, tip = _ray(name, base, ang, [v * s for v in lengths], radii, 0.045 * s)
        bones.update(chain)
        a = math.radians(ang)
        start = (base[0] + math.sin(a) * 0.9 * s, base[1] - math.cos(a) * 0.9 * s)
        soft.append(Capsule(p0=start, p1=tip, r=2.1 * radii[1]))
    soft.append(Capsule(p0=(-0.03 * s, cy - 0.78 * s), p1=(0.0, cy - 0.3 * s), r=0.47 * s))
    return bones, soft


def _forearm_bones(top: float, bottom: float, r: float, sep: float) -> dict[str, Capsule]:
    return {
        "radius": Capsule(p0=(-sep, top), p1=(-sep * 0.8, bottom), r=r, flare0=0.7, flare1=0.3,
                          cortex=0.3),
        "ulna": Capsule(p0=(sep * 0.95, top + 0.02), p1=(sep * 0.8, bottom), r=0.85 * r,
                        flare0=0.35, flare1=0.8, cortex=0.3),
    }


def template(body_part: str) -> Anatomy:
    """The template of one body part (see :data:`BODY_PARTS`)."""
    if body_part == "XR_FOREARM":
        bones = _forearm_bones(-0.46, 0.45, 0.03, 0.075)
        bones.update({k: v for k, v in _carpals(0.0, -0.58, 0.028).items()})
        bones["humerus"] = Capsule(p0=(0.0, 0.62), p1=(0.0, 0.8), r=0.09, cortex=0.25)
        soft = (Capsule(p0=(0.0, -0.7), p1=(0.0, 0.8), r=0.18, flare0=-0.15, flare1=0.2),)
        sites = {"radius": (0.18, 0.8), "ulna": (0.2, 0.8)}
        axis = Capsule(p0=(0.0, -0.7), p1=(0.0, 0.8), r=0.2)
        return Anatomy(bones, soft, axis, sites, ("radius", "ulna"))
    if body_part == "XR_WRIST":
        bones = _forearm_bones(0.13, 0.9, 0.042, 0.1)
        hand, soft = _hand(0.3, -0.02)
        bones.update({k: v for k, v in hand.items() if not k.endswith(("_mp", "_dp"))})
        soft = [c for c in soft if c.r > 0.1] + [
            Capsule(p0=(0.0, 0.0), p1=(0.0, 0.9), r=0.25),
            Capsule(p0=(-0.15, -0.1), p1=(-0.25, -0.35), r=0.07),
        ]
        sites = {"radius": (0.04, 0.3), "ulna": (0.05, 0.25), "d2_mc": (0.5, 0.8),
                 "d3_mc": (0.5, 0.8), "d5_mc": (0.4, 0.8)}
        axis = Capsule(p0=(0.0, -0.25), p1=(0.0, 0.95), r=0.27)
        return Anatomy(bones, tuple(soft), axis, sites, ("radius", "ulna"))
    if body_part == "XR_HAND":
        bones, soft = _hand(0.27, 0.3)
        bones.update(_forearm_bones(0.45, 0.8, 0.03, 0.06))
        soft.append(Capsule(p0=(0.0, 0.3), p1=(0.0, 0.8), r=0.16))
        sites = {"d2_mc": (0.3, 0.75), "d3_mc": (0.3, 0.75), "d4_mc": (0.3, 0.75),
                 "d5_mc": (0.3, 0.75), "d2_pp": (0.3, 0.7), "d3_pp": (0.3, 0.7),
                 "d4_pp": (0.3, 0.7), "d1_mc": (0.3, 0.7)}
        axis = Capsule(p0=(0.0, 0.05), p1=(0.0, 0.9), r=0.2)
        return Anatomy(bones, tuple(soft), axis, sites, ("d2_mc", "d3_mc", "d4_mc"))
    if body_part == "XR_FINGER":
        chain, _ = _ray("d3", (0.0, 0.78), 0.0, [0.42, 0.44, 0.27, 0.2],
                        [0.075, 0.068, 0.058, 0.05], 0.03)
        bones = dict(chain)
        # a neighbouring finger at the edge of the field
        side, _ = _ray("d4", (0.3, 0.82), 6.0, [0.42, 0.4, 0.25, 0.18],
                       [0.065, 0.06, 0.05, 0.045], 0.03)
        bones.update({k: v for k, v in side.items() if k.endswith(("_mc", "_pp"))})
        soft = (Capsule(p0=(0.0, -0.42), p1=(0.0, 0.8), r=0.13, flare1=0.8),
                Capsule(p0=(0.26, 0.05), p1=(0.31, 0.8), r=0.11, flare1=0.4))
        sites = {"d3_pp": (0.25, 0.75), "d3_mp": (0.25, 0.75), "d3_mc": (0.2, 0.5)}
        axis = Capsule(p0=(0.0, -0.2), p1=(0.0, 0.9), r=0.17)
        return Anatomy(bones, soft, axis, sites, ("d3_pp", "d3_mp"))
    raise ValueError(f"unknown body part {body_part!r}; choose from {', '.join(BODY_PARTS)}")


def varied(anatomy: Anatomy, rng: np.random.Generator) -> Anatomy:
    """Per-study variation: bone thickness, cortical thickness and soft-tissue bulk."""
    thick = float(rng.uniform(0.9, 1.1))
    cortex = float(rng.uniform(0.85, 1.15))
    bulk = float(rng.uniform(0.85, 1.2))
    bones = {n: replace(c, r=c.r * thick, cortex=min(c.cortex * cortex, 0.6))
             for n, c in anatomy.bones.items()}
    soft = tuple(replace(c, r=c.r * bulk) for c in anatomy.soft)
    return replace(anatomy, bones=bones, soft=soft)


def spread(anatomy: Anatomy, factor: float) -> Anatomy:
    """Squeeze the limb across its width (``x``) by ``factor``; radii are kept."""
    def sq(c: Capsule) -> Capsule:
        return replace(c, p0=(c.p0[0] * factor, c.p0[1]), p1=(c.p1[0] * factor, c.p1[1]))

    soft_factor = 0.6 + 0.4 * factor
    return replace(
        anatomy,
        bones={n: sq(c) for n, c in anatomy.bones.items()},
        soft=tuple(replace(sq(c), r=c.r * soft_factor) if factor < 1 else c
                   for c in anatomy.soft),
    )
