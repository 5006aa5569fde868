"""Annotation shapes, masks, and the native JSON / CVAT XML 1.1 readers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from medxai.errors import InputError
from medxai.io.annotations import (
    MAX_ANNOTATION_BYTES,
    MAX_POLYGON_POINTS,
    MAX_SHAPES_PER_IMAGE,
    Box,
    Ellipse,
    Polygon,
    annotation_mask,
    find_annotation_file,
    load_annotations,
    validate_annotations,
)
from medxai.io.shapes import SHAPES_PER_BATCH, covered_shapes, rotated_box

NATIVE = {
    "images": {
        "image1.png": [
            {"shape": "ellipse", "cx": 210, "cy": 340, "rx": 30, "ry": 18, "angle": 15,
             "label": "cortical irregularity"},
            {"shape": "polygon", "points": [[10, 10], [40, 12], [30, 50]], "label": "fragment"},
            {"shape": "box", "x0": 5, "y0": 5, "x1": 60, "y1": 80, "label": "fracture"},
        ],
        "image2.png": [],
    }
}  # fmt: skip

CVAT = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><name>wrist</name></task></meta>
  <image id="0" name="study1/image1.png" width="512" height="400">
    <tag label="abnormal" source="manual"/>
    <ellipse label="cortical irregularity" source="manual" occluded="0"
             cx="210" cy="340" rx="30" ry="18" rotation="345" z_order="0"/>
    <polygon label="fragment" source="manual" occluded="0" points="10,10;40,12;30,50"/>
    <box label="fracture" source="manual" occluded="0" xtl="5" ytl="5" xbr="60" ybr="80"
         rotation="0"/>
  </image>
  <image id="1" name="image2.png" width="512" height="400"/>
</annotations>
"""

SIZES = {"image1.png": (400, 512), "image2.png": (400, 512)}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- masks ------------------------------------------------------------------------------


def test_box_mask_uses_pixel_centres():
    mask = Box(5, 5, 60, 80).mask(100, 100)
    assert mask.sum() == 55 * 75
    assert mask[5, 5] and mask[79, 59]
    assert not mask[4, 5] and not mask[5, 4] and not mask[80, 59] and not mask[79, 60]


def test_axis_aligned_ellipse_hand_counted():
    # Centres at (k + 0.5): offsets ±0.5 in y leave |dx| <= 2·sqrt(0.75) = 1.73, so
    # columns 3..6 on rows 4 and 5; offsets ±1.5 in y are outside ry = 1.
    mask = Ellipse(cx=5, cy=5, rx=2, ry=1).mask(10, 10)
    expected = np.zeros((10, 10), dtype=bool)
    expected[4:6, 3:7] = True
    np.testing.assert_array_equal(mask, expected)


def test_circle_area_close_to_pi_r_squared():
    area = Ellipse(cx=50, cy=50, rx=20, ry=20).mask(100, 100).sum()
    assert abs(area - math.pi * 400) / (math.pi * 400) < 0.02


def test_angle_90_swaps_the_axes():
    wide = Ellipse(cx=50, cy=50, rx=30, ry=5).mask(100, 100)
    turned = Ellipse(cx=50, cy=50, rx=30, ry=5, angle=90).mask(100, 100)
    np.testing.assert_array_equal(turned, wide.T)
    assert np.ptp(np.nonzero(turned)[0]) > np.ptp(np.nonzero(turned)[1])  # taller than wide


def test_angle_45_ccw_points_up_right_on_screen():
    mask = Ellipse(cx=50, cy=50, rx=30, ry=4, angle=45).mask(100, 100)
    # up-right on screen = larger x, smaller y; mask is indexed [row=y, col=x]
    assert mask[50 - 15, 50 + 15] and mask[50 + 15, 50 - 15]
    assert not mask[50 + 15, 50 + 15] and not mask[50 - 15, 50 - 15]
    outline = Ellipse(cx=50, cy=50, rx=30, ry=4, angle=45).outline()
    start = outline[0]  # t = 0 is the end of the rx axis
    assert start[0] > 50 and start[1] < 50


