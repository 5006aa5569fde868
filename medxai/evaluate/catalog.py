"""The metric names ``medxai evaluate`` accepts and the per-image columns each one fills.

A metric name is what the user writes after ``--metrics``; each fills one or more
columns of ``per_image.csv``. Insertion and deletion share their curves, so asking for
either one with the other (or for ``ins-del``) also fills ``ins_del``.
"""

from __future__ import annotations

from collections.abc import Iterable

from medxai.errors import MedxaiError

#: Metric name → the per-image columns it fills, in table order.
METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "insertion": ("insertion_auc",),
    "deletion": ("deletion_auc",),
    "ins-del": ("insertion_auc", "deletion_auc", "ins_del"),
    "confidence": ("average_drop", "increase_in_confidence"),
    "sensitivity-max": ("sensitivity_max",),
    "localisation": (
        "pointing_game",
        "relevance_mass",
        "relevance_rank",
        "iou_otsu",
        "auprc",
        "cast_mass",
    ),
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
    ``ins_del``). Raises :class:`MedxaiError` naming the valid metrics for an unknown name.
    """
    result: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        name = METRIC_ALIASES.get(name, name)
        if name not in METRIC_COLUMNS:
            valid = ", ".join(METRIC_COLUMNS)
            raise MedxaiError(f"unknown metric {raw.strip()!r}; valid metrics: {valid}")
        expanded = ["insertion", "deletion"] if name == "ins-del" else [name]
        result.extend(m for m in expanded if m not in result)
    if not result:
        raise MedxaiError(f"no metric given; valid metrics: {', '.join(METRIC_COLUMNS)}")
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
