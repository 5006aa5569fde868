"""The size limits of annotation files, checked by both readers before any shape is built.

See "Limits" in :mod:`medxai.io.annotations` for why these values.
"""

from __future__ import annotations

from pathlib import Path

from medxai.errors import InputError

#: Largest annotation file read, in bytes.
MAX_ANNOTATION_BYTES = 32 * 2**20
#: Most shapes one image may carry.
MAX_SHAPES_PER_IMAGE = 10_000
#: Most points one polygon may have.
MAX_POLYGON_POINTS = 10_000


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