@pytest.mark.parametrize("angle", [0, 20, 45, 90, 135])
def test_ellipse_matches_skimage_draw(angle):
    # skimage works in (row, col) with pixel centres at integers and rotation
    # counter-clockwise on screen: the same ellipse is drawn at (cy - .5, cx - .5).
    from skimage.draw import ellipse

    expected = np.zeros((100, 120), dtype=bool)
    rr, cc = ellipse(40 - 0.5, 60 - 0.5, 9, 33, shape=expected.shape, rotation=math.radians(angle))
    expected[rr, cc] = True
    ours = Ellipse(cx=60, cy=40, rx=33, ry=9, angle=angle).mask(100, 120)
    np.testing.assert_array_equal(ours, expected)


def test_triangle_counts_centres_on_the_edge():
    # centres (j + .5, i + .5) with x + y <= 10  <=>  i + j <= 9: 55 pixels
    mask = Polygon(((0, 0), (10, 0), (0, 10))).mask(20, 20)
    assert mask.sum() == 55


def _reference_polygon_mask(points, height, width):
    """Pixel by pixel: even-odd ray casting, plus centres lying on an edge."""
    pts = np.asarray(points, dtype=float)
    mask = np.zeros((height, width), dtype=bool)
    for i in range(height):
        for j in range(width):
            px, py = j + 0.5, i + 0.5
            odd, edge = False, False
            for (xa, ya), (xb, yb) in zip(pts, np.roll(pts, -1, axis=0)):
                if (ya > py) != (yb > py) and px < xa + (py - ya) * (xb - xa) / (yb - ya):
                    odd = not odd
                cross = (px - xa) * (yb - ya) - (py - ya) * (xb - xa)
                dot = (px - xa) * (xb - xa) + (py - ya) * (yb - ya)
                length2 = (xb - xa) ** 2 + (yb - ya) ** 2
                if length2 == 0:  # a repeated vertex
                    edge |= (px, py) == (xa, ya)
                else:
                    edge |= abs(cross) < 1e-9 and 0 <= dot <= length2
            mask[i, j] = odd or edge
    return mask


@pytest.mark.parametrize("seed", range(6))
def test_polygon_mask_matches_a_pixel_by_pixel_reference(seed):
    rng = np.random.default_rng(seed)
    # vertices on the half-pixel grid so that edges and vertices hit pixel centres
    points = tuple(map(tuple, rng.integers(-2, 26, size=(int(rng.integers(3, 9)), 2)) / 2))
    ours = Polygon(points).mask(12, 11)
    np.testing.assert_array_equal(ours, _reference_polygon_mask(points, 12, 11))


def test_polygon_through_box_corners_equals_box():
    box = Box(3.2, 4.7, 17.5, 12.0)
    polygon = Polygon(tuple(map(tuple, box.outline()[:4])))
    np.testing.assert_array_equal(polygon.mask(20, 25), box.mask(20, 25))


def test_masks_are_clipped_to_the_image():
    mask = Box(-10, -10, 5, 5).mask(8, 8)
    assert mask.shape == (8, 8) and mask.sum() == 25


def test_outlines_are_closed_rings():
    for shape in (Ellipse(5, 5, 2, 1), Polygon(((0, 0), (4, 0), (0, 4))), Box(0, 0, 3, 3)):
        ring = shape.outline()
        assert ring.ndim == 2 and ring.shape[1] == 2
        np.testing.assert_allclose(ring[0], ring[-1])


def test_rotated_box_turns_clockwise_on_screen():
    polygon = rotated_box(0, 0, 20, 10, 90)
    np.testing.assert_allclose(polygon.points[0], (15, -5), atol=1e-9)
    np.testing.assert_array_equal(polygon.mask(40, 40), Box(5, -5, 15, 15).mask(40, 40))


