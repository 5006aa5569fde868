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

    A mask is drawn as **runs**: per pixel row, the half-open column ranges of the
    centres inside the shape (:func:`shape_runs`). A box's runs follow from its
    corners, an ellipse's from the two roots of its quadratic on each row (checked
    against the exact inequality at both ends), a polygon's from the sorted edge
    crossings of each row, paired by the even-odd rule. A shape therefore costs one step
    per row it spans (per edge crossing, for a polygon), not one per pixel of its area;
    the shapes of an image are rasterised together, a batch of array operations for
    hundreds of shapes; and the union of thousands of shapes (:func:`annotation_mask`) is
    one running sum over the image.

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

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

#: Number of points on an ellipse outline (the first point is repeated at the end).
ELLIPSE_OUTLINE_POINTS = 72
_TURN = np.linspace(0.0, 2.0 * math.pi, ELLIPSE_OUTLINE_POINTS + 1)
#: ``(cos t, sin t)`` at the outline points of an ellipse.
_CIRCLE = np.stack([np.cos(_TURN), np.sin(_TURN)], axis=1)
#: Shapes rasterised together in one batch of array operations.
SHAPES_PER_BATCH = 256
#: Most runs or polygon edge crossings held in memory at once (8 bytes each, a few arrays).
CROSSINGS_PER_BLOCK = 1_000_000
#: Tolerance of the ellipse inequality (centres on the edge count as inside).
_ELLIPSE_TOL = 1e-12


class Runs(NamedTuple):
    """Pixel runs: row ``rows[k]`` holds columns ``starts[k] <= j < stops[k]`` of shape
    ``owner[k]`` (an index into the shapes rasterised)."""

    rows: np.ndarray
    starts: np.ndarray
    stops: np.ndarray
    owner: np.ndarray


def _runs(rows: Any, starts: Any, stops: Any, owner: Any) -> Runs:
    rows, starts, stops, owner = (
        np.asarray(a, dtype=np.int64) for a in (rows, starts, stops, owner)
    )
    keep = stops > starts
    return Runs(rows[keep], starts[keep], stops[keep], owner[keep])


def _first_centre(v: Any, size: Any) -> np.ndarray:
    """The smallest index ``k`` in ``[0, size]`` whose centre ``k + 0.5 >= v``.

    The candidate from ``ceil`` is corrected by the comparison itself, so the result is
    exactly the one pixel-by-pixel comparison of centres with ``v`` gives.
    """
    v = np.minimum(np.maximum(np.asarray(v, dtype=np.float64), -2.0), np.add(size, 2.0))
    k = np.ceil(v - 0.5)
    k = np.where(k - 0.5 >= v, k - 1.0, k)
    k = np.where(k + 0.5 < v, k + 1.0, k)
    return np.minimum(np.maximum(k, 0.0), size).astype(np.int64)


def _after_last_centre(v: Any, size: Any) -> np.ndarray:
    """One past the largest index ``k`` whose centre ``k + 0.5 <= v``, in ``[0, size]``."""
    v = np.minimum(np.maximum(np.asarray(v, dtype=np.float64), -2.0), np.add(size, 2.0))
    k = np.floor(v - 0.5)
    k = np.where(k + 1.5 <= v, k + 1.0, k)
    k = np.where(k + 0.5 > v, k - 1.0, k)
    return np.minimum(np.maximum(k + 1.0, 0.0), size).astype(np.int64)


