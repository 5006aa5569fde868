"""medxai: explainability for musculoskeletal radiograph classifiers.

``medxai.cams`` holds the saliency methods (Poly-CAM, CAM and the comparison methods);
``medxai.metrics`` the faithfulness, robustness and localisation metrics; ``medxai.io``
image and annotation readers; ``medxai.data`` MURA and the phantom generator;
``medxai.report`` the radiologist's review report.
"""

from medxai import cams

__version__ = "0.1.0"

__all__ = ["__version__", "cams"]
