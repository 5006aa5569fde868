"""Metrics on saliency maps: localisation, faithfulness, confidence, robustness, sanity.

The metric code works on tensors and arrays only; it knows nothing of files or reports.
Below the report, ``medxai evaluate`` and the audits alike: :mod:`medxai.metrics.geometry`
brings a map to another grid, :func:`medxai.metrics.localisation.localisation_row` measures
a map against an image's ground truth, and :mod:`medxai.metrics.bootstrap` gives the
bootstrap confidence intervals of the tables.
"""

from medxai.metrics.confidence import ConfidenceResult, confidence_change
from medxai.metrics.faithfulness import FaithfulnessResult, insertion_deletion
from medxai.metrics.localisation import (
    auprc,
    iou_at_otsu,
    pointing_game,
    relevance_mass,
    relevance_rank,
)
from medxai.metrics.robustness import sensitivity_max
from medxai.metrics.sanity import (
    SanityResult,
    cascading_randomisation,
    plot_cascading_randomisation,
    plot_randomisation_curves,
)

__all__ = [
    "ConfidenceResult",
    "FaithfulnessResult",
    "SanityResult",
    "auprc",
    "cascading_randomisation",
    "confidence_change",
    "insertion_deletion",
    "iou_at_otsu",
    "plot_cascading_randomisation",
    "plot_randomisation_curves",
    "pointing_game",
    "relevance_mass",
    "relevance_rank",
    "sensitivity_max",
]
