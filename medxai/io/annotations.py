"""Annotation files: the native JSON format and CVAT XML 1.1, read into shapes.

Native JSON (pixel coordinates of the original image, see :mod:`medxai.io.shapes` for
the pixel-centre and angle conventions)::

    {"images": {"image1.png": [
      {"shape": "ellipse", "cx": 210, "cy": 340, "rx": 30, "ry": 18, "angle": 15, "label": "..."},
      {"shape": "polygon", "points": [[10, 10], [40, 12], [30, 50]], "label": "..."},
      {"shape": "box", "x0": 5, "y0": 5, "x1": 60, "y1": 80, "label": "..."}]}}

``angle`` (default 0) and ``label`` (default ``""``) are optional; any other key in a
shape is an error, so a misspelt key never passes unnoticed. Keys besides ``images`` at
the top level are ignored. The format is recognised by content: a file starting with
``{`` is JSON (UTF-8), one starting with ``<`` is CVAT XML (UTF-8 or UTF-16, with or
without a byte-order mark).

Errors name the file and the entry, e.g.
``annotations.json: images['image1.png'][2]: ellipse centre (900, 20) is outside the
512×400 image`` (sizes are written width×height).

Limits
    A file larger than :data:`MAX_ANNOTATION_BYTES` (32 MiB), an image with more than
    :data:`MAX_SHAPES_PER_IMAGE` (10,000) shapes, a polygon with more than
    :data:`MAX_POLYGON_POINTS` (10,000) points, and an image whose shapes span more than
    4,000,000 pixel rows in total (a box or an ellipse its height, a polygon the sum of
    its edges' heights; :mod:`medxai.io.annotation_limits`) are refused with a one-line
    error, before any mask is drawn. The radiologist's
    annotations of a radiograph number in the tens; a shape costs 60 to 200 bytes in
    either format, so a CVAT export of a whole task (tens of thousands of images with a
    few shapes each) stays within a few megabytes, and 32 MiB leaves ten times that.
    10,000 shapes on one image is already more than a figure can show legibly, and a
    polygon traced by hand or by a segmentation tool around a whole bone has at most a
    few thousand points. A mask costs one step per row a shape spans, so 4,000,000 rows
    admit 10,000 shapes 200 pixels tall (or 1,000 as tall as a large radiograph), yet
    refuse thousands of image-sized shapes or a polygon zigzagging across the image
    thousands of times.
    Within these limits reading, validating, rasterising and drawing stay in seconds
    (a mask costs one step per row a shape spans, not one per pixel of its area), so an
    oversized or hostile file is refused at once instead of keeping a report busy for
    minutes. JSON nested deeper than the parser allows (the format needs five levels) is
    refused the same way.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medxai.errors import InputError
from medxai.io.annotation_limits import (
    MAX_ANNOTATION_BYTES,
    MAX_POLYGON_POINTS,
    MAX_SHAPES_PER_IMAGE,
    check_point_count,
    check_rows,
    check_shape_count,
)
from medxai.io.cvat import cut, parse_cvat
from medxai.io.cvat import entry as _entry
from medxai.io.files import open_input
from medxai.io.shapes import Box, Ellipse, Polygon, Shape, annotation_mask, covered_shapes

__all__ = [
    "ANNOTATION_FILE_NAMES",
    "EDGE_TOLERANCE_PX",
    "MAX_ANNOTATION_BYTES",
    "MAX_POLYGON_POINTS",
    "MAX_SHAPES_PER_IMAGE",
    "Annotations",
    "Box",
    "Ellipse",
    "Polygon",
    "Shape",
    "annotation_mask",
    "find_annotation_file",
    "load_annotations",
    "validate_annotations",
]

#: File names looked for in a study folder, in order, when no file is given.
ANNOTATION_FILE_NAMES: tuple[str, ...] = ("annotations.json", "annotations.xml")

#: How far (pixels) a defining point may lie beyond the image edge, to absorb rounding in
#: exports; anything further out is an error.
EDGE_TOLERANCE_PX = 1.0

_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # shape: (required numeric keys, optional keys)
    "ellipse": (("cx", "cy", "rx", "ry"), ("angle", "label")),
    "polygon": ((), ("label",)),
    "box": (("x0", "y0", "x1", "y1"), ("label",)),
}


class Annotations(dict[str, list[Shape]]):
    """Shapes per image name, remembering the file and any image sizes it declares."""

    def __init__(
        self,
        shapes: Mapping[str, list[Shape]],
        source: Path,
        declared_sizes: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        super().__init__(shapes)
        self.source = source
        #: (height, width) per image, as written in the file (CVAT only).
        self.declared_sizes: dict[str, tuple[int, int]] = dict(declared_sizes or {})




def _shown(value: Any) -> str:
    """A JSON value as quoted in an error: scalars as written (cut at 40 characters),
    lists and objects by their kind only (they may be huge or deeply nested)."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return cut(json.dumps(value))


