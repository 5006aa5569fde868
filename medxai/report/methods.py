"""The report's entry for each saliency method: what it ran with, and whether its maps are
approximate (fast mode or reduced precision), in which case the reader is warned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from medxai.cams.presets import (
    DEFAULT_BUDGET_FIDELITY,
    DEFAULT_CHANNEL_BUDGET,
    approximation_text,
)
from medxai.report.pipeline import StudyAnalysis


def approximation_warnings(methods: Sequence[Mapping[str, Any]]) -> list[str]:
    """One warning per method entry (:func:`method_entry`) whose maps are approximate
    (fast mode or reduced precision).

    Fast mode states how close each map is estimated to be to the exact one (the
    estimate fast mode makes from scored check channels, :mod:`medxai.cams.estimate`),
    and the reader is still told to confirm with ``--exact``.
    """
    out = []
    for method in methods:
        if not method["approximate"]:
            continue
        settings = method["settings"]
        how = approximation_text(settings)
        measured = ""
        if (
            method.get("key") == "pcam±"
            and settings.get("channel_budget") == DEFAULT_CHANNEL_BUDGET
            and settings.get("tolerance") is None
        ):
            measured = f"; at this budget, {DEFAULT_BUDGET_FIDELITY}"
        out.append(
            f"{method['label']} maps are approximate ({how}){measured}"
            f"{_estimate_text(method)}; rerun with --exact before relying on their detail"
        )
    return out


def _estimate_text(method: Mapping[str, Any]) -> str:
    """``, estimated Spearman with the exact map …`` per image, from fast mode's error
    estimate; empty when there is none."""
    parts = []
    for name, estimate in method.get("error_estimates", {}).items():
        if estimate is None:
            parts.append(f"{name}: not estimated")
        else:
            parts.append(
                f"{name}: {estimate['spearman']:.2f}, max abs difference "
                f"{estimate['max_abs']:.2f}"
            )
    if not parts:
        return ""
    return (
        "; estimated Spearman correlation with the exact map (an estimate that tracks the "
        "error, not a bound), " + "; ".join(parts)
    )


def method_entry(spec: Any, analysis: StudyAnalysis) -> dict[str, Any]:
    """A method's name, mode and the settings recorded on its results."""
    first = analysis.images[0].results[spec.label]
    settings = {k: v for k, v in first.settings.items() if k != "target_layers"}
    entry = {
        "key": spec.key,
        "label": spec.label,
        "mode": spec.mode,
        "approximate": bool(first.approximate),
        "settings": settings,
        "target_layers": list(first.settings.get("target_layers", [])),
    }
    if "error_estimate" in first.settings:  # fast mode: one estimate per image
        entry["error_estimates"] = {
            image.image.name: image.results[spec.label].settings["error_estimate"][0]
            for image in analysis.images
        }
    return entry
