"""Annotation outlines: one colour *and* one line style per label.

Colours are chosen to stand out against both the grayscale radiograph and the
``inferno`` overlay; line styles keep labels apart when the report is printed in
greyscale. Each outline has a thin dark halo so it stays visible on bright bone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from medxai.viz.text import short


class Outlined(Protocol):
    """What an annotation shape must offer to be drawn."""

    label: str

    def outline(self) -> np.ndarray:  # N×2 array of (x, y) pixel coordinates
        ...


@dataclass(frozen=True)
class LabelStyle:
    """How one annotation label is drawn."""

    label: str
    color: str
    linestyle: str | tuple[float, tuple[float, ...]]
    dash_name: str  # words for the legend of a greyscale print

    def line_kwargs(self, linewidth: float = 1.6) -> dict[str, Any]:
        """Keyword arguments for ``Axes.plot``."""
        return {
            "color": self.color,
            "linestyle": self.linestyle,
            "linewidth": linewidth,
            "path_effects": [
                patheffects.Stroke(linewidth=linewidth + 1.2, foreground="black", alpha=0.7),
                patheffects.Normal(),
            ],
        }


#: (colour, line style, name) in the order labels receive them.
PALETTE: tuple[tuple[str, str | tuple[float, tuple[float, ...]], str], ...] = (
    ("#00e5ff", "-", "solid"),
    ("#76ff03", (0, (6.0, 3.0)), "dashed"),
    ("#ff4fd8", (0, (1.0, 2.0)), "dotted"),
    ("#ffffff", (0, (6.0, 2.5, 1.5, 2.5)), "dash-dot"),
    ("#2979ff", (0, (10.0, 3.0)), "long-dashed"),
    ("#ffea00", (0, (3.0, 1.5, 1.0, 1.5, 1.0, 1.5)), "dash-dot-dot"),
)


def label_styles(labels: Iterable[str]) -> dict[str, LabelStyle]:
    """A style for every distinct label, assigned in sorted order (stable across images)."""
    styles: dict[str, LabelStyle] = {}
    for index, label in enumerate(sorted(set(labels))):
        color, linestyle, name = PALETTE[index % len(PALETTE)]
        styles[label] = LabelStyle(label, color, linestyle, name)
    return styles


def closed(points: np.ndarray) -> np.ndarray:
    """``points`` with the first vertex repeated at the end."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(pts) and not np.array_equal(pts[0], pts[-1]):
        pts = np.vstack([pts, pts[:1]])
    return pts


def draw_outlines(
    ax: Axes,
    shapes: Sequence[Outlined],
    styles: dict[str, LabelStyle],
    linewidth: float = 1.6,
) -> None:
    """Draw every shape's outline on ``ax`` in image pixel coordinates (x right, y down)."""
    draw_joined(ax, joined_outlines(shapes), styles, linewidth)


def joined_outlines(shapes: Sequence[Outlined]) -> dict[str, np.ndarray]:
    """Per label, the closed outlines of its shapes joined into one ``N×2`` polyline,
    broken by a NaN row between shapes (so thousands of shapes cost one line per label
    to draw; compute once per figure, draw on every panel with :func:`draw_joined`)."""
    rings: dict[str, list[np.ndarray]] = {}
    for shape in shapes:
        pts = closed(shape.outline())
        if len(pts):
            rings.setdefault(shape.label, []).extend((pts, _BREAK))
    return {label: np.concatenate(parts[:-1]) for label, parts in rings.items()}


def draw_joined(
    ax: Axes, outlines: dict[str, np.ndarray], styles: dict[str, LabelStyle], linewidth: float = 1.6
) -> None:
    """Draw :func:`joined_outlines` on ``ax``, one line per label in the label's style."""
    for label, joined in outlines.items():
        style = styles.get(label) or label_styles([label])[label]
        ax.plot(joined[:, 0], joined[:, 1], zorder=4, **style.line_kwargs(linewidth))


#: Where a joined outline is broken between two shapes.
_BREAK = np.full((1, 2), np.nan)
#: Most labels listed in a legend; the others are counted in one last entry.
LEGEND_MAX_LABELS = 12
#: Longest label shown in a legend, in characters (longer ones are cut with "…").
LEGEND_LABEL_CHARS = 60


def legend_handles(styles: dict[str, LabelStyle], linewidth: float = 1.6) -> list[Line2D]:
    """Legend entries, one per label: ``"<label> (<line style>)"``.

    At most :data:`LEGEND_MAX_LABELS` labels are listed, each cut to
    :data:`LEGEND_LABEL_CHARS` characters; one more entry counts the labels left out.
    """
    shown = list(styles.values())[:LEGEND_MAX_LABELS]
    handles = [
        Line2D(
            [],
            [],
            label=f"{short(style.label, LEGEND_LABEL_CHARS)} ({style.dash_name})",
            **style.line_kwargs(linewidth),
        )
        for style in shown
    ]
    if len(styles) > len(shown):
        more = len(styles) - len(shown)
        handles.append(
            Line2D([], [], linestyle="none", label=f"… and {more} more label{'s' * (more > 1)}")
        )
    return handles
