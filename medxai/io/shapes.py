"""Annotation shapes (ellipse, polygon, box) and their pixel masks and outlines.

Coordinates
    Pixel coordinates of the original image: ``x`` to the right, ``y`` down. The image
    spans ``[0, width] × [0, height]``: pixel ``(row i, column j)`` is the unit square
    ``[j, j + 1) × [i, i + 1)`` and its centre is ``(x, y) = (j + 0.5, i + 0.5)``.

Masks
    A pixel belongs to a shape when its **centre** lies inside the shape or on its edge.
    The same rule holds for every shape and every file format, so an axis-aligned box
    with integer corners covers exactly ``(x1 - x0) × (y1 - y0)`` pixels, and a polygon
    through a box's four corners gives the box's mask. Polygons use the even-odd rule.
    Parts of a shape outside the image are clipped.

Angles
    ``Ellipse.angle`` is in degrees, counter-clockwise **as seen on screen** by the
    viewer (the image drawn with ``y`` down). The ``rx`` axis points along
    ``(cos a, -sin a)`` in image coordinates: at 45° it runs toward larger ``x`` and
    smaller ``y`` (up-right on screen); at 90° ``rx`` is vertical and ``ry`` horizontal.
    CVAT stores ``rotation`` clockwise on screen, so ``angle = -rotation``. The mask is
    the one ``skimage.draw.ellipse(cy - 0.5, cx - 0.5, ry, rx, rotation=radians(angle))``
    draws (skimage puts pixel centres at integer coordinates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Number of points on an ellipse outline (the first point is repeated at the end).
ELLIPSE_OUTLINE_POINTS = 72


def _centre_grid(
    height: int, width: int, x_lo: float, x_hi: float, y_lo: float, y_hi: float
) -> tuple[slice, slice, np.ndarray, np.ndarray]:
    """Pixel-centre coordinates of the pixels whose centres may lie in a bounding box.

    Returns the row and column slices of that window and the broadcastable ``x``
    (1×n) and ``y`` (m×1) centre coordinates inside it.
    """
    j0 = max(0, math.floor(x_lo - 0.5))
    j1 = min(width, math.ceil(x_hi - 0.5) + 1)
    i0 = max(0, math.floor(y_lo - 0.5))
    i1 = min(height, math.ceil(y_hi - 0.5) + 1)
    j1, i1 = max(j0, j1), max(i0, i1)
    xs = (np.arange(j0, j1, dtype=np.float64) + 0.5)[None, :]
    ys = (np.arange(i0, i1, dtype=np.float64) + 0.5)[:, None]
    return slice(i0, i1), slice(j0, j1), xs, ys


def _paint(height: int, width: int, rows: slice, cols: slice, inside: np.ndarray) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[rows, cols] = inside
    return mask


def _check_size(height: int, width: int) -> None:
    if height < 0 or width < 0:
        raise ValueError(f"mask size must be non-negative, got {height}×{width}")


@dataclass(frozen=True)
class Ellipse:
    """An ellipse centred at ``(cx, cy)`` with semi-axes ``rx``, ``ry``.

    ``angle`` turns the ``rx`` axis counter-clockwise on screen, in degrees (see the
    module notes).
    """

    cx: float
    cy: float
    rx: float
    ry: float
    angle: float = 0.0
    label: str = ""

    @property
    def kind(self) -> str:
        return "ellipse"

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors (x, y) of the ``rx`` and ``ry`` axes in image coordinates."""
        a = math.radians(self.angle)
        u = np.array([math.cos(a), -math.sin(a)])
        v = np.array([math.sin(a), math.cos(a)])
        return u, v

    def bounds(self) -> tuple[float, float, float, float]:
        """Tight axis-aligned bounds ``(x_min, y_min, x_max, y_max)``."""
        u, v = self.axes()
        hx = math.hypot(self.rx * u[0], self.ry * v[0])
        hy = math.hypot(self.rx * u[1], self.ry * v[1])
        return self.cx - hx, self.cy - hy, self.cx + hx, self.cy + hy

    def mask(self, height: int, width: int) -> np.ndarray:
        """Pixels whose centres lie inside or on the ellipse."""
        _check_size(height, width)
        x_lo, y_lo, x_hi, y_hi = self.bounds()
        rows, cols, xs, ys = _centre_grid(height, width, x_lo, x_hi, y_lo, y_hi)
        if self.rx <= 0 or self.ry <= 0:
            return np.zeros((height, width), dtype=bool)
        u, v = self.axes()
        dx, dy = xs - self.cx, ys - self.cy
        a = (dx * u[0] + dy * u[1]) / self.rx
        b = (dx * v[0] + dy * v[1]) / self.ry
        return _paint(height, width, rows, cols, a * a + b * b <= 1.0 + 1e-12)

    def outline(self) -> np.ndarray:
        """Closed ring of (x, y) points on the ellipse (first point repeated last)."""
        t = np.linspace(0.0, 2.0 * math.pi, ELLIPSE_OUTLINE_POINTS + 1)
        u, v = self.axes()
        ca, sa = self.rx * np.cos(t), self.ry * np.sin(t)
        x = self.cx + ca * u[0] + sa * v[0]
        y = self.cy + ca * u[1] + sa * v[1]
        ring = np.stack([x, y], axis=1)
        ring[-1] = ring[0]
        return ring


