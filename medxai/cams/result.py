"""The result every saliency method returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from medxai.cams.references import ReferenceMaps


@dataclass
class SaliencyResult:
    """Saliency maps for a batch of ``B`` inputs of size ``H×W``.

    Attributes:
        saliency: ``B×1×H×W`` float tensor in ``[0, 1]``, the final map.
        levels: per-level maps, each ``B×1×H×W`` in ``[0, 1]``, deep → shallow; the last
            one is ``saliency``. Single-level methods hold ``[saliency]``.
        targets: ``B`` long tensor, the class explained for each sample (for a single-logit
            head: 1 = positive, 0 = negative). ``-1`` when the target was a custom callable.
        scores: ``B`` float tensor, the model's probability of that target on the
            unmodified input (softmax over several logits, sigmoid for one logit).
        method: the registry name of the method that made the maps.
        approximate: true when an opt-in setting changed the arithmetic (channel budget,
            bf16 autocast); ``settings`` says which.
        settings: the options that produced the maps, for provenance.
        intermediate: the unfused per-layer maps (Poly-CAM's ablation option), deep →
            shallow, each normalised and upsampled, ``Up_{H×W}(N(L_l))``, ``B×1×H×W`` in
            ``[0, 1]`` (the published code returns the raw ``L_l``; docs/polycam.md);
            ``None`` unless asked for.
        references: the class-agnostic and opposite-class maps and the two sanity
            figures (:mod:`medxai.cams.references`); ``None`` for methods that do not
            make them.
    """

    saliency: Tensor
    levels: list[Tensor]
    targets: Tensor
    scores: Tensor
    method: str
    approximate: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    intermediate: list[Tensor] | None = None
    references: ReferenceMaps | None = None

    def __len__(self) -> int:
        return int(self.saliency.shape[0])

    def select(self, index: int) -> SaliencyResult:
        """The result of sample ``index`` alone, as a batch of one."""
        sl = slice(index, index + 1)
        return SaliencyResult(
            saliency=self.saliency[sl],
            levels=[level[sl] for level in self.levels],
            targets=self.targets[sl],
            scores=self.scores[sl],
            method=self.method,
            approximate=self.approximate,
            settings=dict(self.settings),
            intermediate=None
            if self.intermediate is None
            else [m[sl] for m in self.intermediate],
            references=None if self.references is None else self.references.select(index),
        )
