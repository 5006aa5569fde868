"""``summary.json``: every number the report shows, plus the inputs' paths and checksums.

The HTML and PDF are rendered from this same dictionary, so what they show and what the
JSON holds cannot drift apart. Nothing in it depends on the time of the run: the same
inputs give the same file.

Paths follow the identifier rule (:mod:`medxai.report.identifiers`): without
``--show-identifiers`` the study is named by a neutral label made from its images'
contents and every path is relative (image files relative to the study folder, the
checkpoint and an outside annotation file by their file name); the absolute paths and the
folder's name appear only with ``--show-identifiers``. Method entries and their
approximation warnings come from :mod:`medxai.report.methods`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medxai import __version__
from medxai.checkpoint import validation_metrics
from medxai.io.files import file_sha256
from medxai.io.study_label import study_folder_label
from medxai.report.identifiers import PathRule, study_identifiers
from medxai.report.inputs import StudyInputs
from medxai.report.methods import approximation_warnings, method_entry
from medxai.report.pipeline import METRICS, ImageAnalysis, StudyAnalysis
from medxai.report.sanity import SANITY_THRESHOLDS, method_sanity, model_evidence
from medxai.viz.overlay import SALIENCY_CMAP

#: How the salient regions are found, in one sentence for the report.
REGION_METHOD = (
    "Connected components of the PCAM± map above its Otsu threshold, ranked by saliency "
    "mass; each zoom is a square centred on the component's peak."
)


def verdict_text(probability: float, threshold: float = 0.5) -> str:
    """``"abnormal — 0.83 (83%)"``: the decision in words, then the probability."""
    decision = "abnormal" if probability >= threshold else "normal"
    return f"{decision} — {probability:.2f} ({probability:.0%})"


def clean(value: Any) -> Any:
    """A JSON-safe copy: numpy scalars to Python, non-finite floats to ``None``, paths to str."""
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str):
        return value
    return str(value)


def image_entry(
    index: int,
    analysis: ImageAnalysis,
    figures: Mapping[str, str],
    threshold: float,
    paths: PathRule,
    class_names: Sequence[str] = (),
) -> dict[str, Any]:
    """One image's numbers, annotations, regions, figures and warnings, and each
    method's sanity evidence (:func:`~medxai.report.sanity.method_sanity`)."""
    image = analysis.image
    return {
        "index": index,
        "name": image.name,
        "source": paths.path(image.source),
        "frame": image.frame,
        "size": {"height": image.height, "width": image.width},
        "pixel_spacing_mm": list(image.pixel_spacing_mm) if image.pixel_spacing_mm else None,
        "probability": analysis.probability,
        "verdict": verdict_text(analysis.probability, threshold),
        "explained_class": analysis.explained_class,
        "annotations": [
            {"label": shape.label, "shape": getattr(shape, "kind", type(shape).__name__.lower())}
            for shape in analysis.shapes
        ],
        "metrics": analysis.metrics,
        "regions": [
            {
                "rank": r.rank,
                "box": {"row0": r.box[0], "col0": r.box[1], "row1": r.box[2], "col1": r.box[3]},
                "peak": {"row": r.peak[0], "col": r.peak[1]},
                "area_px": r.area,
                "peak_value": r.peak_value,
                "mean_value": r.mean_value,
                "mass_share": r.mass_share,
                "size_mm": (r.side * image.pixel_spacing_mm[1] if image.pixel_spacing_mm else None),
            }
            for r in analysis.regions
        ],
        "figures": dict(figures),
        "warnings": [*image.warnings, *analysis.notes],
        "methods": {
            label: method_sanity(result, analysis.explained_class, class_names)
            for label, result in analysis.results.items()
        },
    }


def mean_metrics(analysis: StudyAnalysis) -> dict[str, dict[str, float]] | None:
    """Each metric averaged over the annotated images (hits as a hit rate)."""
    rows = [a.metrics for a in analysis.images if a.metrics]
    if not rows:
        return None
    return {
        spec.label: {
            key: float(np.mean([float(r[spec.label][key]) for r in rows])) for key in METRICS
        }
        for spec in analysis.methods
    }