def _fmt(value: float) -> str:
    return f"{value:g}"


def _json_number(source: Path, where: str, item: Mapping[str, Any], key: str) -> float:
    if key not in item:
        raise InputError(source, f"{where}: missing {key!r}")
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(source, f"{where}: {key} must be a number, got {_shown(value)}")
    number = _finite(value)
    if number is None:
        raise InputError(source, f"{where}: {key} must be a finite number")
    return number


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` for anything else (bools, huge integers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        return None
    return number if math.isfinite(number) else None


def _json_shape(source: Path, where: str, item: Any) -> Shape:
    if not isinstance(item, dict):
        raise InputError(source, f"{where}: a shape must be an object")
    kind = item.get("shape")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise InputError(
            source, f"{where}: 'shape' must be one of {', '.join(_FIELDS)}, got {_shown(kind)}"
        )
    required, optional = _FIELDS[kind]
    allowed = {"shape", *required, *optional, *(("points",) if kind == "polygon" else ())}
    unknown = sorted(set(item) - allowed)
    if unknown:
        listed = ", ".join(cut(key) for key in unknown[:5])
        listed += ", ..." if len(unknown) > 5 else ""
        raise InputError(source, f"{where}: {kind} has unknown key(s): {listed}")
    label = item.get("label", "")
    if not isinstance(label, str):
        raise InputError(source, f"{where}: label must be a string")
    values = {key: _json_number(source, where, item, key) for key in required}
    if kind == "ellipse":
        angle = _json_number(source, where, item, "angle") if "angle" in item else 0.0
        return Ellipse(angle=angle, label=label, **values)
    if kind == "box":
        return Box(label=label, **values)
    points = item.get("points")
    if not isinstance(points, list):
        raise InputError(source, f"{where}: 'points' must be a list of [x, y] pairs")
    check_point_count(source, where, len(points))
    pairs = []
    for k, point in enumerate(points):
        pair = (
            tuple(_finite(v) for v in point)
            if isinstance(point, list) and len(point) == 2
            else (None,)
        )
        if None in pair:
            raise InputError(source, f"{where}: points[{k}] must be [x, y] with finite numbers")
        pairs.append(pair)
    return Polygon(points=tuple(pairs), label=label)


def _parse_native(data: bytes, source: Path) -> dict[str, list[Shape]]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(source, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            source, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise InputError(source, "not an annotation file: the JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InputError(source, f"not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("images"), dict):
        raise InputError(source, "expected an object with an 'images' object of image names")
    shapes: dict[str, list[Shape]] = {}
    for name, items in document["images"].items():
        if not isinstance(items, list):
            raise InputError(source, f"{_entry(name)}: expected a list of shapes")
        check_shape_count(source, _entry(name), len(items))
        shapes[name] = [_json_shape(source, _entry(name, k), item) for k, item in enumerate(items)]
    return shapes


def load_annotations(path: str | Path, root: str | Path | None = None) -> Annotations:
    """Read a native JSON or CVAT XML 1.1 annotation file; keys are image names.

    The file is opened under the access rule of :mod:`medxai.io.files` (``root``: the
    folder it must lie in, default its own folder), so a FIFO, a device or a link out of
    the root is refused without being read. Raises :class:`~medxai.errors.InputError`
    naming the file (and the entry) when the file cannot be read or is malformed. Call
    :func:`validate_annotations` to check the shapes against the images.
    """
    source = Path(path)
    if not os.path.lexists(source):
        raise InputError(source, "annotation file not found")
    if source.is_dir():
        raise InputError(source, "is a folder, not an annotation file")
    try:
        with open_input(source, root) as stream:
            data = stream.read(MAX_ANNOTATION_BYTES + 1)
    except OSError as exc:
        raise InputError(source, f"cannot read the annotation file ({exc.strerror})") from None
    if len(data) > MAX_ANNOTATION_BYTES:
        raise InputError(
            source,
            f"the annotation file is larger than {MAX_ANNOTATION_BYTES // 2**20} MiB, "
            "the most medxai reads",
        )
    # The first character, whatever the byte-order mark or encoding (UTF-8 or UTF-16).
    head = data[:256].replace(b"\0", b"").lstrip(b"\xef\xbb\xbf\xfe\xff \t\r\n")[:1]
    if head == b"{":
        annotations = Annotations(_parse_native(data, source), source)
    elif head == b"<":
        shapes, sizes = parse_cvat(data, source)
        annotations = Annotations(shapes, source, sizes)
    elif not head:
        raise InputError(source, "the annotation file is empty")
    else:
        raise InputError(source, "not an annotation file: expected native JSON or CVAT XML 1.1")
    for name, shapes in annotations.items():
        check_rows(source, _entry(name), shapes)
    return annotations


def _outside(x: float, y: float, height: int, width: int) -> bool:
    t = EDGE_TOLERANCE_PX
    return not (-t <= x <= width + t and -t <= y <= height + t)


def _shape_problem(shape: Shape, height: int, width: int) -> str | None:
    size = f"{width}×{height} image"
    if isinstance(shape, Ellipse):
        if shape.rx <= 0 or shape.ry <= 0:
            return f"ellipse radii ({_fmt(shape.rx)}, {_fmt(shape.ry)}) must be positive"
        if _outside(shape.cx, shape.cy, height, width):
            return f"ellipse centre ({_fmt(shape.cx)}, {_fmt(shape.cy)}) is outside the {size}"
    elif isinstance(shape, Box):
        if shape.x1 <= shape.x0 or shape.y1 <= shape.y0:
            return (
                f"box ({_fmt(shape.x0)}, {_fmt(shape.y0)})–({_fmt(shape.x1)}, {_fmt(shape.y1)}) "
                "must have x0 < x1 and y0 < y1"
            )
        for x, y in ((shape.x0, shape.y0), (shape.x1, shape.y1)):
            if _outside(x, y, height, width):
                return f"box corner ({_fmt(x)}, {_fmt(y)}) is outside the {size}"
    else:
        if len(shape.points) < 3:
            return f"polygon has {len(shape.points)} point(s); at least 3 are needed"
        for k, (x, y) in enumerate(shape.points):
            if _outside(x, y, height, width):
                return f"polygon point {k} ({_fmt(x)}, {_fmt(y)}) is outside the {size}"
    return None


def validate_annotations(
    ann: Mapping[str, list[Shape]], image_sizes: Mapping[str, tuple[int, int]], source: Path
) -> None:
    """Check annotations against the study's images.

    ``image_sizes`` maps image name to ``(height, width)`` (a pixel array's shape).
    Raises :class:`~medxai.errors.InputError` naming ``source`` and the entry for an
    unknown image name that carries shapes (names without shapes, such as the other
    images of a CVAT task, are let through), an image size that differs from the one the
    file declares, a degenerate shape, a defining point (ellipse centre, box corner,
    polygon vertex) more than :data:`EDGE_TOLERANCE_PX` outside the image, or a shape
    covering no pixel.
    """
    declared = getattr(ann, "declared_sizes", {})
    for name, shapes in ann.items():
        if name not in image_sizes:
            if not shapes:  # e.g. a CVAT task's other images: nothing to draw
                continue
            known = sorted(image_sizes)
            listed = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
            raise InputError(
                source, f"{_entry(name)}: no such image in the study (images: {listed or 'none'})"
            )
        height, width = image_sizes[name]
        if name in declared and tuple(declared[name]) != (height, width):
            h, w = declared[name]
            raise InputError(
                source,
                f"{_entry(name)}: the file says the image is {w}×{h} but it is {width}×{height}",
            )
        covered = covered_shapes(shapes, height, width)
        for k, shape in enumerate(shapes):
            problem = _shape_problem(shape, height, width)
            if problem is None and not covered[k]:
                problem = f"{shape.kind} covers no pixel centre of the {width}×{height} image"
            if problem:
                raise InputError(source, f"{_entry(name, k)}: {problem}")


def find_annotation_file(study_folder: str | Path) -> Path | None:
    """The study folder's own annotation file (:data:`ANNOTATION_FILE_NAMES`), if any.

    The first name at which anything exists (a FIFO or a link too: reading it then says
    why it is refused, rather than the study passing for one without annotations).
    """
    folder = Path(study_folder)
    for name in ANNOTATION_FILE_NAMES:
        candidate = folder / name
        if os.path.lexists(candidate):
            return candidate
    return None
