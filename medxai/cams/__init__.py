"""Saliency methods behind one API.

>>> explainer = medxai.cams.create("pcam±", model)
>>> result = explainer(x, targets=None)   # x: B×C×H×W, normalised for the model
>>> result.saliency                       # B×1×H×W in [0, 1]
"""

from medxai.cams import baselines, rise  # noqa: F401 - registers the comparison methods
from medxai.cams.cam import CAM
from medxai.cams.explainer import Explainer
from medxai.cams.polycam import PolyCAM
from medxai.cams.registry import available, canonical_name, create, register
from medxai.cams.result import SaliencyResult
from medxai.cams.targets import class_probability, predicted_classes, resolve_targets

__all__ = [
    "CAM",
    "Explainer",
    "PolyCAM",
    "SaliencyResult",
    "available",
    "canonical_name",
    "class_probability",
    "create",
    "predicted_classes",
    "register",
    "resolve_targets",
]
