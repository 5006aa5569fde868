"""Figures of the audit notebooks (matplotlib; each function returns its Figure).

Each is built on the plain-text path of :mod:`medxai.viz.text`: names, labels and paths
are drawn as written, never as mathtext.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from medxai.audit.plaster import CastAudit
from medxai.audit.samples import AuditImage
from medxai.metrics.geometry import map_at
from medxai.viz import draw_outlines, label_styles, overlay
from medxai.viz.text import plain_text

__all__ = [
    "fracture_box",
    "plot_cast_effect",
    "plot_cast_examples",
    "plot_fracture_zooms",
    "plot_subgroup_aurocs",
]

CAST_COLOR = "#00e5ff"


@plain_text()
def plot_subgroup_aurocs(audits: Sequence[CastAudit]) -> Any:
    """AUROC with its 95 % CI per subgroup (x) and model (colour)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    names = [s.name for s in audits[0].subgroups]
    width = 0.8 / max(1, len(audits))
    for k, audit in enumerate(audits):
        xs = np.arange(len(names)) + (k - (len(audits) - 1) / 2) * width
        est = [s.auroc for s in audit.subgroups]
        mean = np.array([e.mean for e in est])
        err = np.array([[e.mean - e.low for e in est], [e.high - e.mean for e in est]])
        ax.bar(xs, mean, width, label=audit.name, alpha=0.8)
        ax.errorbar(xs, mean, yerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=3)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("AUROC (95% CI)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


@plain_text()
def plot_cast_effect(audits: Sequence[CastAudit]) -> Any:
    """Per model: ``p`` with the cast (x) against ``p`` without it (y), images with a cast."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(audits), figsize=(3.3 * len(audits), 3.3), squeeze=False)
    for ax, audit in zip(axes[0], audits):
        for label, colour, name in ((1, "#d62728", "abnormal"), (0, "#1f77b4", "normal")):
            member = audit.has_cast & (audit.labels == label)
            ax.scatter(audit.p[member], audit.p_cf[member], s=14, c=colour, label=name, alpha=0.8)
        ax.plot([0, 1], [0, 1], color="grey", linewidth=1, linestyle=":")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("p(abnormal), with cast")
        ax.set_ylabel("p(abnormal), cast removed")
        drop = audit.verdict.drop
        ax.set_title(f"{audit.name}\nmean drop (abnormal) {drop.mean:+.2f}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


@plain_text()
def plot_cast_examples(
    audit: CastAudit, images: Sequence[AuditImage], n: int = 3, label: int = 1
) -> Any:
    """``n`` images with a cast and the given label: original | cast removed | each map.

    The cast mask is outlined (cyan) on every panel, the fracture ellipses on the maps.
    """
    import matplotlib.pyplot as plt

    picks = [i for i in np.nonzero(audit.has_cast & (audit.labels == label))[0]][:n]
    methods = list(audit.maps)
    cols = 2 + len(methods)
    fig, axes = plt.subplots(len(picks), cols, figsize=(2.1 * cols, 2.2 * len(picks)),
                             squeeze=False)
    for row, i in enumerate(picks):
        image = images[i]
        panels = [("original", image.pixels), ("cast removed", audit.counterfactuals[i])]
        for m in methods:
            full = map_at(_tensor(audit.maps[m][i]), *image.pixels.shape)
            panels.append((m, overlay(image.pixels, full)))
        for col, (title, array) in enumerate(panels):
            ax = axes[row][col]
            h, w = image.pixels.shape
            # pixel (i, j) covers [j, j + 1) × [i, i + 1), the annotation convention
            ax.imshow(array, cmap="gray", vmin=0, vmax=1, extent=(0, w, h, 0))
            if image.cast is not None:
                ax.contour(np.arange(w) + 0.5, np.arange(h) + 0.5, image.cast.astype(float),
                           levels=[0.5], colors=CAST_COLOR, linewidths=0.8)
            if col >= 2 and image.shapes:
                draw_outlines(ax, image.shapes, label_styles(s.label for s in image.shapes))
            if col == 0:
                title = f"{title}\np={audit.p[i]:.2f}"
            elif col == 1:
                title = f"{title}\np={audit.p_cf[i]:.2f}"
            else:
                title = f"{title}\nmass on cast {audit.mass[title][i]:.2f}"
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"{audit.name}: cast outlined in cyan (area {np.nanmean(audit.area):.0%})",
                 fontsize=9)
    fig.tight_layout()
    return fig


def _tensor(array: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.asarray(array))


def fracture_box(
    image: AuditImage, margin: float = 1.0, min_side: int = 20
) -> tuple[int, int, int, int]:
    """A square ``(row0, col0, row1, col1)`` around the image's shapes, ``margin`` of their
    extent added on each side, at least ``min_side`` pixels, inside the image."""
    from medxai.viz.regions import square_box

    h, w = image.pixels.shape
    if not image.shapes:
        return 0, 0, h, w
    bounds = np.array([s.bounds() for s in image.shapes])
    x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
    x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
    side = int(max(min_side, (1 + 2 * margin) * max(x1 - x0, y1 - y0)))
    centre = (int((y0 + y1) / 2), int((x0 + x1) / 2))
    return square_box(centre, side, (h, w))


@plain_text()
def plot_fracture_zooms(
    images: Sequence[AuditImage], maps: dict[str, np.ndarray], picks: Sequence[int]
) -> Any:
    """Rows = images, columns = original then one overlay per method, zoomed on the
    fracture, with the ground-truth ellipses outlined (the layout of the Poly-CAM paper's
    Figure 17)."""
    import matplotlib.pyplot as plt

    from medxai.viz.figures import show

    methods = list(maps)
    cols = 1 + len(methods)
    fig, axes = plt.subplots(len(picks), cols, figsize=(2.4 * cols, 2.5 * len(picks)),
                             squeeze=False)
    for row, i in enumerate(picks):
        image = images[i]
        box = fracture_box(image)
        styles = label_styles(s.label for s in image.shapes)
        panels = [("original", image.pixels)]
        for m in methods:
            full = map_at(_tensor(maps[m][i]), *image.pixels.shape)
            panels.append((m, overlay(image.pixels, full)))
        for col, (title, array) in enumerate(panels):
            ax = axes[row][col]
            show(ax, array, box)
            draw_outlines(ax, image.shapes, styles, linewidth=1.2)
            if row == 0:
                ax.set_title(title, fontsize=10)
            if col == 0:
                ax.set_ylabel(f"{image.path.parent.parent.name}\n{image.path.name}", fontsize=7)
    labels = sorted({s.label for i in picks for s in images[i].shapes})
    if labels:
        from medxai.viz.outlines import legend_handles

        fig.legend(handles=legend_handles(label_styles(labels)), loc="lower center",
                   ncols=min(3, len(labels)), fontsize=7, frameon=False)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
    else:
        fig.tight_layout()
    return fig