def test_annotation_mask_is_the_union():
    shapes = [Box(0, 0, 4, 4), Box(2, 2, 6, 6)]
    assert annotation_mask(shapes, 10, 10).sum() == 16 + 16 - 4
    assert not annotation_mask([], 10, 10).any()


# --- files -------------------------------------------------------------------------------


def test_native_and_cvat_give_identical_masks(tmp_path):
    native = load_annotations(write(tmp_path, "a.json", json.dumps(NATIVE)))
    cvat = load_annotations(write(tmp_path, "a.xml", CVAT))
    assert sorted(native) == sorted(cvat) == ["image1.png", "image2.png"]
    assert [s.label for s in native["image1.png"]] == [s.label for s in cvat["image1.png"]]
    for a, b in zip(native["image1.png"], cvat["image1.png"]):
        np.testing.assert_array_equal(a.mask(400, 512), b.mask(400, 512))
    assert cvat["image1.png"][0].angle == pytest.approx(15)
    validate_annotations(native, SIZES, tmp_path / "a.json")
    validate_annotations(cvat, SIZES, tmp_path / "a.xml")


def test_format_is_detected_by_content(tmp_path):
    ann = load_annotations(write(tmp_path, "annotations.json", CVAT))
    assert isinstance(ann["image1.png"][2], Box)


def test_cvat_rotated_box_becomes_polygon(tmp_path):
    text = CVAT.replace('ybr="80"\n         rotation="0"', 'ybr="80" rotation="30"')
    ann = load_annotations(write(tmp_path, "a.xml", text))
    assert isinstance(ann["image1.png"][2], Polygon)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"images": {"a.png": [', "not valid JSON"),
        ('{"imgs": {}}', "expected an object with an 'images' object"),
        ('{"images": {"a.png": {}}}', "images['a.png']: expected a list of shapes"),
        ('{"images": {"a.png": [{"shape": "circle"}]}}', "images['a.png'][0]: 'shape' must be"),
        (
            '{"images": {"a.png": [{"shape": "box", "x0": 1, "y0": 1, "x1": 5}]}}',
            "images['a.png'][0]: missing 'y1'",
        ),
        (
            '{"images": {"a.png": [{"shape": "ellipse", "cx": 1, "cy": 1, "rx": 2, "ry": 1, '
            '"anlge": 3}]}}',
            "images['a.png'][0]: ellipse has unknown key(s): anlge",
        ),
        (
            '{"images": {"a.png": [{"shape": "box", "x0": "1", "y0": 1, "x1": 5, "y1": 5}]}}',
            'x0 must be a number, got "1"',
        ),
        (
            '{"images": {"a.png": [{"shape": "polygon", "points": [[1, 2], [3]]}]}}',
            "images['a.png'][0]: points[1] must be [x, y]",
        ),
        ("<annotations><image name='a.png'>", "not well-formed XML"),
        ("<root/>", "not a CVAT XML export"),
        (
            '<!DOCTYPE a [<!ENTITY x "xx">]><annotations/>',
            "document type declarations and entities are not allowed",
        ),
        (
            "<annotations><image name='a.png'><box label='x' xtl='1' ytl='1' xbr='2'/>"
            "</image></annotations>",
            "images['a.png'][0]: missing attribute 'ybr'",
        ),
        (
            "<annotations><image name='a.png'><polyline label='x' points='1,1;2,2'/>"
            "</image></annotations>",
            "images['a.png'][0]: CVAT shape <polyline> is not supported",
        ),
        (
            "<annotations><image name='a.png'><polygon label='x' points='1,1;2;3,3'/>"
            "</image></annotations>",
            "images['a.png'][0]: point '2' is not 'x,y'",
        ),
        ("", "the annotation file is empty"),
        ("hello", "not an annotation file"),
    ],
)
def test_malformed_files_name_the_problem(tmp_path, text, expected):
    path = write(tmp_path, "annotations.json", text)
    with pytest.raises(InputError) as info:
        load_annotations(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="annotation file not found"):
        load_annotations(tmp_path / "none.json")


