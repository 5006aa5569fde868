"""A millimetre scale bar drawn from the pixel spacing."""

from __future__ import annotations

from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

#: Bar lengths offered, in millimetres.
NICE_LENGTHS_MM: tuple[float, ...] = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)


def nice_scale_length(width_px: float, spacing_mm: float, fraction: float = 0.25) -> float:
    """The longest "nice" length in mm that spans at most ``fraction`` of ``width_px``.

    ``spacing_mm`` is the column spacing (mm per pixel). Falls back to the shortest
    offered length when even that is too long.
    """
    if spacing_mm <= 0 or width_px <= 0:
        raise ValueError("spacing and width must be positive")
    budget_mm = width_px * spacing_mm * fraction
    fitting = [mm for mm in NICE_LENGTHS_MM if mm <= budget_mm]
    return fitting[-1] if fitting else NICE_LENGTHS_MM[0]


def format_mm(mm: float) -> str:
    """``10 mm``, ``0.5 mm``, ``5 cm`` for 50 mm and above."""
    if mm >= 50:
        return f"{mm / 10:g} cm"
    return f"{mm:g} mm"


def draw_scale_bar(
    ax: Axes,
    spacing_mm: float,
    width_px: float,
    height_px: float,
    origin: tuple[float, float] = (0.0, 0.0),
) -> float:
    """Draw a labelled bar in the lower-left corner of an image shown in ``ax``.

    ``width_px``/``height_px`` are the extent of the shown region in image pixels and
    ``origin`` its top-left (x, y) in data coordinates. Returns the bar's length in mm.
    """
    mm = nice_scale_length(width_px, spacing_mm)
    length_px = mm / spacing_mm
    x0 = origin[0] + 0.05 * width_px
    y0 = origin[1] + 0.93 * height_px
    thickness = max(height_px * 0.012, 0.5)
    halo = [patheffects.withStroke(linewidth=3, foreground="black")]
    ax.add_patch(
        Rectangle(
            (x0, y0 - thickness),
            length_px,
            thickness,
            facecolor="white",
            edgecolor="black",
            linewidth=0.8,
            zorder=5,
        )
    )
    ax.text(
        x0 + length_px / 2,
        y0 - thickness - 0.015 * height_px,
        format_mm(mm),
        color="white",
        fontsize=7,
        ha="center",
        va="bottom",
        path_effects=halo,
        zorder=6,
    )
    return mm
