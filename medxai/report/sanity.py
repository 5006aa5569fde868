"""The report's sanity evidence: per map, how class-specific it is; per model, whether its
own validation says it learnt anything.

Per image and method (:mod:`medxai.cams.references`):

- ``class_agnostic_similarity``: Spearman ``ρ`` of the map with the same method's map
  with every channel weight 1, which ignores the model's decision;
- ``class_contrast``: Spearman ``ρ`` of the map with the map of the opposite class.

A figure whose reference map the method does not make (e.g. no class-agnostic map for
input attributions; :mod:`medxai.cams.references` lists them) is *not computed*: it is
``null`` in ``summary.json`` and listed in the entry's ``not_computed``, and the report
says "not computed" rather than a number. A computed figure can still be ``null`` for an
image, when a map is empty or constant.

A map is flagged when ``class_agnostic_similarity ≥`` :data:`AGNOSTIC_FLAG` (it shows
where the network's features respond more than why it decides) or ``class_contrast ≥``
:data:`CONTRAST_FLAG` (the two classes' maps rank the pixels alike). docs/benchmarks.md
("Sanity figures") holds the measurements the thresholds come from.

Per model: the checkpoint's stored validation metrics say it is near chance when the
study AUROC (else the image AUROC, :data:`AUROC_KEYS`) is below
:data:`AUROC_NEAR_CHANCE`, or, with no AUROC recorded, the study κ is below
:data:`KAPPA_NEAR_CHANCE`; a checkpoint with no validation metrics is reported as such.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: A map at least this Spearman-similar to its class-agnostic map is flagged.
AGNOSTIC_FLAG = 0.9
#: Below :data:`AGNOSTIC_FLAG` but at least this: the reading says "mixed".
PARTLY_AGNOSTIC = 0.5
#: A map at least this Spearman-correlated with the opposite class's map is flagged.
CONTRAST_FLAG = 0.5
#: The flag thresholds by figure, as ``summary.json`` records them.
SANITY_THRESHOLDS = {"class_agnostic_similarity": AGNOSTIC_FLAG, "class_contrast": CONTRAST_FLAG}
#: Validation AUROC below this: the model is near chance.
AUROC_NEAR_CHANCE = 0.7
#: The validation AUROC read, first found first: study, image, unqualified.
AUROC_KEYS = ("val/study_auroc", "val/image_auroc", "val/auroc")
#: Validation study κ below this (Landis and Koch's "slight" agreement at most) is near
#: chance; read only when no AUROC is recorded.
KAPPA_NEAR_CHANCE = 0.1


def sanity_figures(result: Any) -> dict[str, float | None]:
    """``{"class_agnostic_similarity", "class_contrast"}`` of a batch-of-one
    :class:`~medxai.cams.result.SaliencyResult` (``None`` when not defined)."""
    references = getattr(result, "references", None)
    if references is None:
        return {"class_agnostic_similarity": None, "class_contrast": None}
    return references.figures(0)


def not_computed(result: Any) -> list[str]:
    """The figures of :data:`SANITY_THRESHOLDS` that ``result``'s method does not compute
    (all of them for a result without reference maps)."""
    references = getattr(result, "references", None)
    computed = {} if references is None else references.computed()
    return [name for name in SANITY_THRESHOLDS if not computed.get(name, False)]


def sanity_flags(figures: Mapping[str, float | None]) -> list[str]:
    """The flags the figures raise, each one short sentence."""
    flags = []
    similarity, contrast = figures.get("class_agnostic_similarity"), figures.get("class_contrast")
    if similarity is not None and similarity >= AGNOSTIC_FLAG:
        flags.append(
            f"close to the class-agnostic map (ρ {similarity:.2f} ≥ {AGNOSTIC_FLAG:.2f})"
        )
    if contrast is not None and contrast >= CONTRAST_FLAG:
        flags.append(f"barely class-specific (ρ {contrast:.2f} ≥ {CONTRAST_FLAG:.2f})")
    return flags


def sanity_reading(
    figures: Mapping[str, float | None],
    explained: str,
    opposite: str | None,
    missing: Sequence[str] = (),
) -> str:
    """The figures in plain language for a reader of the map of class ``explained``;
    ``missing`` names the figures the method does not compute."""
    similarity, contrast = figures.get("class_agnostic_similarity"), figures.get("class_contrast")
    parts = []
    if "class_agnostic_similarity" in missing:
        parts.append(
            "This method makes no class-agnostic map, so its similarity to one is not "
            "computed."
        )
    elif similarity is None:
        parts.append("The map is empty or constant, so its similarity is not defined.")
    else:
        if similarity >= AGNOSTIC_FLAG:
            meaning = (
                "it shows where the network's features respond, more than why it says "
                f"'{explained}'."
            )
        elif similarity >= PARTLY_AGNOSTIC:
            meaning = "it shows the decision's evidence mixed with where the features respond."
        else:
            meaning = "the decision shapes it."
        parts.append(
            f"This map is {similarity:.2f} similar to one that ignores the model's decision: "
            + meaning
        )
    if "class_contrast" in missing:
        parts.append("The map of the other class is not computed for this method.")
    elif contrast is None and opposite is not None:
        parts.append(
            f"The map for '{opposite}' is empty or constant: the model finds no evidence "
            "for it here, so the two maps cannot be compared."
        )
    elif contrast is None:
        parts.append("No map of another class to compare with.")
    elif contrast >= CONTRAST_FLAG:
        parts.append(
            f"The map for '{opposite}' ranks the pixels alike (ρ {contrast:.2f}): "
            f"it does not tell the evidence for '{explained}' from the evidence against it."
        )
    elif contrast < 0:
        parts.append(
            f"The map for '{opposite}' points elsewhere (ρ {contrast:.2f}): the map is "
            "specific to the class explained."
        )
    else:
        parts.append(
            f"The map for '{opposite}' overlaps it in part (ρ {contrast:.2f}): it is only "
            "weakly specific to the class explained."
        )
    return " ".join(parts)


def method_sanity(result: Any, explained: str, class_names: Sequence[str]) -> dict[str, Any]:
    """One image's method entry: ``sanity`` (the two figures), ``not_computed`` (the
    figures the method does not make), the opposite class's name, the flags and the
    plain-language reading."""
    from medxai.report.pipeline import class_name

    figures = sanity_figures(result)
    missing = not_computed(result)
    references = getattr(result, "references", None)
    opposite = None
    if references is not None and references.opposite_targets is not None:
        opposite = class_name(class_names, int(references.opposite_targets[0]))
    return {
        "sanity": figures,
        "not_computed": missing,
        "opposite_class": opposite,
        "flags": sanity_flags(figures),
        "reading": sanity_reading(figures, explained, opposite, missing),
    }


def reference_maps_at(result: Any, height: int, width: int) -> dict[str, np.ndarray]:
    """``{"class_agnostic", "opposite"}`` maps of a batch-of-one result resized to
    ``height×width`` (bilinear, clipped to [0, 1]); a missing map is left out."""
    from medxai.report.pipeline import to_original_geometry

    references = getattr(result, "references", None)
    if references is None:
        return {}
    maps = {}
    if references.class_agnostic is not None:
        maps["class_agnostic"] = to_original_geometry(
            references.class_agnostic[0], height, width
        )
    if references.opposite is not None:
        maps["opposite"] = to_original_geometry(references.opposite[0], height, width)
    return maps


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def model_evidence(validation: Mapping[str, Any] | None) -> dict[str, Any]:
    """Whether the checkpoint's own validation says the model learnt.

    ``validation`` is :func:`medxai.checkpoint.validation_metrics`'s answer. The AUROC
    (threshold-free) decides when recorded; the study κ only when no AUROC is (κ depends
    on the decision threshold: a model one epoch into training measured AUROC 0.89 with
    κ 0.19). Returns ``{"status": "ok" | "near_chance" | "unknown", "text": ...}``.
    """
    metrics = dict((validation or {}).get("metrics") or {})
    auroc_key = next((k for k in AUROC_KEYS if _finite(metrics.get(k)) is not None), None)
    kappa = _finite(metrics.get("val/study_kappa"))
    if auroc_key is None and kappa is None:
        return {
            "status": "unknown",
            "text": "The checkpoint carries no validation metrics: nothing shows that this "
            "model learnt to tell abnormal from normal, so read its maps with caution.",
        }
    if auroc_key is not None:
        auroc = float(metrics[auroc_key])
        name = {"val/study_auroc": "study AUROC", "val/image_auroc": "image AUROC"}.get(
            auroc_key, "AUROC"
        )
        measured = f"{name} {auroc:.2f}"
        near = auroc < AUROC_NEAR_CHANCE
        rule = f"{name} < {AUROC_NEAR_CHANCE:.2f}"
    else:
        measured = f"study κ {kappa:.2f}"
        near = kappa is not None and kappa < KAPPA_NEAR_CHANCE
        rule = f"κ < {KAPPA_NEAR_CHANCE:.2f}"
    if near:
        return {
            "status": "near_chance",
            "text": f"The checkpoint's own validation says this model is near chance "
            f"({measured}; {rule}): its decision and its maps may show nothing it has "
            "learnt.",
        }
    return {"status": "ok", "text": f"Validation: {measured}."}
