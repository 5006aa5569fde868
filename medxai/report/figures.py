"""The report's figures for each analysed image, as matplotlib figures and PNG files.

Every image panel sits on a dark matte (:func:`add_mattes`): a radiograph's edge stays
visible on the white page even where the image itself is white there, as the collimated
border of a MONOCHROME1 computed radiograph is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Rectangle

from medxai.report.pipeline import ImageAnalysis, StudyAnalysis
from medxai.report.sanity import reference_maps_at
from medxai.report.summary import verdict_text
from medxai.viz.figures import ImagePanels, figure_png, overview_figure, zoom_figure
from medxai.viz.outlines import label_styles


@dataclass
class ImageFigures:
    """One image's figures: ``name → (relative PNG path, figure, PNG bytes)``."""

    items: dict[str, tuple[str, Figure, bytes]]

    def paths(self) -> dict[str, str]:
        """``name → relative PNG path``."""
        return {name: path for name, (path, _, _) in self.items.items()}


#: Colour of the matte around each image panel (near black, as a reading-room viewer's).
MATTE_COLOR = "#16181b"
#: Width of the matte beyond each edge of a panel, in points (half the panel spacing).
MATTE_PT = 2.5


def add_mattes(fig: Figure, width_pt: float = MATTE_PT, color: str = MATTE_COLOR) -> Figure:
    """Put every image panel of ``fig`` on a matte reaching ``width_pt`` beyond its edges.

    The matte is a rectangle in the panel's own axes coordinates, drawn behind it with an
    edge ``2 × width_pt`` wide (half of a stroke lies outside the rectangle), so it
    follows the panel wherever the layout puts it and covers none of the image.
    Colour-bar axes hold no image and get none. A constrained layout's padding grows by
    ``width_pt``, so that mattes neither touch nor leave the figure.
    """
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        pads = engine.get()
        engine.set(
            w_pad=pads["w_pad"] + width_pt / 72.0, h_pad=pads["h_pad"] + width_pt / 72.0
        )
    for ax in fig.axes:
        if ax.images:
            matte = Rectangle(
                (0.0, 0.0),
                1.0,
                1.0,
                transform=ax.transAxes,
                facecolor=color,
                edgecolor=color,
                linewidth=2.0 * width_pt,
                joinstyle="miter",
                zorder=ax.get_zorder() - 0.5,
            )
            fig.add_artist(matte)
    return fig


def slug(name: str, limit: int = 40) -> str:
    """A file-name-safe version of ``name`` (ASCII letters, digits, ``-`` and ``_``)."""
    text = re.sub(r"[^A-Za-z0-9-]+", "_", name).strip("_") or "image"
    return text[:limit]


def panels_for(analysis: ImageAnalysis, threshold: float, styles: dict) -> ImagePanels:
    """The viz description of one analysed image."""
    image = analysis.image
    return ImagePanels(
        name=image.name,
        image=image.pixels,
        maps=analysis.maps,
        shapes=analysis.shapes,
        styles=styles,
        regions=analysis.regions,
        spacing_mm=image.pixel_spacing_mm,
        caption=(
            f"{verdict_text(analysis.probability, threshold)}"
            f" · maps: evidence for '{analysis.explained_class}'"
        ),
    )


def references_figure(analysis: ImageAnalysis) -> Figure | None:
    """The reference maps of each method (:mod:`medxai.report.sanity`) as small overlays:
    the class-agnostic map (every channel weight 1) and the opposite class's map; ``None``
    when no method has them."""
    image = analysis.image
    maps = {}
    for label, result in analysis.results.items():
        references = reference_maps_at(result, image.height, image.width)
        if "class_agnostic" in references:
            maps[f"{label}, class-agnostic"] = references["class_agnostic"]
        if "opposite" in references:
            maps[f"{label}, other class"] = references["opposite"]
    if not maps:
        return None
    panels = ImagePanels(
        name=image.name,
        image=image.pixels,
        maps=maps,
        caption="reference maps: every channel weight 1, and the other class",
    )
    return overview_figure(panels)


def render_figures(analysis: StudyAnalysis, dpi: int = 110) -> list[ImageFigures]:
    """The overview and zoom figures of every image, with their PNG bytes."""
    styles = label_styles(shape.label for a in analysis.images for shape in a.shapes)
    rendered = []
    for index, item in enumerate(analysis.images):
        panels = panels_for(item, analysis.threshold, styles)
        stem = f"figures/{index + 1:02d}_{slug(item.image.name)}"
        figures: dict[str, tuple[str, Figure, bytes]] = {}
        overview = add_mattes(overview_figure(panels))
        figures["overview"] = (f"{stem}_overview.png", overview, figure_png(overview, dpi))
        zoom = zoom_figure(panels)
        if zoom is not None:
            add_mattes(zoom)
            figures["zoom"] = (f"{stem}_zoom.png", zoom, figure_png(zoom, dpi))
        references = references_figure(item)
        if references is not None:
            add_mattes(references)
            figures["references"] = (
                f"{stem}_references.png",
                references,
                figure_png(references, dpi),
            )
        rendered.append(ImageFigures(figures))
    return rendered
