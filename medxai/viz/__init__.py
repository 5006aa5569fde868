"""Drawing helpers for saliency maps on radiographs.

- :mod:`medxai.viz.overlay`: the saliency colormap and grayscale-aware overlays;
- :mod:`medxai.viz.regions`: the most salient regions, as square crop boxes;
- :mod:`medxai.viz.outlines`: annotation outlines, one colour and line style per label;
- :mod:`medxai.viz.scalebar`: a millimetre scale bar from the pixel spacing;
- :mod:`medxai.viz.figures`: the per-image and zoom figures of the report.

Everything here works on NumPy arrays and matplotlib ``Figure`` objects (no pyplot global
state), and knows nothing of models or hooks.
"""

from medxai.viz.outlines import LabelStyle, draw_outlines, label_styles
from medxai.viz.overlay import SALIENCY_CMAP, overlay, saliency_colormap
from medxai.viz.regions import Region, salient_regions
from medxai.viz.scalebar import draw_scale_bar, nice_scale_length

__all__ = [
    "SALIENCY_CMAP",
    "LabelStyle",
    "Region",
    "draw_outlines",
    "draw_scale_bar",
    "label_styles",
    "nice_scale_length",
    "overlay",
    "saliency_colormap",
    "salient_regions",
]
