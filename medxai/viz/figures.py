"""The report's figures: one overview per image and one zoom sheet per image.

- :func:`overview_figure`: the original radiograph, then one overlay per method, at the
  image's own aspect ratio, with annotation outlines, the salient-region boxes, a
  colourbar and a legend.
- :func:`zoom_figure`: one row per salient region, with the crop of the original and
  of each overlay side by side, and a millimetre scale bar when the spacing is known.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot state);
:func:`figure_png` renders one to PNG bytes. Both are built and rendered on the plain-text
path of :mod:`medxai.viz.text`, so image names and annotation labels are drawn as written.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path
from skimage.transform import resize

from medxai.viz.outlines import LabelStyle, Outlined, draw_joined, joined_outlines, legend_handles
from medxai.viz.overlay import SALIENCY_CMAP, overlay, saliency_colormap
from medxai.viz.regions import Region
from medxai.viz.scalebar import draw_scale_bar
from medxai.viz.text import plain_text, short

#: Longest side, in pixels, of an image as drawn in a figure (larger ones are downsampled).
DISPLAY_MAX_PX = 900
#: Longest side, in pixels, of a zoomed crop as drawn.
ZOOM_MAX_PX = 400
#: Colour of the salient-region corner marks (light grey: neutral in colour and in print).
REGION_COLOR = "#e0e0e0"


@dataclass
class ImagePanels:
    """What the figures of one image show.

    ``maps`` holds one ``H×W`` map in ``[0, 1]`` per method, in display order, already at
    the image's geometry. ``spacing_mm`` is ``(row, col)`` mm per pixel, or ``None``.
    """

    name: str
    image: np.ndarray
    maps: dict[str, np.ndarray]
    shapes: Sequence[Outlined] = ()
    styles: dict[str, LabelStyle] = field(default_factory=dict)
    regions: Sequence[Region] = ()
    spacing_mm: tuple[float, float] | None = None
    caption: str = ""


@plain_text()
def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """Render ``fig`` to PNG bytes (the only metadata is ``Software: medxai``)."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=dpi,
        metadata={"Software": "medxai"},
        pil_kwargs={"compress_level": 3},
    )
    return buffer.getvalue()


def display_array(array: np.ndarray, max_px: int = DISPLAY_MAX_PX) -> np.ndarray:
    """``array`` (``H×W`` or ``H×W×3``) downsampled with anti-aliasing to fit ``max_px``."""
    h, w = array.shape[:2]
    scale = max_px / max(h, w)
    if scale >= 1.0:
        return array
    shape = (max(1, round(h * scale)), max(1, round(w * scale)), *array.shape[2:])
    return resize(array, shape, order=1, anti_aliasing=True, preserve_range=True).astype(np.float32)


def show(ax: Axes, array: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """Show ``array``, which depicts the ``box`` (row0, col0, row1, col1) of the image.

    Drawn in original pixel coordinates, whatever ``array``'s own resolution: pixel
    ``(row i, column j)`` covers ``[j, j + 1) × [i, i + 1)``, the convention of the
    annotation shapes, so their outlines can be drawn unchanged.
    """
    r0, c0, r1, c1 = box
    extent = (c0, c1, r1, r0)
    kwargs = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0} if array.ndim == 2 else {}
    ax.imshow(array, extent=extent, interpolation="bilinear", **kwargs)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def panel_arrays(
    panels: ImagePanels, box: tuple[int, int, int, int], max_px: int
) -> list[np.ndarray]:
    """The ``box`` crop of the image, then of each overlay, at display resolution.

    The crop and the downsampling come first, so overlays of large radiographs are
    computed on a few hundred thousand pixels only.
    """
    r0, c0, r1, c1 = box
    image = display_array(panels.image[r0:r1, c0:c1], max_px)
    maps = [display_array(m[r0:r1, c0:c1], max_px) for m in panels.maps.values()]
    return [image] + [overlay(image, np.clip(m, 0.0, 1.0)) for m in maps]


def panel_size(
    h: int, w: int, n: int, max_width_in: float = 10.5, max_height_in: float = 5.2
) -> tuple[float, float]:
    """Width and height in inches of each of ``n`` side-by-side panels of an ``h×w`` image.

    The panels share ``max_width_in`` (so every figure fits a page at the same text size)
    and are at most ``max_height_in`` tall; the image's aspect ratio is kept.
    """
    width = min(max_width_in / n, max_height_in * w / h)
    return width, width * h / w


def add_colorbar(fig: Figure, axes: Sequence[Axes]) -> None:
    """The saliency colourbar shared by ``axes``, as tall as they are, labelled in words."""
    bar = fig.colorbar(
        ScalarMappable(norm=Normalize(0.0, 1.0), cmap=saliency_colormap(SALIENCY_CMAP)),
        ax=list(axes),
        fraction=0.035,
        pad=0.015,
        aspect=30,
    )
    bar.set_ticks([0.0, 0.5, 1.0])
    bar.set_ticklabels(["0 none", "0.5", "1 strongest"])
    bar.ax.tick_params(labelsize=7)
    bar.set_label("saliency", fontsize=8)


