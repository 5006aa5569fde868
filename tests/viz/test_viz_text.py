"""User strings reach matplotlib as plain text: never parsed as mathtext, drawn as written."""

from __future__ import annotations

import io
from html import escape
from pathlib import Path

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from medxai.audit.plots import plot_fracture_zooms
from medxai.audit.samples import AuditImage
from medxai.evaluate.plots import plot_curves
from medxai.io.shapes import Box, Ellipse, Polygon
from medxai.viz.figures import ImagePanels, figure_png, overview_figure, zoom_figure
from medxai.viz.outlines import LEGEND_MAX_LABELS, draw_outlines, label_styles, legend_handles
from medxai.viz.regions import salient_regions
from medxai.viz.text import plain_text

#: Strings that mathtext rejects ($\sqrt{2$), would typeset ($x^2$, $5 … $10) or that
#: carry TeX specials; each must come out of a figure character for character.
HOSTILE = (r"$\sqrt{2$ step", "$x^2$", "costs $5 or $10", r"50% \$ & _^ {}#")


def _panels(name: str = "img $a$ 1.png") -> ImagePanels:
    h, w = 60, 80
    rows, cols = np.mgrid[:h, :w]
    saliency = np.exp(-((rows - 30.0) ** 2 + (cols - 40.0) ** 2) / 120.0)
    shapes = [
        Ellipse(40, 30, 9, 5, 20, label=HOSTILE[0]),
        Box(5, 5, 20, 20, label=HOSTILE[1]),
        Polygon(((50, 40), (70, 45), (60, 55)), label=HOSTILE[2]),
        Box(60, 5, 75, 15, label=HOSTILE[3]),
    ]
    return ImagePanels(
        name=name,
        image=np.linspace(0, 1, h * w, dtype=np.float32).reshape(h, w),
        maps={"CAM $1$": saliency, "PCAM±": saliency},
        shapes=shapes,
        styles=label_styles(s.label for s in shapes),
        regions=salient_regions(saliency),
    )


def _svg_text(fig: Figure) -> str:
    """The figure as SVG with text kept as text, so each string can be searched for."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg")
    return buffer.getvalue()


def _plain_everywhere(fig: Figure) -> None:
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert texts
    assert not any(t.get_parse_math() for t in texts)


def test_report_figures_show_hostile_labels_verbatim() -> None:
    panels = _panels()
    for fig in (overview_figure(panels), zoom_figure(panels)):
        png = figure_png(fig)  # mathtext would raise here ($\sqrt{2$ does not parse)
        with Image.open(io.BytesIO(png)) as image:
            assert image.size[0] > 100
        _plain_everywhere(fig)
        svg = _svg_text(fig)
        for label in HOSTILE:
            assert escape(f"{label} (", quote=False) in svg  # legend: "<label> (<style>)"
        assert escape("img $a$ 1.png", quote=False) in svg
    assert escape("CAM $1$", quote=False) in _svg_text(overview_figure(panels))


def test_figures_stay_plain_after_the_context_ends() -> None:
    """The setting is taken by each text when created, so a later draw (a notebook, the
    PDF) still shows the string as written; the rc context itself does not leak."""
    fig = overview_figure(_panels())
    assert matplotlib.rcParams["text.parse_math"] is True
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # outside plain_text(): must not parse the labels
    _plain_everywhere(fig)


def test_plain_text_covers_every_kind_of_text() -> None:
    with plain_text():
        fig = Figure()
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], label=HOSTILE[0])
        ax.set_title(HOSTILE[1])
        ax.set_xlabel(HOSTILE[2])
        ax.set_xticks([0, 1], [HOSTILE[3], HOSTILE[0]])
        ax.legend()
        fig.suptitle(HOSTILE[0])
        fig.text(0.1, 0.1, HOSTILE[1])
        ax.table(cellText=[[HOSTILE[0]]], colLabels=[HOSTILE[2]])
        svg = _svg_text(fig)
    _plain_everywhere(fig)
    for label in HOSTILE:
        assert escape(label, quote=False) in svg


def test_evaluate_curves_with_hostile_method_names(tmp_path: Path) -> None:
    curve = np.linspace(1.0, 0.0, 11)
    means = {"deletion": {HOSTILE[0]: curve, HOSTILE[1]: curve * 0.5}}
    path = plot_curves(tmp_path / "curves.png", means, title=HOSTILE[2])
    with Image.open(path) as image:
        assert image.format == "PNG"


def test_audit_figure_with_hostile_labels_and_paths(tmp_path: Path) -> None:
    image = AuditImage(
        path=tmp_path / "patient$1" / "study $2$" / "image$x^2$.png",
        study="s",
        body_part="XR_WRIST",
        label=1,
        pixels=np.full((32, 32), 0.5, np.float32),
        x=torch.zeros(3, 32, 32),
        shapes=[Ellipse(16, 16, 5, 3, label=HOSTILE[0])],
    )
    fig = plot_fracture_zooms([image], {HOSTILE[1]: np.ones((1, 8, 8), np.float32)}, [0])
    svg = _svg_text(fig)
    for text in (HOSTILE[1], "patient$1", "image$x^2$.png", f"{HOSTILE[0]} ("):
        assert escape(text, quote=False) in svg
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_outlines_of_a_label_are_one_line() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    shapes = [Box(i, i, i + 2, i + 2, label="a" if i % 2 else "b") for i in range(1000)]
    draw_outlines(ax, shapes, label_styles(["a", "b"]))
    assert len(ax.lines) == 2
    xy = ax.lines[0].get_xydata()
    assert np.isnan(xy[:, 0]).sum() == 499  # 500 closed rings, broken between shapes
    assert len(xy) == 500 * 5 + 499


def test_legend_lists_a_bounded_number_of_labels() -> None:
    labels = [f"label {i:02d} " + "x" * 100 for i in range(LEGEND_MAX_LABELS + 8)]
    handles = legend_handles(label_styles(labels))
    assert len(handles) == LEGEND_MAX_LABELS + 1
    assert handles[-1].get_label() == "… and 8 more labels"
    assert all(len(h.get_label()) < 80 for h in handles)
    assert handles[0].get_label().startswith("label 00 xxx")
