"""Average drop and increase in confidence (Chattopadhay et al., Grad-CAM++, 2018).

For input ``X`` (normalised for the model), target class ``c`` and explanation map ``E``
(resized bilinearly to the input size, values in ``[0, 1]``):

- ``Y = s(X)``: the class probability on the unmodified input (softmax, or the sigmoid
  for one logit; :func:`medxai.cams.targets.class_probability`);
- ``O = s(X ⊙ E)``: the probability on the input multiplied pixel-wise by the map (all
  channels). In the normalised space a pixel where ``E = 0`` becomes the dataset's mean
  colour, as in Poly-CAM's masking.
- Average drop: ``100 · (1/N) Σ_i max(0, Y_i − O_i) / Y_i`` (lower is better);
- Increase in confidence: ``100 · (1/N) Σ_i 1[O_i > Y_i]`` — the percentage of samples
  whose score rises (higher is better).

Both are percentages, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from medxai.cams.targets import Targets
from medxai.metrics._model import chunked_scores, evaluation, resolve
from medxai.metrics.geometry import resize_maps

__all__ = ["ConfidenceResult", "confidence_change"]


@dataclass
class ConfidenceResult:
    """Per-sample scores ``Y`` (original) and ``O`` (explanation-masked), and the summaries."""

    original: Tensor
    masked: Tensor
    targets: Tensor

    @property
    def drop(self) -> Tensor:
        """Per-sample relative drop ``max(0, Y − O) / Y`` (a fraction, not a percentage)."""
        return (self.original - self.masked).clamp(min=0) / self.original.clamp(min=1e-12)

    @property
    def average_drop(self) -> float:
        """``100 · mean(max(0, Y − O) / Y)``."""
        return float(self.drop.mean() * 100)

    @property
    def increase_in_confidence(self) -> float:
        """``100 · mean(1[O > Y])``."""
        return float((self.masked > self.original).float().mean() * 100)


def confidence_change(
    model: nn.Module,
    x: Tensor,
    saliency: Tensor,
    targets: Targets = None,
    *,
    batch_size: int = 64,
) -> ConfidenceResult:
    """Scores of ``x`` and of ``x ⊙ E`` for the targets (module doc for the formulas).

    Args:
        model: the classifier; eval mode, no gradients, flags restored afterwards.
        x: ``B×C×H×W`` normalised inputs.
        saliency: ``B×1×h×w`` maps in ``[0, 1]`` (resized bilinearly to ``H×W``; values
            outside ``[0, 1]`` raise :class:`ValueError`).
        targets: as for the explainers; ``None`` explains the predicted class.
        batch_size: most inputs per forward pass.
    """
    maps = resize_maps(saliency.to(x.device), tuple(x.shape[-2:]))
    if bool((maps < 0).any()) or bool((maps > 1 + 1e-6).any()):
        raise ValueError("average drop needs explanation maps in [0, 1]")
    masked = torch.empty(x.shape[0], dtype=torch.float32)
    with evaluation(model):
        spec, original = resolve(model, x, targets)
        for start in range(0, x.shape[0], batch_size):
            i = torch.arange(start, min(start + batch_size, x.shape[0]), device=x.device)
            masked[i.cpu()] = chunked_scores(model, spec, x[i] * maps[i], i).float().cpu()
    return ConfidenceResult(original=original.float().cpu(), masked=masked, targets=spec.classes)
