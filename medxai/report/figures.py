"""The report's figures for each analysed image, as matplotlib figures and PNG files."""

from __future__ import annotations

import re
from dataclasses import dataclass

from matplotlib.figure import Figure

from medxai.report.pipeline import ImageAnalysis, StudyAnalysis
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


def render_figures(analysis: StudyAnalysis, dpi: int = 110) -> list[ImageFigures]:
    """The overview and zoom figures of every image, with their PNG bytes."""
    styles = label_styles(shape.label for a in analysis.images for shape in a.shapes)
    rendered = []
    for index, item in enumerate(analysis.images):
        panels = panels_for(item, analysis.threshold, styles)
        stem = f"figures/{index + 1:02d}_{slug(item.image.name)}"
        figures: dict[str, tuple[str, Figure, bytes]] = {}
        overview = overview_figure(panels)
        figures["overview"] = (f"{stem}_overview.png", overview, figure_png(overview, dpi))
        zoom = zoom_figure(panels)
        if zoom is not None:
            figures["zoom"] = (f"{stem}_zoom.png", zoom, figure_png(zoom, dpi))
        rendered.append(ImageFigures(figures))
    return rendered
