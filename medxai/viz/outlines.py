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
    for shape in shapes:
        style = styles.get(shape.label) or label_styles([shape.label])[shape.label]
        pts = closed(shape.outline())
        if len(pts) == 0:
            continue
        ax.plot(pts[:, 0], pts[:, 1], zorder=4, **style.line_kwargs(linewidth))


def legend_handles(styles: dict[str, LabelStyle], linewidth: float = 1.6) -> list[Line2D]:
    """Legend entries, one per label: ``"<label> (<line style>)"``."""
    handles = []
    for style in styles.values():
        handles.append(
            Line2D(
                [],
                [],
                label=f"{style.label} ({style.dash_name})",
                **style.line_kwargs(linewidth),
            )
        )
    return handles