def _native(shapes: list[dict], name: str = "image1.png") -> dict:
    return {"images": {name: shapes}}


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        (
            [
                {"shape": "box", "x0": 1, "y0": 1, "x1": 5, "y1": 5},
                {"shape": "box", "x0": 1, "y0": 1, "x1": 5, "y1": 5},
                {"shape": "ellipse", "cx": 900, "cy": 20, "rx": 5, "ry": 5},
            ],
            "images['image1.png'][2]: ellipse centre (900, 20) is outside the 512×400 image",
        ),
        (
            [{"shape": "box", "x0": 10, "y0": 10, "x1": 600, "y1": 50}],
            "images['image1.png'][0]: box corner (600, 50) is outside the 512×400 image",
        ),
        (
            [{"shape": "box", "x0": 10, "y0": 10, "x1": 5, "y1": 50}],
            "must have x0 < x1 and y0 < y1",
        ),
        (
            [{"shape": "polygon", "points": [[1, 1], [20, 1], [5, 420]]}],
            "images['image1.png'][0]: polygon point 2 (5, 420) is outside the 512×400 image",
        ),
        (
            [{"shape": "polygon", "points": [[1, 1], [20, 1]]}],
            "polygon has 2 point(s); at least 3 are needed",
        ),
        (
            [{"shape": "ellipse", "cx": 10, "cy": 10, "rx": 0, "ry": 3}],
            "ellipse radii (0, 3) must be positive",
        ),
        (
            [{"shape": "ellipse", "cx": 10, "cy": 10, "rx": 0.1, "ry": 0.1}],
            "images['image1.png'][0]: ellipse covers no pixel centre of the 512×400 image",
        ),
    ],
)
def test_validation_names_the_entry(tmp_path, shapes, expected):
    path = write(tmp_path, "annotations.json", json.dumps(_native(shapes)))
    ann = load_annotations(path)
    with pytest.raises(InputError) as info:
        validate_annotations(ann, SIZES, path)
    assert str(info.value) == f"{path}: {expected}" or expected in str(info.value)
    assert str(info.value).startswith(f"{path}: images['image1.png']")


def test_exact_outside_message(tmp_path):
    shapes = [
        {"shape": "box", "x0": 1, "y0": 1, "x1": 5, "y1": 5},
        {"shape": "box", "x0": 1, "y0": 1, "x1": 5, "y1": 5},
        {"shape": "ellipse", "cx": 900, "cy": 20, "rx": 5, "ry": 5},
    ]
    path = write(tmp_path, "annotations.json", json.dumps(_native(shapes)))
    with pytest.raises(InputError) as info:
        validate_annotations(load_annotations(path), SIZES, path)
    assert str(info.value) == (
        f"{path}: images['image1.png'][2]: ellipse centre (900, 20) is outside the 512×400 image"
    )


def test_unknown_image_name(tmp_path):
    box = {"shape": "box", "x0": 1, "y0": 1, "x1": 5, "y1": 5}
    path = write(tmp_path, "annotations.json", json.dumps(_native([box], name="image9.png")))
    with pytest.raises(InputError) as info:
        validate_annotations(load_annotations(path), SIZES, path)
    assert "images['image9.png']: no such image in the study" in str(info.value)
    assert "image1.png" in str(info.value)


def test_unknown_image_without_shapes_is_let_through(tmp_path):
    path = write(tmp_path, "annotations.json", json.dumps(_native([], name="other.png")))
    validate_annotations(load_annotations(path), SIZES, path)


def test_cvat_declared_size_must_match(tmp_path):
    path = write(tmp_path, "a.xml", CVAT)
    sizes = {"image1.png": (400, 500), "image2.png": (400, 512)}
    with pytest.raises(InputError, match=r"says the image is 512×400 but it is 500×400"):
        validate_annotations(load_annotations(path), sizes, path)


def test_edge_tolerance_accepts_rounding(tmp_path):
    shapes = [{"shape": "polygon", "points": [[-0.4, 0], [512.3, 0], [512, 400.2]]}]
    path = write(tmp_path, "annotations.json", json.dumps(_native(shapes)))
    validate_annotations(load_annotations(path), SIZES, path)


