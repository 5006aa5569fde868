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
#: Most pixel rows the polygon edges of one image may span in total (the sum over edges
#: of ``|y1 - y0|``): the number of edge crossings a mask costs, whatever the image.
MAX_POLYGON_ROWS_PER_IMAGE = 4_000_000


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


def check_polygon_rows(source: Path, where: str, shapes: Sequence[Shape]) -> None:
    """Refuse an image whose polygon edges span more than :data:`MAX_POLYGON_ROWS_PER_IMAGE`
    rows in total (a polygon zigzagging across the image thousands of times)."""
    rows = 0.0
    for shape in shapes:
        if isinstance(shape, Polygon) and len(shape.points) > 1:
            y = np.asarray(shape.points, dtype=np.float64)[:, 1]
            rows += float(np.abs(np.diff(y, append=y[:1])).sum())
    if rows > MAX_POLYGON_ROWS_PER_IMAGE:
        raise InputError(
            source,
            f"{where}: the polygon outlines span {rows:,.0f} pixel rows in total; at most "
            f"{MAX_POLYGON_ROWS_PER_IMAGE:,} per image are supported",
        )
