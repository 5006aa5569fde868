"""Image and annotation input.

``load_radiograph`` / ``scan_study`` read PNG, JPEG and DICOM into display-ready float
arrays with pixel spacing; ``load_annotations`` reads native JSON and CVAT XML 1.1 into
shapes whose ``mask()`` and ``outline()`` feed the metrics and the figures.
"""

from medxai.io.annotations import (
    Annotations,
    annotation_mask,
    find_annotation_file,
    load_annotations,
    validate_annotations,
)
from medxai.io.images import MAX_PIXELS, StudyScan, load_radiograph, scan_study
from medxai.io.radiograph import Radiograph
from medxai.io.shapes import Box, Ellipse, Polygon, Shape

__all__ = [
    "MAX_PIXELS",
    "Annotations",
    "Box",
    "Ellipse",
    "Polygon",
    "Radiograph",
    "Shape",
    "StudyScan",
    "annotation_mask",
    "find_annotation_file",
    "load_annotations",
    "load_radiograph",
    "scan_study",
    "validate_annotations",
]
