"""The metric names ``medxai evaluate`` accepts and the per-image columns each one fills.

A metric name is what the user writes after ``--metrics``; each fills one or more
columns of ``per_image.csv``. Insertion and deletion share their curves, so asking for
both (or for ``ins-del``) also fills ``ins_del``.

Columns of ``per_image.csv`` (one row per image and method):

- ``image``: the image path relative to ROOT (the row key, with ``method``); ``split``,
  ``body_part``, ``patient``, ``study`` (the study folder relative to ROOT), ``label``
  (1 = abnormal).
- ``method``: the saliency method; ``target``: the class its map explains; ``score``: the
  model's probability of that class on the unmodified input; ``approximate``: 1 when an
  opt-in approximation made the map (Poly-CAM's channel budget); ``seconds``: wall time of
  the saliency method alone on this image (not of the metrics).
- ``insertion``: ``insertion_auc``, the mean of the ``n+1`` insertion curve points (higher
  is better). ``deletion``: ``deletion_auc`` (lower is better). Both: ``ins_del`` =
  insertion AUC − deletion AUC. See :mod:`medxai.metrics.faithfulness`.
- ``confidence``: ``average_drop``, ``100·max(0, Y−O)/Y`` with ``Y`` the score and ``O``
  the score of the input multiplied by the map; ``increase_in_confidence``, 100 when
  ``O > Y`` else 0. Their means over images are the Average Drop and the Increase in
  Confidence of Grad-CAM++ (:mod:`medxai.metrics.confidence`).
- ``sensitivity-max`` (costly, opt-in): ``sensitivity_max``
  (:mod:`medxai.metrics.robustness`), its perturbations seeded per image.
- ``localisation``: against the union of the image's annotation shapes,
  ``pointing_game`` (1 hit, 0 miss), ``relevance_mass``, ``relevance_rank``, ``iou_otsu``
  and ``auprc``; against its cast mask, ``cast_mass``, the share of the map's mass on the
  cast (the shortcut audit). Measured at the original image size
  (:mod:`medxai.io.masks`); NaN where the image has no such mask.
- ``sanity``: ``class_agnostic_similarity`` (Spearman ρ of the map with the same
  method's map with every channel weight 1) and ``class_contrast`` (ρ with the map of
  the opposite class), read from the result's reference maps
  (:mod:`medxai.cams.references`; no extra forward pass). NaN for methods that make no
  reference maps (the comparison methods) and where a figure is undefined (a constant
  map, a callable target).
"""

from __future__ import annotations

from collections.abc import Iterable

from medxai.errors import OptionError
from medxai.metrics.localisation import LOCALISATION_COLUMNS

#: The columns of the ``sanity`` metric.
SANITY_COLUMNS: tuple[str, ...] = ("class_agnostic_similarity", "class_contrast")

#: Metric name → the per-image columns it fills, in table order.
METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "insertion": ("insertion_auc",),
    "deletion": ("deletion_auc",),
    "ins-del": ("insertion_auc", "deletion_auc", "ins_del"),
    "confidence": ("average_drop", "increase_in_confidence"),
    "sensitivity-max": ("sensitivity_max",),
    "localisation": (*LOCALISATION_COLUMNS, "cast_mass"),
    "sanity": SANITY_COLUMNS,
}

#: Spellings accepted besides the names above.
METRIC_ALIASES: dict[str, str] = {
    "localization": "localisation",
    "average-drop": "confidence",
    "average-increase": "confidence",
    "sensitivity": "sensitivity-max",
}

#: Columns that identify a row: one image explained by one method.
KEY_COLUMNS: tuple[str, ...] = ("image", "method")

#: Columns every row has, before the metric columns.
BASE_COLUMNS: tuple[str, ...] = (
    "image",
    "split",
    "body_part",
    "patient",
    "study",
    "label",
    "method",
    "target",
    "score",
    "approximate",
    "seconds",
)

#: Columns that hold measured time, not results: they differ between identical runs.
TIMING_COLUMNS: tuple[str, ...] = ("seconds",)

#: Columns the summary averages besides the metric columns.
SUMMARY_BASE_COLUMNS: tuple[str, ...] = ("score", "seconds")


def canonical_metrics(names: Iterable[str]) -> list[str]:
    """Validated metric names, aliases resolved, duplicates dropped, in the given order.

    ``ins-del`` is expanded to ``insertion`` and ``deletion`` (which together also fill
    ``ins_del``). Raises :class:`~medxai.errors.OptionError` naming the valid metrics for
    an unknown name.
    """
    result: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        name = METRIC_ALIASES.get(name, name)
        if name not in METRIC_COLUMNS:
            valid = ", ".join(METRIC_COLUMNS)
            raise OptionError(f"unknown metric {raw.strip()!r}; valid metrics: {valid}")
        expanded = ["insertion", "deletion"] if name == "ins-del" else [name]
        result.extend(m for m in expanded if m not in result)
    if not result:
        raise OptionError(f"no metric given; valid metrics: {', '.join(METRIC_COLUMNS)}")
    return result


def metric_columns(metrics: Iterable[str]) -> list[str]:
    """The per-image metric columns filled by the canonical ``metrics``, in table order."""
    wanted = set(metrics)
    if {"insertion", "deletion"} <= wanted:
        wanted.add("ins-del")
    columns: list[str] = []
    for name, cols in METRIC_COLUMNS.items():
        if name in wanted:
            columns.extend(c for c in cols if c not in columns)
    return columns


def table_columns(metrics: Iterable[str]) -> list[str]:
    """All columns of ``per_image.csv`` for ``metrics``: base columns, then metric columns."""
    return [*BASE_COLUMNS, *metric_columns(metrics)]