def test_find_annotation_file(tmp_path):
    assert find_annotation_file(tmp_path) is None
    path = write(tmp_path, "annotations.json", "{}")
    assert find_annotation_file(tmp_path) == path


# --- hostile and oversized files ----------------------------------------------------------


def _refused(path: Path, expected: str) -> str:
    """Loading (and validating) ``path`` fails with one line naming it and ``expected``."""
    with pytest.raises(InputError) as info:
        validate_annotations(load_annotations(path), SIZES, path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert expected in message
    assert len(message) < 300 + len(str(path))
    return message


def test_deeply_nested_json_is_one_line(tmp_path):
    path = write(tmp_path, "annotations.json", '{"images": ' + "[" * 50_000 + "]" * 50_000 + "}")
    _refused(path, "nested too deeply")


def test_nested_or_huge_values_are_quoted_briefly(tmp_path):
    deep = "[" * 900 + "]" * 900
    text = '{"images": {"image1.png": [{"shape": "box", "x0": %s, "y0": 1, "x1": 5, "y1": 5}]}}'
    _refused(write(tmp_path, "a.json", text % deep), "x0 must be a number, got a list")
    _refused(write(tmp_path, "b.json", text % ("1" + "0" * 400)), "x0 must be a finite number")
    _refused(write(tmp_path, "c.json", text % ("9" * 5000)), "not valid JSON")
    name = "n" * 10_000
    shapes = {name: [{"shape": "box", "x0": 1, "y0": 1, "x1": 5, "y1": 5}]}
    _refused(write(tmp_path, "d.json", json.dumps({"images": shapes})), "no such image")


def test_utf16_without_bom_cannot_define_an_entity(tmp_path):
    xml = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<!DOCTYPE annotations [<!ENTITY e "EXPANDED">]>'
        '<annotations><image id="0" name="image1.png" width="512" height="400">'
        '<box label="&e;" xtl="5" ytl="5" xbr="60" ybr="80"/></image></annotations>'
    )
    for encoding in ("utf-16-le", "utf-16"):  # without, then with a byte-order mark
        path = tmp_path / f"{encoding}.xml"
        path.write_bytes(xml.encode(encoding))
        _refused(path, "document type declarations and entities are not allowed")
        # the same file without its DOCTYPE is an ordinary UTF-16 export
        path.write_bytes(CVAT.replace('encoding="utf-8"', 'encoding="UTF-16"').encode(encoding))
        assert isinstance(load_annotations(path)["image1.png"][2], Box)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>',  # XXE
        '<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',  # billion laughs, shortened
        '<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd">',  # external DTD
    ],
)
def test_doctypes_are_refused_in_any_encoding(tmp_path, doctype):
    xml = f'<?xml version="1.0"?>{doctype}<annotations><version>1.1</version></annotations>'
    for encoding in ("utf-8", "utf-16-le", "utf-16"):
        path = tmp_path / f"{encoding}.xml"
        declared = xml.replace('1.0"?>', f'1.0" encoding="{encoding[:6]}"?>')
        path.write_bytes(declared.encode(encoding))
        _refused(path, "document type declarations and entities are not allowed")


def test_file_size_limit(tmp_path):
    path = tmp_path / "annotations.json"
    with open(path, "wb") as stream:
        stream.write(b'{"images": {}}')
        stream.truncate(MAX_ANNOTATION_BYTES + 1)  # sparse: no 32 MiB written
    _refused(path, f"larger than {MAX_ANNOTATION_BYTES // 2**20} MiB")
    with open(path, "r+b") as stream:
        stream.truncate(MAX_ANNOTATION_BYTES)
    _refused(path, "not valid JSON")  # at the limit it is read (and found to hold NULs)


