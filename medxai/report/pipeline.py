"""Study → model inputs → explanations → maps at the original geometry → metrics.

The model sees each radiograph squashed to ``S×S`` (:func:`~medxai.data.transforms.to_model_input`
does not keep the aspect ratio), so a map is brought back to the image by a plain bilinear
resize to ``H×W``. Every image is explained alone (a batch of one) by each method.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from medxai import cams
from medxai.cams.presets import MethodSpec, Mode, method_spec
from medxai.cams.targets import class_probability
from medxai.checkpoint import abnormal_index, require_finite
from medxai.data.transforms import to_model_input
from medxai.metrics.geometry import map_at
from medxai.metrics.localisation import COLUMN_TITLES, localisation_row
from medxai.viz.regions import Region, salient_regions

#: Localisation metrics in the report (columns of
#: :func:`~medxai.metrics.localisation.localisation_row`): key → column title.
METRICS: dict[str, str] = {
    key: COLUMN_TITLES[key] for key in ("pointing_game", "relevance_mass", "iou_otsu")
}


#: A map whose maximum is at most this is reported as empty.
EMPTY_MAP = 1e-6


@dataclass
class ImageAnalysis:
    """One radiograph's probability, maps (at its own geometry), regions and metrics."""

    image: Any  # medxai.io.radiograph.Radiograph
    probability: float  # probability of "abnormal"
    explained_class: str
    maps: dict[str, np.ndarray]  # method label → H×W float32 in [0, 1]
    results: dict[str, Any]  # method label → SaliencyResult (batch of one)
    shapes: list[Any]
    regions: list[Region]
    metrics: dict[str, dict[str, float | bool]] | None  # method label → metric → value
    notes: list[str] = field(default_factory=list)  # e.g. an empty map


@dataclass
class StudyAnalysis:
    """Everything computed for one study."""

    images: list[ImageAnalysis]
    methods: list[MethodSpec]
    device: str
    threshold: float

    @property
    def probability(self) -> float:
        """The study probability: the mean of the images' probabilities of abnormal."""
        return float(np.mean([a.probability for a in self.images]))

    @property
    def abnormal(self) -> bool:
        """The decision: abnormal when the study probability is at least the threshold."""
        return self.probability >= self.threshold


#: The report's methods: registry name → label.
REPORT_METHODS = {"cam": "CAM", "pcam±": "PCAM±"}


def method_specs(
    device: torch.device,
    exact: bool,
    channel_budget: int | None,
    batch_size: int,
    input_size: int,
    tolerance: float | None = None,
) -> list[MethodSpec]:
    """CAM and PCAM± as :mod:`medxai.cams.presets` resolves the mode on ``device``
    (PCAM± exact on a GPU or with ``exact``, else in fast mode)."""
    mode = Mode("exact" if exact else "auto", channel_budget, tolerance)
    return [
        method_spec(
            key, label, mode=mode, device=device, input_size=input_size, batch_size=batch_size
        )
        for key, label in REPORT_METHODS.items()
    ]


def abnormal_probability(logits: torch.Tensor, class_names: Sequence[str]) -> float:
    """The probability of "abnormal" for one image's logits (sigmoid or softmax).

    The abnormal class is :func:`~medxai.checkpoint.abnormal_index`'s, scored by
    :func:`~medxai.cams.targets.class_probability`.
    """
    logits = logits.float().reshape(1, -1)
    index = abnormal_index(class_names, logits.shape[1])
    return float(class_probability(logits, torch.tensor([index]))[0])


def class_name(class_names: Sequence[str], index: int) -> str:
    """The name of class ``index`` (``"class <i>"`` when unnamed)."""
    return class_names[index] if 0 <= index < len(class_names) else f"class {index}"


def to_original_geometry(saliency: torch.Tensor, height: int, width: int) -> np.ndarray:
    """A ``1×1×S×S`` (or ``S×S``) map at ``H×W`` (:func:`~medxai.metrics.geometry.map_at`),
    clipped to [0, 1], as float32 for drawing."""
    return np.clip(map_at(saliency, height, width), 0.0, 1.0).astype(np.float32)


def localisation(saliency: np.ndarray, mask: np.ndarray) -> dict[str, float | bool]:
    """Every metric of :data:`METRICS` for one map against one mask (a hit is ``True``)."""
    row = localisation_row(saliency, mask, columns=tuple(METRICS))
    return {key: bool(row[key]) if key == "pointing_game" else row[key] for key in METRICS}


def analyse_study(
    images: Sequence[Any],
    classifier: Any,
    annotations: dict[str, list[Any]],
    methods: Sequence[MethodSpec],
    device: torch.device,
    target: str = "abnormal",
    top_regions: int = 3,
    progress: bool = True,
) -> StudyAnalysis:
    """Explain every image with every method and measure the maps against the annotations.

    ``target`` is ``"abnormal"`` (every map shows the evidence for abnormal) or
    ``"predicted"`` (each image's predicted class). Salient regions are taken from the
    last method's map (PCAM±).
    """
    from medxai.io.shapes import annotation_mask

    model = classifier.model
    explainers = {spec.label: cams.create(spec.key, model, **spec.options) for spec in methods}
    bar = tqdm(
        total=len(images) * len(methods),
        file=sys.stderr,
        disable=not progress,
        unit="map",
        dynamic_ncols=True,
    )
    analyses = []
    try:
        for image in images:
            x = to_model_input(image.pixels, classifier.input_size, classifier.mean, classifier.std)
            x = x[None].to(device)
            with torch.no_grad():
                logits = model(x)
            require_finite(logits, classifier.path, f"the model's output for {image.name}")
            probability = abnormal_probability(logits[0], classifier.class_names)
            names = list(classifier.class_names)
            cls = abnormal_index(names, logits.reshape(1, -1).shape[1])
            if target != "abnormal":
                cls = None  # each method explains the predicted class
            maps, results = {}, {}
            for spec in methods:
                bar.set_description(f"{image.name} · {spec.label}")
                result = explainers[spec.label](x, targets=cls)
                require_finite(
                    result.saliency, classifier.path, f"the {spec.label} map of {image.name}"
                )
                results[spec.label] = result
                maps[spec.label] = to_original_geometry(
                    result.saliency[0], image.height, image.width
                )
                bar.update(1)
            explained = class_name(names, int(results[methods[0].label].targets[0]))
            shapes = list(annotations.get(image.name, []))
            metrics = None
            if shapes:
                mask = annotation_mask(shapes, image.height, image.width)
                metrics = {label: localisation(m, mask) for label, m in maps.items()}
            notes = [
                f"{label}: the map is empty (no evidence for '{explained}' found)"
                for label, m in maps.items()
                if float(m.max()) <= EMPTY_MAP
            ]
            regions = salient_regions(maps[methods[-1].label], k=top_regions)
            analyses.append(
                ImageAnalysis(
                    image=image,
                    probability=probability,
                    explained_class=explained,
                    maps=maps,
                    results=results,
                    shapes=shapes,
                    regions=regions,
                    metrics=metrics,
                    notes=notes,
                )
            )
    finally:
        bar.close()
    return StudyAnalysis(
        images=analyses,
        methods=list(methods),
        device=str(device),
        threshold=float(classifier.threshold),
    )
