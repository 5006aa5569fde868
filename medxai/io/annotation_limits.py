"""The size limits of annotation files, checked by both readers before any shape is built.

See "Limits" in :mod:`medxai.io.annotations` for why these values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medxai.errors import InputError
from medxai.io.shapes import Polygon, Shape

#: Largest annotation file read, in bytes.
MAX_ANNOTATION_BYTES = 32 * 2**20
#: Most shapes one image may carry.
MAX_SHAPES_PER_IMAGE = 10_000
#: Most points one polygon may have.
MAX_POLYGON_POINTS = 10_000
#: Most pixel rows the shapes of one image may span in total (:func:`rows_spanned`): the
#: steps their masks cost, whatever the image.
MAX_ROWS_PER_IMAGE = 4_000_000


def check_shape_count(source: Path, where: str, count: int) -> None:
    """Refuse an image entry ``where`` that lists more than :data:`MAX_SHAPES_PER_IMAGE`."""
    if count > MAX_SHAPES_PER_IMAGE:
        raise InputError(
            source,
            f"{where}: {count:,} shapes; at most {MAX_SHAPES_PER_IMAGE:,} per image are supported",
        )


def check_point_count(source: Path, where: str, count: int) -> None:
    """Refuse a polygon ``where`` with more than :data:`MAX_POLYGON_POINTS` points."""
    if count > MAX_POLYGON_POINTS:
        raise InputError(
            source,
            f"{where}: polygon has {count:,} points; at most {MAX_POLYGON_POINTS:,} are supported",
        )


def rows_spanned(shape: Shape) -> float:
    """The pixel rows rasterising ``shape`` steps through (before clipping to an image):
    its height for a box or an ellipse, the sum of ``|y1 - y0|`` over a polygon's edges
    (each row an edge crosses is one crossing to sort)."""
    if isinstance(shape, Polygon):
        if len(shape.points) < 2:
            return 0.0
        y = np.asarray(shape.points, dtype=np.float64)[:, 1]
        with np.errstate(over="ignore"):  # an overflow is infinitely many rows: refused
            return float(np.abs(np.diff(y, append=y[:1])).sum())
    _, y_lo, _, y_hi = shape.bounds()
    return y_hi - y_lo


def check_rows(source: Path, where: str, shapes: Sequence[Shape]) -> None:
    """Refuse an image whose shapes span more than :data:`MAX_ROWS_PER_IMAGE` rows in
    total (thousands of image-sized shapes, or a polygon zigzagging across the image)."""
    rows = sum(rows_spanned(shape) for shape in shapes)
    if rows > MAX_ROWS_PER_IMAGE:
        shown = f"{rows:,.0f}" if rows < 1e12 else f"{rows:.3g}"
        raise InputError(
            source,
            f"{where}: the shapes span {shown} pixel rows in total; at most "
            f"{MAX_ROWS_PER_IMAGE:,} per image are supported",
        )
