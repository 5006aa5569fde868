"""Metrics on saliency maps: localisation, faithfulness, confidence, robustness, sanity.

The metric code works on tensors and arrays only; it knows nothing of files or reports.
"""

from medxai.metrics.localisation import (
    auprc,
    iou_at_otsu,
    pointing_game,
    relevance_mass,
    relevance_rank,
)

__all__ = [
    "auprc",
    "iou_at_otsu",
    "pointing_game",
    "relevance_mass",
    "relevance_rank",
]
