"""Outlines, scale bar and the report figures."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from medxai.viz.figures import ImagePanels, figure_png, overview_figure, panel_size, zoom_figure
from medxai.viz.outlines import PALETTE, draw_outlines, label_styles
from medxai.viz.regions import salient_regions
from medxai.viz.scalebar import format_mm, nice_scale_length


class Square:
    """A stand-in annotation shape."""

    def __init__(self, label: str, x: float, y: float, size: float) -> None:
        self.label, self.x, self.y, self.size = label, x, y, size

    def outline(self) -> np.ndarray:
        x, y, s = self.x, self.y, self.size
        return np.array([[x, y], [x + s, y], [x + s, y + s], [x, y + s]], float)


def test_labels_differ_in_colour_and_line_style() -> None:
    styles = label_styles(["fragment", "fracture", "cortical irregularity", "fracture"])
    assert list(styles) == ["cortical irregularity", "fracture", "fragment"]
    assert len({s.color for s in styles.values()}) == 3
    assert len({str(s.linestyle) for s in styles.values()}) == 3
    assert len({name for _, _, name in PALETTE}) == len(PALETTE)


def test_outlines_are_closed_and_drawn_in_image_coordinates() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    shape = Square("fracture", 2, 3, 4)
    draw_outlines(ax, [shape], label_styles(["fracture"]))
    (line,) = ax.lines
    xy = line.get_xydata()
    assert len(xy) == 5 and np.array_equal(xy[0], xy[-1])
    assert xy[:, 0].min() == 2 and xy[:, 1].max() == 7


@pytest.mark.parametrize(
    ("width_px", "spacing", "expected"),
    [(500, 0.1, 10), (500, 0.2, 20), (100, 0.1, 2), (2000, 0.15, 50), (10, 0.01, 0.5)],
)
def test_scale_bar_length(width_px, spacing, expected) -> None:
    assert nice_scale_length(width_px, spacing) == expected
    assert nice_scale_length(width_px, spacing) <= max(width_px * spacing * 0.25, 0.5)


def test_scale_bar_text() -> None:
    assert format_mm(10) == "10 mm" and format_mm(0.5) == "0.5 mm" and format_mm(50) == "5 cm"


def test_panels_keep_the_aspect_ratio() -> None:
    for h, w in [(300, 200), (200, 300), (2000, 100)]:
        pw, ph = panel_size(h, w, 3)
        assert ph / pw == pytest.approx(h / w)


def test_figures_render_with_outlines_regions_and_scale_bar() -> None:
    h, w = 90, 60
    rows, cols = np.mgrid[0:h, 0:w]
    image = (cols / w).astype(np.float32)
    pcam = np.exp(-(((rows - 40) / 5.0) ** 2 + ((cols - 30) / 5.0) ** 2)).astype(np.float32)
    cam = np.clip(pcam * 2, 0, 1)
    shapes = [Square("fracture", 25, 35, 10), Square("fragment$<b>", 5, 5, 8)]
    panels = ImagePanels(
        name="image$1.png",
        image=image,
        maps={"CAM": cam, "PCAM±": pcam},
        shapes=shapes,
        styles=label_styles(s.label for s in shapes),
        regions=salient_regions(pcam, k=2),
        spacing_mm=(0.2, 0.2),
        caption="abnormal — 0.83 (83%)",
    )
    overview = overview_figure(panels)
    assert len([ax for ax in overview.axes if ax.images]) == 3
    zoom = zoom_figure(panels)
    assert zoom is not None
    for fig in (overview, zoom):
        with Image.open(io.BytesIO(figure_png(fig))) as png:
            assert png.width > 200 and png.info.get("Software") == "medxai"
    panels.regions = []
    assert zoom_figure(panels) is None


def test_region_corner_marks_sit_on_the_box_corners() -> None:
    from medxai.viz.figures import corner_marks

    marks = corner_marks((10, 20, 50, 60))  # rows 10–50, cols 20–60
    corners = {tuple(mark[1]) for mark in marks}
    assert corners == {(20.0, 10.0), (60.0, 10.0), (20.0, 50.0), (60.0, 50.0)}
    for mark in marks:
        assert np.all((mark[:, 0] >= 20) & (mark[:, 0] <= 60))
        assert np.all((mark[:, 1] >= 10) & (mark[:, 1] <= 50))
        assert np.abs(np.diff(mark, axis=0)).max() == pytest.approx(0.22 * 40)
