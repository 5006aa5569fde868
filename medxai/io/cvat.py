"""CVAT XML 1.1 ("CVAT for images") annotation exports: ellipses, polygons and boxes.

The export looks like::

    <annotations>
      <version>1.1</version>
      <image id="0" name="image1.png" width="512" height="400">
        <ellipse label="..." cx="210" cy="340" rx="30" ry="18" rotation="345"/>
        <polygon label="..." points="10,10;40,12;30,50"/>
        <box label="..." xtl="5" ytl="5" xbr="60" ybr="80" rotation="0"/>
      </image>
    </annotations>

CVAT's ``rotation`` is in degrees, clockwise on screen; it becomes
``Ellipse.angle = -rotation`` (counter-clockwise on screen). A box with a non-zero
rotation becomes the :class:`~medxai.io.shapes.Polygon` of its four turned corners.
Image names keep only their last path component (CVAT tasks often store
``folder/image1.png``). ``<tag>`` elements label a whole image and are skipped; any
other shape type (points, polyline, mask, cuboid, skeleton) is an error.

The file is parsed by :mod:`defusedxml`, with document type declarations forbidden:
the parser itself refuses a ``<!DOCTYPE`` or an entity declaration, whatever the text
encoding (UTF-8, UTF-16 with or without a byte-order mark, ...), so no entity can be
defined or expanded (no billion laughs) and no external entity or DTD is fetched.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath, PureWindowsPath

import defusedxml
import defusedxml.ElementTree

from medxai.errors import InputError
from medxai.io.annotation_limits import check_point_count, check_shape_count
from medxai.io.shapes import Box, Ellipse, Polygon, Shape, rotated_box

_SKIPPED = {"tag"}
_SUPPORTED = ("ellipse", "polygon", "box")


def cut(text: str, limit: int = 40) -> str:
    """``text`` as quoted in an error message: at most ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def entry(name: str, index: int | None = None) -> str:
    """How an error names an image's entry (or one of its shapes) in an annotation file."""
    shown = cut(name, 80)
    return f"images[{shown!r}]" if index is None else f"images[{shown!r}][{index}]"


def _number(source: Path, where: str, element: ET.Element, attribute: str) -> float:
    raw = element.get(attribute)
    if raw is None:
        raise InputError(source, f"{where}: missing attribute {attribute!r}")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(source, f"{where}: {attribute}={cut(raw)!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(source, f"{where}: {attribute}={cut(raw)!r} is not a finite number")
    return value


#: Largest image side a CVAT file may declare, in pixels.
MAX_DECLARED_SIDE = 1_000_000


def _pixels(source: Path, where: str, element: ET.Element, attribute: str) -> int:
    """An image side declared by CVAT: a whole number of pixels, 1 to 1,000,000."""
    value = _number(source, where, element, attribute)
    if not value.is_integer() or not 1 <= value <= MAX_DECLARED_SIDE:
        raise InputError(
            source,
            f"{where}: {attribute}={cut(element.get(attribute, ''))!r} is not a whole number "
            f"of pixels from 1 to {MAX_DECLARED_SIDE:,}",
        )
    return int(value)


def _points(source: Path, where: str, element: ET.Element) -> tuple[tuple[float, float], ...]:
    raw = element.get("points")
    if raw is None:
        raise InputError(source, f"{where}: missing attribute 'points'")
    check_point_count(source, where, raw.strip(" ;").count(";") + 1)
    points = []
    for pair in filter(None, (p.strip() for p in raw.split(";"))):
        parts = pair.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            x, y = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError(source, f"{where}: point {cut(pair)!r} is not 'x,y'") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(source, f"{where}: point {cut(pair)!r} is not finite")
        points.append((x, y))
    return tuple(points)


def _shape(source: Path, where: str, element: ET.Element) -> Shape:
    label = element.get("label", "")
    if element.tag == "ellipse":
        rotation = (
            _number(source, where, element, "rotation") if "rotation" in element.attrib else 0.0
        )
        return Ellipse(
            cx=_number(source, where, element, "cx"),
            cy=_number(source, where, element, "cy"),
            rx=_number(source, where, element, "rx"),
            ry=_number(source, where, element, "ry"),
            angle=(-rotation) % 360.0 if rotation else 0.0,
            label=label,
        )
    if element.tag == "polygon":
        return Polygon(points=_points(source, where, element), label=label)
    x0, y0 = _number(source, where, element, "xtl"), _number(source, where, element, "ytl")
    x1, y1 = _number(source, where, element, "xbr"), _number(source, where, element, "ybr")
    rotation = _number(source, where, element, "rotation") if "rotation" in element.attrib else 0.0
    if rotation % 360.0:
        return rotated_box(x0, y0, x1, y1, rotation, label=label)
    return Box(x0=x0, y0=y0, x1=x1, y1=y1, label=label)


def _base_name(name: str) -> str:
    return PurePosixPath(PureWindowsPath(name).as_posix()).name


def parse_cvat(
    data: bytes, source: Path
) -> tuple[dict[str, list[Shape]], dict[str, tuple[int, int]]]:
    """Shapes per image name and the (height, width) CVAT declares for each image."""
    try:
        root = defusedxml.ElementTree.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise InputError(
            source, "XML document type declarations and entities are not allowed"
        ) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise InputError(
            source, f"not well-formed XML (line {line}, column {column + 1})"
        ) from None
    except (LookupError, ValueError) as exc:  # an unknown or unsupported declared encoding
        raise InputError(source, f"cannot read the XML: {str(exc)[:100]}") from None
    if root.tag != "annotations":
        raise InputError(source, f"not a CVAT XML export: the root element is <{cut(root.tag)}>")
    version = (root.findtext("version") or "").strip()
    if version and version != "1.1":
        raise InputError(source, f"CVAT XML version {cut(version)} is not supported (1.1 is)")
    images = root.findall("image")
    if not images and root.find("track") is not None:
        raise InputError(
            source, "CVAT for video (tracks) is not supported; export as 'CVAT for images 1.1'"
        )
    shapes: dict[str, list[Shape]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for position, image in enumerate(images):
        raw_name = image.get("name")
        if not raw_name:
            raise InputError(source, f"<image> number {position + 1} has no name")
        name = _base_name(raw_name)
        if name in shapes:
            raise InputError(source, f"{entry(name)}: the image is listed twice")
        if "width" in image.attrib or "height" in image.attrib:
            sizes[name] = (
                _pixels(source, entry(name), image, "height"),
                _pixels(source, entry(name), image, "width"),
            )
        check_shape_count(source, entry(name), sum(c.tag not in _SKIPPED for c in image))
        found: list[Shape] = []
        for child in image:
            if child.tag in _SKIPPED:
                continue
            where = entry(name, len(found))
            if child.tag not in _SUPPORTED:
                raise InputError(
                    source,
                    f"{where}: CVAT shape <{cut(child.tag)}> is not supported "
                    f"(only {', '.join(_SUPPORTED)})",
                )
            found.append(_shape(source, where, child))
        shapes[name] = found
    return shapes, sizes
