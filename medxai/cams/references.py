"""Reference maps that Poly-CAM, CAM and the cheap comparison methods carry, and the two
sanity figures.

- **Class-agnostic map**: the same method with every channel weight set to 1 (Poly-CAM:
  ``L_l = ReLU(Σ_k A_lk)`` fused as usual; CAM: ``ReLU(Σ_k A_k)``). It ignores the
  model's decision: it shows where the features respond, whatever the class.
- **Opposite-class map**: the same method for the other class. For a single-logit head
  that is class ``1 − c`` (``σ`` and ``1 − σ`` share the logits, so Poly-CAM reads it
  from the same masked passes); for several logits it is the runner-up, the class of
  largest logit other than ``c`` (its probability is read from the logits of the same
  masked batches). A callable target has no opposite class.

Neither needs a forward pass of its own. Which methods carry which map (a figure of a map
a method does not make is "not computed", :meth:`ReferenceMaps.computed`):

==================================  ===================  ==================================
method                              class-agnostic map   opposite-class map
==================================  ===================  ==================================
``pcam+``, ``pcam-``, ``pcam±``     yes                  yes (any head)
``cam``                             yes                  yes (any head)
``gradcam``, ``gradcam++``,         yes                  single-logit head only (the
``layercam``                                             negated gradients of one backward)
``smoothgradcam++``, ``scorecam``,  yes                  no
``sscam``, ``iscam``
``ig``, ``ixg``, ``occlusion``,     no                   single-logit head only (the
``smoothgrad``                                           attributions negated, or for
                                                         ``smoothgrad``'s ``|·|`` the same)
==================================  ===================  ==================================

(:mod:`medxai.cams.baselines` states how each is read from the method's own passes.)
From them, per sample:

- ``class_agnostic_similarity``: Spearman ``ρ`` between the map and the class-agnostic
  map. Spearman rather than SSIM: it compares the maps' orderings only, so it does not
  depend on the percentile normaliser or on how much of the map is clipped to 0, it is
  the statistic of ``class_contrast`` too (one scale for both figures), and it has no
  window size or stabilising constants to choose. docs/benchmarks.md reports SSIM too.
- ``class_contrast``: Spearman ``ρ`` between the map and the opposite-class map. A
  class-specific map is negative here; a map that looks the same for both classes is
  near +1.

``ρ`` uses average ranks for ties (the many zeros of a ReLU'd map) and is ``NaN`` when
either map is constant (a constant map has no ordering).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def _average_ranks(values: Tensor) -> Tensor:
    """Ranks ``1..n`` of a 1-D tensor, ties sharing their average rank (float64)."""
    _, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).double()
    return (ends - (counts.double() - 1.0) / 2.0)[inverse]


def spearman(a: Tensor, b: Tensor) -> Tensor:
    """Spearman ``ρ`` between the pixels of ``a[i]`` and ``b[i]`` for each sample (``B``,
    float64), average ranks for ties; ``NaN`` where either map is constant."""
    if a.shape != b.shape:
        raise ValueError(f"maps of shapes {tuple(a.shape)} and {tuple(b.shape)} differ")
    out = []
    for x, y in zip(a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)):
        rx, ry = _average_ranks(x.double()), _average_ranks(y.double())
        rx, ry = rx - rx.mean(), ry - ry.mean()
        denominator = torch.sqrt((rx * rx).sum() * (ry * ry).sum())
        if float(denominator) == 0.0:
            out.append(torch.tensor(float("nan"), dtype=torch.float64))
        else:
            out.append((rx * ry).sum() / denominator)
    return torch.stack(out).cpu()


def opposite_classes(logits: Tensor, classes: Tensor) -> Tensor:
    """The opposite class of each sample: ``1 − c`` for one logit, else the runner-up
    (largest logit other than ``c``)."""
    logits = logits.float()
    if logits.ndim == 1:
        logits = logits[:, None]
    classes = classes.to(logits.device).long()
    if logits.shape[1] == 1:
        return (1 - classes).cpu()
    others = logits.scatter(1, classes[:, None], float("-inf"))
    return others.argmax(dim=1).cpu()


@dataclass
class ReferenceMaps:
    """A batch's reference maps and sanity figures (module doc).

    Attributes:
        class_agnostic: ``B×1×H×W`` in ``[0, 1]``, every channel weight 1; ``None`` for
            a method with no channel weights (input attributions).
        opposite: ``B×1×H×W`` in ``[0, 1]``, the map of ``opposite_targets``; ``None``
            for a callable target.
        opposite_targets: ``B`` long, the opposite class explained (or ``None``).
        class_agnostic_similarity: ``B`` float64, Spearman ``ρ`` of the map with
            ``class_agnostic`` (``None`` without a class-agnostic map).
        class_contrast: ``B`` float64, Spearman ``ρ`` of the map with ``opposite``
            (``None`` without an opposite map).
    """

    class_agnostic: Tensor | None
    opposite: Tensor | None
    opposite_targets: Tensor | None
    class_agnostic_similarity: Tensor | None
    class_contrast: Tensor | None

    def select(self, index: int) -> ReferenceMaps:
        """The references of sample ``index`` alone, as a batch of one."""
        sl = slice(index, index + 1)
        def part(t: Tensor | None) -> Tensor | None:
            return None if t is None else t[sl]

        return ReferenceMaps(
            class_agnostic=part(self.class_agnostic),
            opposite=part(self.opposite),
            opposite_targets=part(self.opposite_targets),
            class_agnostic_similarity=part(self.class_agnostic_similarity),
            class_contrast=part(self.class_contrast),
        )

    def computed(self) -> dict[str, bool]:
        """Per figure, whether the method makes its reference map at all (a computed
        figure can still be undefined for a sample: an empty or constant map)."""
        return {
            "class_agnostic_similarity": self.class_agnostic is not None,
            "class_contrast": self.opposite is not None,
        }

    def figures(self, index: int = 0) -> dict[str, float | None]:
        """``{"class_agnostic_similarity", "class_contrast"}`` of sample ``index``
        (``None`` for a figure that is undefined)."""

        def value(t: Tensor | None) -> float | None:
            if t is None:
                return None
            v = float(t[index])
            return None if v != v else v

        return {
            "class_agnostic_similarity": value(self.class_agnostic_similarity),
            "class_contrast": value(self.class_contrast),
        }


def reference_maps(
    saliency: Tensor,
    class_agnostic: Tensor | None,
    opposite: Tensor | None,
    opposite_targets: Tensor | None,
) -> ReferenceMaps:
    """:class:`ReferenceMaps` with both figures measured against ``saliency`` (a figure
    whose map is ``None`` is ``None``)."""
    return ReferenceMaps(
        class_agnostic=class_agnostic,
        opposite=opposite,
        opposite_targets=None if opposite is None else opposite_targets,
        class_agnostic_similarity=None
        if class_agnostic is None
        else spearman(saliency, class_agnostic),
        class_contrast=None if opposite is None else spearman(saliency, opposite),
    )
