"""Geometry primitives of the phantom renderer: capsules, view transforms, path lengths.

Every structure is a *capsule*: the set of points within a radius ``r(t)`` of a segment
``p0 → p1`` (``t`` is the position along the segment, clamped to ``[0, 1]``, so the ends are
rounded). A capsule stands for a cylinder (or, for a very short one, a sphere), and the
X-ray path length through it at distance ``d`` from its axis is ``2·sqrt(r² − d²)``.
A hollow tube of outer radius ``r`` and inner radius ``ri`` splits that length into a
cortical part ``2·sqrt(r² − d²) − 2·sqrt(ri² − d²)`` and a medullary part
``2·sqrt(ri² − d²)``; this is what gives a long bone its bright edges and darker centre.

Shapes live in the *limb frame*: ``x`` across the limb, ``y`` along it (distal end at
negative ``y``, drawn at the top of the image), one unit = the image side at scale 1.
A :class:`View` maps the limb frame to pixels by a similarity (rotation, scale, shift and
an optional mirror), so path lengths computed in limb units are proportional to pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Capsule:
    """A segment with a radius profile: ``r(t) = r·(1 + flare0·a(t) + flare1·b(t))``.

    ``a`` and ``b`` rise quadratically from 0 to 1 over the first and last quarter of the
    segment, which widens the ends of a long bone (metaphysis and epiphysis).
    ``cortex`` is the cortical thickness as a fraction of the radius (1 = solid).
    """

    p0: tuple[float, float]
    p1: tuple[float, float]
    r: float
    flare0: float = 0.0
    flare1: float = 0.0
    cortex: float = 0.3

    def max_radius(self) -> float:
        return self.r * (1.0 + max(self.flare0, 0.0) + max(self.flare1, 0.0))


@dataclass(frozen=True)
class View:
    """Similarity transform limb frame → pixels: ``pix = c + k·R(θ)·M·p``.

    ``M`` mirrors ``x`` when ``mirror`` is true, ``R(θ)`` rotates counter-clockwise on
    screen by ``rotation_deg``, ``k = size·scale`` pixels per limb unit and ``c`` is the
    image centre moved by ``shift`` (in image sides).
    """

    size: int
    rotation_deg: float = 0.0
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    mirror: bool = False

    @property
    def k(self) -> float:
        return self.size * self.scale

    @property
    def pixel(self) -> float:
        """The side of one pixel in limb units."""
        return 1.0 / self.k

    def _rot(self) -> tuple[float, float, float, float]:
        # Counter-clockwise on screen with y pointing down: x' = x cos + y sin, y' = -x sin + y cos.
        a = math.radians(self.rotation_deg)
        c, s = math.cos(a), math.sin(a)
        return c, s, -s, c

    def centre(self) -> tuple[float, float]:
        half = self.size / 2
        return half + self.shift[0] * self.size, half + self.shift[1] * self.size

    def to_pixels(self, x: float, y: float) -> tuple[float, float]:
        if self.mirror:
            x = -x
        a, b, c, d = self._rot()
        cx, cy = self.centre()
        return cx + self.k * (a * x + b * y), cy + self.k * (c * x + d * y)

    def direction_to_pixels(self, dx: float, dy: float) -> tuple[float, float]:
        if self.mirror:
            dx = -dx
        a, b, c, d = self._rot()
        return a * dx + b * dy, c * dx + d * dy

    def limb_grid(self, rows: slice, cols: slice) -> tuple[Array, Array]:
        """Limb-frame coordinates of the pixel centres in ``[rows, cols]``."""
        ys = np.arange(rows.start, rows.stop, dtype=np.float64) + 0.5
        xs = np.arange(cols.start, cols.stop, dtype=np.float64) + 0.5
        cx, cy = self.centre()
        px = (xs[None, :] - cx) / self.k
        py = (ys[:, None] - cy) / self.k
        a, b, c, d = self._rot()
        # inverse rotation = transpose
        u = a * px + c * py
        v = b * px + d * py
        if self.mirror:
            u = -u
        return u, v

    def bbox(self, points: list[tuple[float, float]], margin: float) -> tuple[slice, slice] | None:
        """Pixel window covering ``points`` (limb frame) widened by ``margin`` limb units."""
        pix = [self.to_pixels(x, y) for x, y in points]
        m = margin * self.k + 2.0
        x0 = max(math.floor(min(p[0] for p in pix) - m), 0)
        x1 = min(math.ceil(max(p[0] for p in pix) + m), self.size)
        y0 = max(math.floor(min(p[1] for p in pix) - m), 0)
        y1 = min(math.ceil(max(p[1] for p in pix) + m), self.size)
        if x0 >= x1 or y0 >= y1:
            return None
        return slice(y0, y1), slice(x0, x1)


def project(u: Array, v: Array, cap: Capsule) -> tuple[Array, Array, float]:
    """Clamped position ``t`` along the capsule axis, distance to it, and the axis length."""
    (x0, y0), (x1, y1) = cap.p0, cap.p1
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 < 1e-12:
        t = np.zeros_like(u)
    else:
        t = np.clip(((u - x0) * dx + (v - y0) * dy) / length2, 0.0, 1.0)
    ex = u - (x0 + t * dx)
    ey = v - (y0 + t * dy)
    return t, np.sqrt(ex * ex + ey * ey), math.sqrt(length2)


def radius_profile(t: Array, cap: Capsule) -> Array:
    a = np.clip((0.25 - t) / 0.25, 0.0, 1.0)
    b = np.clip((t - 0.75) / 0.25, 0.0, 1.0)
    return cap.r * (1.0 + cap.flare0 * a * a + cap.flare1 * b * b)


def chord(r: Array | float, d: Array) -> Array:
    """Path length ``2·sqrt(r² − d²)`` through a disc of radius ``r`` at offset ``d``."""
    return 2.0 * np.sqrt(np.maximum(np.asarray(r) ** 2 - d * d, 0.0))


def tube(u: Array, v: Array, cap: Capsule) -> tuple[Array, Array]:
    """Cortical and medullary path lengths through a hollow capsule."""
    t, d, _ = project(u, v, cap)
    r = radius_profile(t, cap)
    outer = chord(r, d)
    inner = chord(r * (1.0 - cap.cortex), d)
    return outer - inner, inner


def solid(u: Array, v: Array, cap: Capsule) -> Array:
    """Path length through a solid capsule."""
    t, d, _ = project(u, v, cap)
    return chord(radius_profile(t, cap), d)


def smoothstep(x: Array) -> Array:
    """0 below −0.5, 1 above 0.5, linear between: a one-pixel anti-aliased edge."""
    return np.clip(x + 0.5, 0.0, 1.0)