@dataclass(frozen=True)
class Polygon:
    """A polygon through ``points`` (x, y); filled with the even-odd rule."""

    points: tuple[tuple[float, float], ...]
    label: str = ""

    @property
    def kind(self) -> str:
        return "polygon"

    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounds ``(x_min, y_min, x_max, y_max)``."""
        pts = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )

    def mask(self, height: int, width: int) -> np.ndarray:
        """Pixels whose centres lie inside the polygon or on one of its edges.

        Scan lines through the pixel-centre rows: a centre is inside when an odd number
        of edges cross its row to its right (even-odd rule), or when it lies on an edge
        (a crossing, a horizontal edge, or a vertex) within a relative 1e-9.
        """
        _check_size(height, width)
        pts = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        if len(pts) < 3:
            return np.zeros((height, width), dtype=bool)
        x_lo, y_lo, x_hi, y_hi = self.bounds()
        rows, cols, xs, ys = _centre_grid(height, width, x_lo, x_hi, y_lo, y_hi)
        x, y = xs[0], ys[:, 0]
        inside = np.zeros((y.size, x.size), dtype=bool)
        if inside.size == 0:
            return _paint(height, width, rows, cols, inside)
        tol = 1e-9 * max(1.0, abs(x_lo), abs(x_hi), abs(y_lo), abs(y_hi))
        xa, ya = pts[:, 0], pts[:, 1]
        xb, yb = np.roll(xa, -1), np.roll(ya, -1)
        dy = yb - ya
        # Edge crossings of each row (half-open in y, so each vertex counts once).
        straddle = (ya[None, :] > y[:, None]) != (yb[None, :] > y[:, None])
        slope = np.divide(xb - xa, dy, out=np.zeros_like(dy), where=dy != 0)
        crossing = xa[None, :] + (y[:, None] - ya[None, :]) * slope[None, :]
        for r in range(y.size):
            found = np.sort(crossing[r, straddle[r]])
            if found.size == 0:
                continue
            right = found.size - np.searchsorted(found, x, side="right")
            k = np.clip(np.searchsorted(found, x), 1, found.size - 1)
            near = np.minimum(np.abs(x - found[k - 1]), np.abs(x - found[k]))
            if found.size == 1:
                near = np.abs(x - found[0])
            inside[r] = (right % 2 == 1) | (near <= tol)
        # Horizontal edges and vertices lying on a row of centres.
        for e in np.nonzero(dy == 0)[0]:
            on_row = np.abs(y - ya[e]) <= tol
            if on_row.any():
                lo, hi = min(xa[e], xb[e]) - tol, max(xa[e], xb[e]) + tol
                inside[on_row] |= (x >= lo) & (x <= hi)
        i = np.rint(ya - y[0]).astype(np.int64)
        j = np.rint(xa - x[0]).astype(np.int64)
        ok = (i >= 0) & (i < y.size) & (j >= 0) & (j < x.size)
        i, j = i[ok], j[ok]
        hit = (np.abs(y[i] - ya[ok]) <= tol) & (np.abs(x[j] - xa[ok]) <= tol)
        inside[i[hit], j[hit]] = True
        return _paint(height, width, rows, cols, inside)

    def outline(self) -> np.ndarray:
        """Closed ring of the polygon's (x, y) vertices (first vertex repeated last)."""
        pts = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            return pts
        return np.concatenate([pts, pts[:1]], axis=0)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box from ``(x0, y0)`` (top left) to ``(x1, y1)`` (bottom right)."""

    x0: float
    y0: float
    x1: float
    y1: float
    label: str = ""

    @property
    def kind(self) -> str:
        return "box"

    def bounds(self) -> tuple[float, float, float, float]:
        """``(x_min, y_min, x_max, y_max)``."""
        return (
            min(self.x0, self.x1),
            min(self.y0, self.y1),
            max(self.x0, self.x1),
            max(self.y0, self.y1),
        )

    def mask(self, height: int, width: int) -> np.ndarray:
        """Pixels whose centres lie inside or on the box."""
        _check_size(height, width)
        x_lo, y_lo, x_hi, y_hi = self.bounds()
        rows, cols, xs, ys = _centre_grid(height, width, x_lo, x_hi, y_lo, y_hi)
        inside = (xs >= x_lo) & (xs <= x_hi) & (ys >= y_lo) & (ys <= y_hi)
        return _paint(height, width, rows, cols, inside)

    def outline(self) -> np.ndarray:
        """Closed ring of the four corners (x, y), clockwise on screen from top left."""
        x_lo, y_lo, x_hi, y_hi = self.bounds()
        return np.array(
            [[x_lo, y_lo], [x_hi, y_lo], [x_hi, y_hi], [x_lo, y_hi], [x_lo, y_lo]],
            dtype=np.float64,
        )


#: Any annotation shape.
Shape = Ellipse | Polygon | Box


def rotated_box(
    x0: float, y0: float, x1: float, y1: float, rotation_cw: float, label: str = ""
) -> Polygon:
    """The polygon of a box turned ``rotation_cw`` degrees clockwise on screen about its centre."""
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    a = math.radians(rotation_cw)
    c, s = math.cos(a), math.sin(a)
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    # With y down, a clockwise turn on screen is the usual rotation matrix.
    points = tuple(
        (cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in corners
    )
    return Polygon(points=points, label=label)


def annotation_mask(shapes: list[Shape] | tuple[Shape, ...], height: int, width: int) -> np.ndarray:
    """Union of the shapes' masks as a ``height × width`` bool array."""
    _check_size(height, width)
    mask = np.zeros((height, width), dtype=bool)
    for shape in shapes:
        mask |= shape.mask(height, width)
    return mask