def _expand(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items ``i`` with ``count[i]`` consecutive values from ``first[i]``: the item of
    each value and the value."""
    count = np.maximum(count, 0)
    item = np.repeat(np.arange(count.size), count)
    offset = np.arange(item.size) - np.repeat(np.cumsum(count) - count, count)
    return item, first[item] + offset


def _check_size(height: int, width: int) -> None:
    if height < 0 or width < 0:
        raise ValueError(f"mask size must be non-negative, got {height}×{width}")


def _axes(angle: float) -> tuple[float, float, float, float]:
    """``(u_x, u_y, v_x, v_y)``: the ``rx`` and ``ry`` axes of an ellipse turned ``angle``°."""
    a = math.radians(angle)
    return math.cos(a), -math.sin(a), math.sin(a), math.cos(a)


def _in_ellipse(x: Any, y: Any, cx: Any, cy: Any, rx: Any, ry: Any, axes: Any) -> np.ndarray:
    """The ellipse inequality ``a² + b² <= 1`` (within 1e-12) at the points ``(x, y)``."""
    ux, uy, vx, vy = axes
    dx, dy = x - cx, y - cy
    with np.errstate(over="ignore", invalid="ignore"):
        a = (dx * ux + dy * uy) / rx
        b = (dx * vx + dy * vy) / ry
        return a * a + b * b <= 1.0 + _ELLIPSE_TOL


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
        ux, uy, vx, vy = _axes(self.angle)
        return np.array([ux, uy]), np.array([vx, vy])

    def bounds(self) -> tuple[float, float, float, float]:
        """Tight axis-aligned bounds ``(x_min, y_min, x_max, y_max)``."""
        ux, uy, vx, vy = _axes(self.angle)
        hx = math.hypot(self.rx * ux, self.ry * vx)
        hy = math.hypot(self.rx * uy, self.ry * vy)
        return self.cx - hx, self.cy - hy, self.cx + hx, self.cy + hy

    def contains(self, x: Any, y: Any) -> np.ndarray:
        """Whether the points ``(x, y)`` lie inside or on the ellipse (within 1e-12)."""
        return _in_ellipse(x, y, self.cx, self.cy, self.rx, self.ry, _axes(self.angle))

    def runs(self, height: int, width: int) -> Runs:
        """The runs of pixels whose centres lie inside or on the ellipse."""
        return _joined(shape_runs([self], height, width))

    def mask(self, height: int, width: int) -> np.ndarray:
        """Pixels whose centres lie inside or on the ellipse."""
        return paint_runs(height, width, shape_runs([self], height, width))

    def outline(self) -> np.ndarray:
        """Closed ring of (x, y) points on the ellipse (first point repeated last)."""
        ux, uy, vx, vy = _axes(self.angle)
        ca, sa = self.rx * _CIRCLE[:, 0], self.ry * _CIRCLE[:, 1]
        ring = np.empty((_CIRCLE.shape[0], 2))
        ring[:, 0] = self.cx + ca * ux + sa * vx
        ring[:, 1] = self.cy + ca * uy + sa * vy
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

    def runs(self, height: int, width: int) -> Runs:
        """The runs of pixels whose centres lie inside the polygon or on one of its edges."""
        return _joined(shape_runs([self], height, width))

    def mask(self, height: int, width: int) -> np.ndarray:
        """Pixels whose centres lie inside the polygon or on one of its edges."""
        return paint_runs(height, width, shape_runs([self], height, width))

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

    def runs(self, height: int, width: int) -> Runs:
        """The runs of pixels whose centres lie inside or on the box: one per row."""
        return _joined(shape_runs([self], height, width))

    def mask(self, height: int, width: int) -> np.ndarray:
        """Pixels whose centres lie inside or on the box."""
        return paint_runs(height, width, shape_runs([self], height, width))

    def outline(self) -> np.ndarray:
        """Closed ring of the four corners (x, y), clockwise on screen from top left."""
        x_lo, y_lo, x_hi, y_hi = self.bounds()
        return np.array(
            [[x_lo, y_lo], [x_hi, y_lo], [x_hi, y_hi], [x_lo, y_hi], [x_lo, y_lo]],
            dtype=np.float64,
        )


#: Any annotation shape.
Shape = Ellipse | Polygon | Box


def _box_runs(boxes: list[tuple[int, Box]], height: int, width: int) -> Runs:
    """Each box covers the centres between its corners: one run per row."""
    owner = np.array([k for k, _ in boxes], dtype=np.int64)
    bounds = np.array([box.bounds() for _, box in boxes], dtype=np.float64).reshape(-1, 4)
    size = np.array([width, height])
    lo = _first_centre(bounds[:, :2], size)
    hi = _after_last_centre(bounds[:, 2:], size)
    count = np.where(hi[:, 0] > lo[:, 0], hi[:, 1] - lo[:, 1], 0)
    item, rows = _expand(lo[:, 1], count)
    return _runs(rows, lo[item, 0], hi[item, 0], owner[item])


def _ellipse_runs(ellipses: list[tuple[int, Ellipse]], height: int, width: int) -> Runs:
    """On the row of centres ``y``, the ellipse inequality is quadratic in ``x``; its roots
    bound the run, whose ends are then moved pixel by pixel until the inequality holds at
    both ends and fails just outside them (so rounding in the roots never changes a pixel).
    """
    owner = np.array([k for k, _ in ellipses], dtype=np.int64)
    p = np.array(
        [(e.cx, e.cy, e.rx, e.ry, *_axes(e.angle)) for _, e in ellipses], dtype=np.float64
    ).reshape(-1, 8)
    cx, cy, rx, ry = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    ux, uy, vx, vy = p[:, 4], p[:, 5], p[:, 6], p[:, 7]
    ok = (rx > 0) & (ry > 0)
    hy = np.hypot(rx * uy, ry * vy)
    first = np.maximum(_first_centre(cy - hy, height) - 1, 0)
    end = np.minimum(_after_last_centre(cy + hy, height) + 1, height)
    item, rows = _expand(first, np.where(ok, end - first, 0))
    cx, cy, rx, ry = cx[item], cy[item], rx[item], ry[item]
    axes = (ux[item], uy[item], vx[item], vy[item])
    y = rows + 0.5
    with np.errstate(all="ignore"):
        qa, qb = axes[0] / rx, axes[2] / ry
        qc, qd = (y - cy) * (axes[1] / rx), (y - cy) * (axes[3] / ry)
        a2 = qa * qa + qb * qb
        b2 = 2.0 * (qa * qc + qb * qd)
        c2 = qc * qc + qd * qd - (1.0 + _ELLIPSE_TOL)
        root = np.sqrt(np.maximum(b2 * b2 - 4.0 * a2 * c2, 0.0))
        left, right = (-b2 - root) / (2.0 * a2), (-b2 + root) / (2.0 * a2)
    # Too long to bound along x (a2 underflows): whole rows or nothing; too thin: the centre.
    unbounded = a2 == 0
    left = np.where(unbounded, np.where(c2 <= 0, -np.inf, np.inf), left)
    right = np.where(unbounded, np.where(c2 <= 0, np.inf, -np.inf), right)
    left = np.where(np.isnan(left), 0.0, left) + cx
    right = np.where(np.isnan(right), 0.0, right) + cx
    lo = np.ceil(np.minimum(np.maximum(left, -3.0), width + 3.0) - 0.5)
    hi = np.floor(np.minimum(np.maximum(right, -3.0), width + 3.0) - 0.5)

    def inside(k: np.ndarray) -> np.ndarray:
        return _in_ellipse(k + 0.5, y, cx, cy, rx, ry, axes)

    for _ in range(2):  # grow while the centre just outside is inside
        lo = np.where(inside(lo - 1.0), lo - 1.0, lo)
        hi = np.where(inside(hi + 1.0), hi + 1.0, hi)
    for _ in range(2):  # shrink while an end centre is outside
        lo = np.where((lo <= hi) & ~inside(lo), lo + 1.0, lo)
        hi = np.where((lo <= hi) & ~inside(hi), hi - 1.0, hi)
    starts = np.minimum(np.maximum(lo, 0.0), width)
    stops = np.minimum(np.maximum(hi + 1.0, 0.0), width)
    return _runs(rows, starts, stops, owner[item])


def _polygon_runs(polygons: list[tuple[int, Polygon]], height: int, width: int) -> Runs:
    """Each row of centres ``y`` is crossed by the edges that straddle it (half-open in
    ``y``, so each vertex counts once and every row is crossed an even number of times);
    sorted along the row, crossings 1–2, 3–4, ... bound the inside runs (even-odd rule).
    Centres within a relative 1e-9 of a crossing, of a horizontal edge lying on the row,
    or of a vertex count as on the edge. Rows are taken in blocks of at most
    :data:`CROSSINGS_PER_BLOCK` crossings.
    """
    kept = [(k, np.asarray(poly.points, dtype=np.float64).reshape(-1, 2)) for k, poly in polygons]
    kept = [(k, pts) for k, pts in kept if len(pts) >= 3]
    if not kept or height == 0 or width == 0:
        return _runs([], [], [], [])
    sizes = np.array([len(pts) for _, pts in kept])
    pts = np.concatenate([pts for _, pts in kept])
    owner = np.repeat([k for k, _ in kept], sizes)
    extent = np.array([np.abs(p).max() for _, p in kept])
    tol = np.repeat(1e-9 * np.maximum(1.0, extent), sizes)
    xa, ya = pts[:, 0], pts[:, 1]
    following = np.arange(len(pts)) + 1
    following[np.cumsum(sizes) - 1] = np.cumsum(sizes) - sizes  # each ring closes on itself
    xb, yb = xa[following], ya[following]
    dy = yb - ya
    slope = np.divide(xb - xa, dy, out=np.zeros_like(dy), where=dy != 0)
    # Rows whose centre y satisfies min(ya, yb) <= y < max(ya, yb).
    first = _first_centre(np.minimum(ya, yb), height)
    end = _first_centre(np.maximum(ya, yb), height)
    parts = []
    total = int(np.maximum(end - first, 0).sum())
    blocks = max(1, -(-total // CROSSINGS_PER_BLOCK))
    for top, bottom in itertools.pairwise(np.linspace(0, height, blocks + 1).round()):
        lo = np.clip(first, top, bottom).astype(np.int64)
        edge, rows = _expand(lo, np.clip(end, top, bottom).astype(np.int64) - lo)
        x = xa[edge] + (rows + 0.5 - ya[edge]) * slope[edge]
        order = np.lexsort((x, rows, owner[edge]))
        edge, rows, x = edge[order], rows[order], x[order]
        start, stop = slice(0, None, 2), slice(1, None, 2)
        parts.append(
            _runs(
                rows[start],
                _first_centre(x[start] - tol[edge[start]], width),
                _after_last_centre(x[stop] + tol[edge[stop]], width),
                owner[edge[start]],
            )
        )
    # Horizontal edges lying on a row of centres.
    flat = np.nonzero(dy == 0)[0]
    row = np.rint(ya[flat] - 0.5)
    on = (np.abs(row + 0.5 - ya[flat]) <= tol[flat]) & (row >= 0) & (row < height)
    flat, row = flat[on], row[on]
    parts.append(
        _runs(
            row,
            _first_centre(np.minimum(xa[flat], xb[flat]) - tol[flat], width),
            _after_last_centre(np.maximum(xa[flat], xb[flat]) + tol[flat], width),
            owner[flat],
        )
    )
    # Vertices lying on a centre.
    i, j = np.rint(ya - 0.5), np.rint(xa - 0.5)
    hit = (np.abs(i + 0.5 - ya) <= tol) & (np.abs(j + 0.5 - xa) <= tol)
    hit &= (i >= 0) & (i < height) & (j >= 0) & (j < width)
    parts.append(_runs(i[hit], j[hit], j[hit] + 1, owner[hit]))
    return _joined(parts)


def _joined(parts: Iterable[Runs]) -> Runs:
    parts = list(parts)
    if not parts:
        return _runs([], [], [], [])
    return Runs(*(np.concatenate([getattr(p, f) for p in parts]) for f in Runs._fields))


_RASTERISERS = ((Box, _box_runs), (Ellipse, _ellipse_runs), (Polygon, _polygon_runs))


def shape_runs(shapes: Sequence[Shape], height: int, width: int) -> Iterator[Runs]:
    """The runs of pixels whose centres lie in each shape (``owner`` indexes ``shapes``).

    Shapes are rasterised :data:`SHAPES_PER_BATCH` at a time, each kind by one set of
    array operations (see the module notes); runs outside the image are clipped.
    """
    _check_size(height, width)
    for start in range(0, len(shapes), SHAPES_PER_BATCH):
        batch = list(enumerate(shapes[start : start + SHAPES_PER_BATCH], start))
        for kind, rasterise in _RASTERISERS:
            members = [(k, s) for k, s in batch if isinstance(s, kind)]
            if members:
                yield rasterise(members, height, width)


def paint_runs(height: int, width: int, runs: Iterable[Runs]) -> np.ndarray:
    """The ``height × width`` bool mask of the union of ``runs``.

    Each run adds +1 at its start column and -1 at its stop column of a difference
    array; a pixel is in the union when the running sum along its row is positive.
    """
    _check_size(height, width)
    diff = np.zeros((height, width + 1), dtype=np.int32)
    for part in runs:
        np.add.at(diff, (part.rows, part.starts), 1)
        np.add.at(diff, (part.rows, part.stops), -1)
    return np.cumsum(diff[:, :width], axis=1) > 0


def covered_shapes(shapes: Sequence[Shape], height: int, width: int) -> np.ndarray:
    """Per shape, whether it covers at least one pixel centre of a ``height × width`` image."""
    covered = np.zeros(len(shapes), dtype=bool)
    for part in shape_runs(shapes, height, width):
        covered[part.owner] = True
    return covered


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


def annotation_mask(shapes: Sequence[Shape], height: int, width: int) -> np.ndarray:
    """Union of the shapes' masks as a ``height × width`` bool array."""
    return paint_runs(height, width, shape_runs(shapes, height, width))