def input_entries(
    image_sha256: Mapping[Path, str], inputs: StudyInputs, checkpoint: Path, paths: PathRule
) -> list[dict[str, Any]]:
    """Paths (as :class:`PathRule` shows them) and SHA-256 of every file the report read;
    ``image_sha256`` maps each image file to its digest."""
    entries = [
        {"role": "image", "path": paths.path(source), "sha256": digest}
        for source, digest in image_sha256.items()
    ]
    others = [("checkpoint", checkpoint), ("annotations", inputs.annotation_path)]
    for role, path in others:
        if path is not None:
            entries.append({"role": role, "path": paths.path(path), "sha256": file_sha256(path)})
    return entries


def model_entry(classifier: Any, checkpoint: Path) -> dict[str, Any]:
    """The model's identity and its validation metrics from the checkpoint."""
    provenance = dict(classifier.provenance or {})
    metrics = dict(classifier.metrics or {})
    return {
        "checkpoint": checkpoint.name,
        "arch": classifier.arch,
        "input_size": classifier.input_size,
        "mean": list(classifier.mean),
        "std": list(classifier.std),
        "class_names": list(classifier.class_names),
        "threshold": classifier.threshold,
        "metrics": metrics,
        "epoch": provenance.get("epoch"),
        "validation": validation_metrics(metrics, provenance.get("epoch")),
    }


def build_summary(
    inputs: StudyInputs,
    analysis: StudyAnalysis,
    checkpoint: Path,
    figures: Sequence[Mapping[str, str]],
    show_identifiers: bool,
    top_regions: int,
) -> dict[str, Any]:
    """The whole report as one JSON-safe dictionary; paths follow :class:`PathRule`."""
    folder = inputs.folder.resolve()
    image_sha256 = {
        source: file_sha256(source)
        for source in dict.fromkeys(Path(image.source) for image in inputs.images)
    }
    label = folder.name if show_identifiers else study_folder_label(folder)
    paths = PathRule(Path(inputs.folder), label, show_identifiers)
    uids = {image.study_uid for image in inputs.images if image.study_uid}
    threshold = analysis.threshold
    annotation_name = inputs.annotation_path.resolve() if inputs.annotation_path else None
    warnings = list(inputs.warnings)
    warnings += [f"{p.name}: skipped ({reason})" for p, reason in inputs.skipped]
    for a in analysis.images:
        warnings += [f"{a.image.name}: {w}" for w in [*a.image.warnings, *a.notes]]
    if inputs.annotation_path is None:
        warnings.append("no annotation file: the localisation table is empty")
    methods = [method_entry(spec, analysis) for spec in analysis.methods]
    warnings += approximation_warnings(methods)
    model = model_entry(inputs.classifier, checkpoint)
    study: dict[str, Any] = {
        "id": label,
        "study_instance_uid": sorted(uids)[0] if len(uids) == 1 else None,
    }
    if show_identifiers:
        study["folder"] = str(folder)
        study["identifiers"] = study_identifiers(inputs.images)
    summary = {
        "medxai_version": __version__,
        "study": study,
        "verdict": {
            "probability": analysis.probability,
            "decision": "abnormal" if analysis.abnormal else "normal",
            "threshold": threshold,
            "text": verdict_text(analysis.probability, threshold),
            "images": len(analysis.images),
            "rule": "mean of the images' probabilities of abnormal",
            "model_evidence": model_evidence(model["validation"]),
        },
        "model": model,
        "explanation": {
            "device": analysis.device,
            "explained_class": (
                analysis.images[0].explained_class
                if len({a.explained_class for a in analysis.images}) == 1
                else "each image's predicted class"
            ),
            "methods": methods,
            "colormap": SALIENCY_CMAP,
            "regions": {"method": REGION_METHOD, "top_k": top_regions},
            "metrics": dict(METRICS),
            "sanity_thresholds": SANITY_THRESHOLDS,
        },
        "images": [
            image_entry(i, a, figures[i], threshold, paths, inputs.classifier.class_names)
            for i, a in enumerate(analysis.images)
        ],
        "localisation_mean": mean_metrics(analysis),
        "inputs": input_entries(image_sha256, inputs, checkpoint, paths),
        "skipped": [{"path": paths.path(p), "reason": r} for p, r in inputs.skipped],
        "ignored": [
            paths.path(p) for p in inputs.ignored if p.parent.resolve() / p.name != annotation_name
        ],
        "warnings": warnings,
    }
    return paths.text(clean(summary))


def summary_json(summary: Mapping[str, Any]) -> str:
    """The summary as pretty, stable JSON text (strict: no NaN)."""
    return json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