def corner_marks(box: tuple[int, int, int, int], fraction: float = 0.22) -> list[np.ndarray]:
    """The four L-shaped corner marks of ``box`` as (x, y) polylines.

    Corner marks, unlike a dashed rectangle, cannot be mistaken for an annotation
    outline, in colour or in greyscale print.
    """
    r0, c0, r1, c1 = box
    arm = fraction * min(r1 - r0, c1 - c0)
    marks = []
    for x, y, dx, dy in ((c0, r0, 1, 1), (c1, r0, -1, 1), (c0, r1, 1, -1), (c1, r1, -1, -1)):
        marks.append(np.array([[x + dx * arm, y], [x, y], [x, y + dy * arm]], float))
    return marks


#: The legend's symbol for a region: one corner mark.
CORNER_MARKER = Path(
    [(0.6, 1.0), (-1.0, 1.0), (-1.0, -0.6)], [Path.MOVETO, Path.LINETO, Path.LINETO]
)


def label_regions(ax: Axes, regions: Sequence[Region]) -> None:
    """Mark each region's corners and write its rank number."""
    halo = [patheffects.withStroke(linewidth=2.5, foreground="black")]
    line_halo = [
        patheffects.Stroke(linewidth=3.2, foreground="black", alpha=0.7),
        patheffects.Normal(),
    ]
    for region in regions:
        r0, c0 = region.box[:2]
        for mark in corner_marks(region.box):
            ax.plot(
                mark[:, 0],
                mark[:, 1],
                color=REGION_COLOR,
                linewidth=2.0,
                solid_capstyle="butt",
                path_effects=line_halo,
                zorder=5,
            )
        ax.text(
            c0,
            r0,
            f" {region.rank}",
            color="white",
            fontsize=8,
            fontweight="bold",
            va="top",
            ha="left",
            path_effects=halo,
            zorder=6,
        )


@plain_text()
def overview_figure(panels: ImagePanels) -> Figure:
    """Original | one overlay per method, with outlines, region boxes, colourbar, legend."""
    h, w = panels.image.shape
    n = 1 + len(panels.maps)
    pw, ph = panel_size(h, w, n)
    fig = Figure(figsize=(n * pw + 0.9, ph + 1.3), layout="constrained")
    grid = fig.add_gridspec(1, n)
    axes = []
    titles = ["Original", *panels.maps]
    arrays = panel_arrays(panels, (0, 0, h, w), DISPLAY_MAX_PX)
    outlines = joined_outlines(panels.shapes)
    for i, (title, array) in enumerate(zip(titles, arrays)):
        ax = fig.add_subplot(grid[0, i])
        axes.append(ax)
        show(ax, array, (0, 0, h, w))
        ax.set_title(short(title), fontsize=10)
        draw_joined(ax, outlines, panels.styles)
        if i > 0:
            label_regions(ax, panels.regions)
        if panels.spacing_mm is not None:
            draw_scale_bar(ax, panels.spacing_mm[1], w, h)
    add_colorbar(fig, axes)
    fig.suptitle(
        short(panels.name, 80) + (f" — {panels.caption}" if panels.caption else ""),
        fontsize=11,
    )
    add_legend(fig, panels, with_regions=bool(panels.regions))
    return fig


def add_legend(fig: Figure, panels: ImagePanels, with_regions: bool) -> None:
    """Annotation labels (colour + line style) and, if shown, the region boxes."""
    handles = legend_handles(panels.styles) if panels.shapes else []
    if with_regions:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=CORNER_MARKER,
                markersize=11,
                markerfacecolor="none",
                markeredgecolor="#505050",
                markeredgewidth=1.8,
                label="salient region (corner marks, numbered; zoomed below)",
            )
        )
    if not handles:
        return
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 3),
        fontsize=8,
        frameon=False,
        facecolor="white",
    )


@plain_text()
def zoom_figure(panels: ImagePanels) -> Figure | None:
    """One row per salient region: original | overlays, cropped; ``None`` if no region."""
    if not panels.regions:
        return None
    n = 1 + len(panels.maps)
    rows = len(panels.regions)
    fig = Figure(figsize=(n * 2.6 + 0.9, rows * 2.6 + 1.1), layout="constrained")
    grid = fig.add_gridspec(rows, n)
    axes = []
    titles = ["Original", *panels.maps]
    outlines = joined_outlines(panels.shapes)
    for row, region in enumerate(panels.regions):
        r0, c0, r1, c1 = region.box
        arrays = panel_arrays(panels, region.box, ZOOM_MAX_PX)
        for col, (title, array) in enumerate(zip(titles, arrays)):
            ax = fig.add_subplot(grid[row, col])
            axes.append(ax)
            show(ax, array, region.box)
            draw_joined(ax, outlines, panels.styles)
            if panels.spacing_mm is not None:
                draw_scale_bar(ax, panels.spacing_mm[1], c1 - c0, r1 - r0, origin=(c0, r0))
            if row == 0:
                ax.set_title(short(title), fontsize=10)
            if col == 0:
                ax.set_ylabel(
                    f"Region {region.rank}\n{region.mass_share:.0%} of saliency", fontsize=8
                )
    add_colorbar(fig, axes)
    fig.suptitle(f"{short(panels.name, 80)} — zoomed salient regions", fontsize=11)
    add_legend(fig, panels, with_regions=False)
    return fig