def _boxes(n: int) -> list[dict]:
    return [
        {"shape": "box", "x0": i % 500, "y0": (i // 500) % 390, "x1": i % 500 + 3,
         "y1": (i // 500) % 390 + 4, "label": f"l{i % 3}"}
        for i in range(n)
    ]  # fmt: skip


def test_shapes_per_image_limit(tmp_path):
    at_limit = write(tmp_path, "a.json", json.dumps(_native(_boxes(MAX_SHAPES_PER_IMAGE))))
    ann = load_annotations(at_limit)
    validate_annotations(ann, SIZES, at_limit)
    mask = annotation_mask(ann["image1.png"], 400, 512)
    # 10,000 3×4 boxes, one per pixel step along 500 columns and 20 rows: the union's area
    expected = np.zeros((400, 512), bool)
    for i in range(MAX_SHAPES_PER_IMAGE):
        x, y = i % 500, (i // 500) % 390
        expected[y : y + 4, x : x + 3] = True
    np.testing.assert_array_equal(mask, expected)
    over = write(tmp_path, "b.json", json.dumps(_native(_boxes(MAX_SHAPES_PER_IMAGE + 1))))
    message = _refused(over, "10,001 shapes; at most 10,000 per image are supported")
    assert "images['image1.png']" in message
    cvat = "".join(
        f'<box label="x" xtl="{b["x0"]}" ytl="{b["y0"]}" xbr="{b["x1"]}" ybr="{b["y1"]}"/>'
        for b in _boxes(MAX_SHAPES_PER_IMAGE + 1)
    )
    xml = f'<annotations><image name="image1.png">{cvat}</image></annotations>'
    _refused(write(tmp_path, "c.xml", xml), "at most 10,000 per image")


def test_polygon_points_limit(tmp_path):
    t = np.linspace(0, 2 * np.pi, MAX_POLYGON_POINTS, endpoint=False)
    ring = np.stack([256 + 150 * np.cos(t), 200 + 150 * np.sin(t)], axis=1).round(2)
    polygon = {"shape": "polygon", "points": ring.tolist()}
    path = write(tmp_path, "a.json", json.dumps(_native([polygon])))
    ann = load_annotations(path)
    validate_annotations(ann, SIZES, path)
    area = annotation_mask(ann["image1.png"], 400, 512).sum()
    assert area == pytest.approx(math.pi * 150**2, rel=2e-3)
    ring = np.concatenate([ring, [[1.0, 1.0]]])
    polygon = {"shape": "polygon", "points": ring.tolist()}
    path = write(tmp_path, "b.json", json.dumps(_native([polygon])))
    _refused(path, "polygon has 10,001 points; at most 10,000 are supported")


def test_batched_masks_equal_shape_by_shape_masks():
    """Many mixed shapes rasterised together give the union of the single-shape masks,
    and each shape's coverage, across several batches."""
    rng = np.random.default_rng(7)
    shapes = []
    for k in range(2 * SHAPES_PER_BATCH + 17):
        x, y = rng.uniform(-10, 90, 2)
        if k % 3 == 0:
            shapes.append(Box(x, y, x + rng.uniform(0, 12), y + rng.uniform(0, 12)))
        elif k % 3 == 1:
            shapes.append(Ellipse(x, y, *rng.uniform(0.05, 9, 2), angle=rng.uniform(0, 360)))
        else:
            shapes.append(Polygon(tuple(map(tuple, rng.uniform(-10, 90, (5, 2)).round(1)))))
    union = annotation_mask(shapes, 70, 80)
    singles = [s.mask(70, 80) for s in shapes]
    np.testing.assert_array_equal(union, np.logical_or.reduce(singles))
    np.testing.assert_array_equal(covered_shapes(shapes, 70, 80), [m.any() for m in singles])


def test_ellipse_mask_is_the_pixelwise_inequality():
    rng = np.random.default_rng(3)
    rows, cols = np.mgrid[:40, :50] + 0.5
    for _ in range(200):
        e = Ellipse(*rng.uniform(-5, 55, 2), *rng.uniform(0.05, 30, 2), rng.uniform(0, 360))
        np.testing.assert_array_equal(e.mask(40, 50), e.contains(cols, rows))
    extreme = (
        Ellipse(5, 5, 1e300, 2),
        Ellipse(5.5, 5.5, 1e-300, 1e-300),
        Ellipse(5, 5, 1e300, 1e300, 33),
    )
    for e in extreme:
        np.testing.assert_array_equal(e.mask(40, 50), e.contains(cols, rows))


# --- through `medxai report`: refused in one line, nothing written; hostile labels drawn ----


REPORT_ARGS = ("--device", "cpu", "--channel-budget", "1", "--batch-size", "16", "--no-progress")


@pytest.fixture(scope="module")
def png_study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    folder = tmp_path_factory.mktemp("annotated") / "study1_positive"
    folder.mkdir()
    pixels = (np.random.default_rng(0).random((40, 52)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(folder / "image1.png")
    return folder


def _report(study: Path, annotations: Path, out: Path, checkpoint: Path, capsys) -> tuple:
    from medxai.cli import main

    capsys.readouterr()
    code = main(["report", str(study), "--checkpoint", str(checkpoint), "--annotations",
                 str(annotations), "--out", str(out), *REPORT_ARGS])  # fmt: skip
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("deep.json", b'{"images": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested too deeply"),
        (
            "utf16.xml",
            ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY e "x">]>'
             '<annotations><image name="image1.png"><box label="&e;" xtl="1" ytl="1" xbr="9"'
             ' ybr="9"/></image></annotations>').encode("utf-16-le"),
            "document type declarations and entities are not allowed",
        ),
        (
            "many.json",
            json.dumps(_native([{"shape": "box", "x0": 1, "y0": 1, "x1": 3, "y1": 3}] * 10_001))
            .encode(),
            "at most 10,000 per image",
        ),
    ],
    ids=["deep-json", "utf16-entity", "too-many-shapes"],
)  # fmt: skip
def test_report_refuses_hostile_annotations_in_one_line(
    png_study_dir, tiny_checkpoint, tmp_path, capsys, name, content, problem
):
    annotations = tmp_path / name
    annotations.write_bytes(content)
    out = tmp_path / "report"
    code, err = _report(png_study_dir, annotations, out, tiny_checkpoint, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(annotations) in lines[0] and problem in lines[0]
    assert "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing half-written


@pytest.mark.slow
def test_report_draws_hostile_labels(png_study_dir, tiny_checkpoint, tmp_path, capsys):
    label = r"$\sqrt{2$ step"
    shapes = [{"shape": "box", "x0": 5, "y0": 5, "x1": 30, "y1": 30, "label": label}]
    annotations = write(tmp_path, "annotations.json", json.dumps(_native(shapes)))
    out = tmp_path / "report"
    code, err = _report(png_study_dir, annotations, out, tiny_checkpoint, capsys)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["images"][0]["metrics"]  # localisation against the box was computed
    assert list((out / "figures").glob("*overview.png"))


def test_rows_limit(tmp_path):
    """Polygons zigzagging top to bottom thousands of times would cost thousands of
    crossings per row, thousands of image-sized shapes thousands of runs per row: refused.
    As many points tracing a circle are fine (see above)."""
    zigzag = [[i * 0.08, 0.0 if i % 2 else 399.0] for i in range(6000)]
    polygon = {"shape": "polygon", "points": zigzag}
    path = write(tmp_path, "a.json", json.dumps(_native([polygon, polygon])))
    message = _refused(path, "pixel rows in total; at most 4,000,000 per image")
    assert message.startswith(f"{path}: images['image1.png']: the shapes span 4,788,000 ")
    # thousands of image-sized ellipses: the same rule
    ellipses = [{"shape": "ellipse", "cx": 256, "cy": 200, "rx": 250, "ry": 250}] * 10_000
    path = write(tmp_path, "b.json", json.dumps(_native(ellipses)))
    _refused(path, "the shapes span 5,000,000 pixel rows in total")
