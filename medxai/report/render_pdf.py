"""``report.pdf``: a summary page, then each image's figures, via matplotlib's PDF backend."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from textwrap import wrap
from typing import Any

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from PIL import Image

from medxai.report.pipeline import METRICS
from medxai.report.render_html import format_metric

#: Warnings listed on the first page (the rest are in the HTML and JSON).
MAX_WARNINGS = 12
#: A4 portrait, inches.
PAGE = (8.27, 11.69)


def _metric_rows(summary: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for image in summary["images"]:
        for method, values in (image["metrics"] or {}).items():
            rows.append(
                [
                    image["name"],
                    method,
                    "hit" if values["pointing_game"] else "miss",
                    f"{values['relevance_mass']:.0%}",
                    f"{values['iou_otsu']:.2f}",
                ]
            )
    return rows


def _summary_lines(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(style, text)`` lines of the first page."""
    study, verdict, model = summary["study"], summary["verdict"], summary["model"]
    expl = summary["explanation"]
    lines = [("title", f"Study {study['id']}")]
    if study.get("study_instance_uid"):
        lines.append(("muted", f"StudyInstanceUID {study['study_instance_uid']}"))
    for key, value in (study.get("identifiers") or {}).items():
        lines.append(("text", f"{key}: {value}"))
    lines += [
        ("verdict", verdict["text"]),
        ("muted", f"Study probability = {verdict['rule']} ({verdict['images']} images)."),
        ("head", "Model"),
        ("text", f"{model['checkpoint']}: {model['arch']}, input {model['input_size']} px"),
    ]
    validation = model.get("validation")
    if validation:
        epoch = "" if validation["epoch"] is None else f" (epoch {validation['epoch']})"
        shown = ", ".join(f"{k} {format_metric(v)}" for k, v in validation["metrics"].items())
        lines.append(("text", f"Validation {validation['group'] or ''}{epoch}:"))
        lines += [("muted", chunk) for chunk in wrap(shown, 110)]
    lines.append(("head", "Explanations"))
    lines.append(
        ("text", f"Maps show evidence for '{expl['explained_class']}', on {expl['device']}.")
    )
    for m in expl["methods"]:
        budget = m["settings"].get("channel_budget")
        plural = "s" if budget != 1 else ""
        extra = f" ({budget} channel{plural} per layer)" if budget else ""
        lines.append(("text", f"{m['label']}: {m['mode']}{extra}"))
    lines.append(("muted", f"Colour scale '{expl['colormap']}': dark = none, bright = strongest."))
    warnings = summary["warnings"]
    if warnings:
        lines.append(("head", "Warnings"))
        lines += [("text", f"• {w}") for w in warnings[:MAX_WARNINGS]]
        if len(warnings) > MAX_WARNINGS:
            more = len(warnings) - MAX_WARNINGS
            lines.append(("muted", f"… and {more} more: see report.html or summary.json"))
    roles = [entry["role"] for entry in summary["inputs"]]
    names = {"image": "image file", "checkpoint": "checkpoint", "annotations": "annotation file"}
    counted = ", ".join(
        f"{roles.count(r)} {names.get(r, r)}{'s' if roles.count(r) != 1 else ''}"
        for r in dict.fromkeys(roles)
    )
    lines.append(("muted", f"Inputs ({counted}): paths and SHA-256 checksums in summary.json."))
    return lines


STYLES = {
    "title": {"fontsize": 16, "fontweight": "bold"},
    "verdict": {"fontsize": 18, "fontweight": "bold"},
    "head": {"fontsize": 12, "fontweight": "bold"},
    "text": {"fontsize": 9.5},
    "muted": {"fontsize": 9, "color": "#555555"},
}
SPACING = {"title": 0.04, "verdict": 0.05, "head": 0.04, "text": 0.024, "muted": 0.024}


def summary_page(summary: Mapping[str, Any]) -> Figure:
    """The first page: study, verdict, model, method settings, warnings, localisation table."""
    fig = Figure(figsize=PAGE)
    y = 0.95
    for style, text in _summary_lines(summary):
        y -= SPACING[style]
        fig.text(0.08, y, text[:130], parse_math=False, va="baseline", **STYLES[style])
    rows = _metric_rows(summary)
    y -= 0.05
    fig.text(0.08, y, "Localisation against the annotations", parse_math=False, **STYLES["head"])
    if not rows:
        fig.text(
            0.08, y - 0.03, "No annotations for this study.", parse_math=False, **STYLES["text"]
        )
        return fig
    height = min(0.025 * (len(rows) + 1), y - 0.05)
    ax = fig.add_axes((0.08, y - 0.015 - height, 0.84, height))
    ax.axis("off")
    header = ["Image", "Method", *[title for title, _ in METRICS.values()]]
    table = ax.table(cellText=rows, colLabels=header, loc="upper left", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    for cell in table.get_celld().values():
        cell.get_text().set_parse_math(False)
    return fig


def raster_page(png: bytes, dpi: int) -> Figure:
    """A page showing one rendered figure pixel for pixel (embedded unresampled)."""
    with Image.open(io.BytesIO(png)) as image:
        pixels = np.asarray(image.convert("RGB"))
    h, w = pixels.shape[:2]
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.imshow(pixels, interpolation="none")
    ax.axis("off")
    return fig


def render_pdf(
    summary: Mapping[str, Any], pngs: Sequence[bytes], title: str, dpi: int = 110
) -> bytes:
    """The PDF bytes: the summary page (vector text), then each figure on its own page.

    The figures are the report's PNGs, embedded as they are, so the PDF shows exactly
    the pixels of the HTML report and of the PNG files.
    """
    buffer = io.BytesIO()
    metadata = {
        "Title": f"medxai report — {title}",
        "Creator": "medxai",
        "Producer": "medxai",
        "CreationDate": None,
    }
    with PdfPages(buffer, metadata=metadata) as pdf:
        pdf.savefig(summary_page(summary))
        for png in pngs:
            pdf.savefig(raster_page(png, dpi), dpi=dpi)
    return buffer.getvalue()
