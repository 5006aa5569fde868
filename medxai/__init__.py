"""medxai: explainability for musculoskeletal radiograph classifiers.

``medxai.cams`` holds the saliency methods (Poly-CAM, CAM and the comparison methods);
``medxai.metrics`` the faithfulness, robustness and localisation metrics; ``medxai.io``
image and annotation readers; ``medxai.data`` MURA and the phantom generator;
``medxai.report`` the radiologist's review report.

Sub-packages are imported on first use, so ``import medxai`` (and ``medxai --help``)
does not pay for PyTorch until a model is touched.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

_SUBPACKAGES = ("audit", "cams", "data", "evaluate", "io", "metrics", "report", "viz")

__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name: str) -> ModuleType:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"medxai.{name}")
    raise AttributeError(f"module 'medxai' has no attribute {name!r}")
