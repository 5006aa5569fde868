"""Sampling a study that is ready to render: random draw, then views placed to fit."""

from __future__ import annotations

from dataclasses import replace

from medxai.data.phantoms.config import PhantomConfig
from medxai.data.phantoms.render import annotations_of
from medxai.data.phantoms.spec import StudySpec, draw_study

#: Pixels kept free between a ground-truth ellipse's bounding box and the image border.
MARGIN = 2.0


def _extent(e: dict) -> tuple[float, float, float, float]:
    r = max(e["rx"], e["ry"])
    return e["cx"] - r, e["cy"] - r, e["cx"] + r, e["cy"] + r


def fit_views(spec: StudySpec) -> StudySpec:
    """Shift any view whose fracture ellipses reach outside the image back inside it."""
    views = list(spec.views)
    for i in range(len(views)):
        boxes = [_extent(e) for e in annotations_of(spec, i)]
        if not boxes:
            continue
        x0 = min(b[0] for b in boxes) - MARGIN
        y0 = min(b[1] for b in boxes) - MARGIN
        x1 = max(b[2] for b in boxes) + MARGIN
        y1 = max(b[3] for b in boxes) + MARGIN
        dx = max(0.0, -x0) - max(0.0, x1 - spec.size)
        dy = max(0.0, -y0) - max(0.0, y1 - spec.size)
        if dx or dy:
            sx, sy = views[i].shift
            views[i] = replace(views[i], shift=(sx + dx / spec.size, sy + dy / spec.size))
            spec = replace(spec, views=tuple(views))
    return spec


def sample_study(
    config: PhantomConfig, split: str, index: int, body_part: str, abnormal: bool
) -> StudySpec:
    """Study ``index`` of ``split``: drawn from its own seed, views fitted to the image."""
    return fit_views(draw_study(config, split, index, body_part, abnormal))
