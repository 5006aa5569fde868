"""Synthetic musculoskeletal radiographs ("phantoms") with known truth.

A deterministic generator of MURA-v1.1-shaped data sets: soft tissue, bones with a bright
cortex and darker medulla meeting at joints, fractures (lucent line, cortical step,
angulation, a chip) with ground-truth ellipses, plaster casts with masks (the planted
shortcut), metal hardware and laterality markers. See :func:`generate` for the files
written and :class:`PhantomConfig` for the knobs.

- :mod:`.geometry`: capsules, view transforms, X-ray path lengths;
- :mod:`.anatomy`: body-part templates;
- :mod:`.spec`: a study's sampled truth (:func:`sample_study`);
- :mod:`.fractures`, :mod:`.extras`: fracture, cast, hardware and marker models;
- :mod:`.render`: spec → image (:func:`render`);
- :mod:`.writer`: the data set on disk (:func:`generate`).
"""

from medxai.data.phantoms.anatomy import BODY_PARTS
from medxai.data.phantoms.config import PhantomConfig
from medxai.data.phantoms.render import RenderedImage, render
from medxai.data.phantoms.spec import StudySpec
from medxai.data.phantoms.study import sample_study
from medxai.data.phantoms.writer import generate, plan_split

__all__ = [
    "BODY_PARTS",
    "PhantomConfig",
    "RenderedImage",
    "StudySpec",
    "generate",
    "plan_split",
    "render",
    "sample_study",
]
