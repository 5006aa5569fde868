"""Which class to explain, and how it is scored.

A *target* given to an explainer is one of:

- ``None``: the predicted class of each sample (``argmax`` of the logits; for one logit,
  ``1`` when ``logit > 0``);
- an ``int``: the same class for every sample;
- a sequence (or 1-D tensor) of ints, one per sample;
- a callable ``f(logits) -> Tensor[B]`` returning the score to explain directly, for
  multi-label or custom heads.

The score ``s(X)`` of a class is its probability: ``softmax(logits)[c]`` for ``K > 1``
logits; for a single logit ``z``, ``sigmoid(z)`` for class 1 and ``1 - sigmoid(z)`` for
class 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

TargetFn = Callable[[Tensor], Tensor]
Targets = None | int | Sequence[int] | Tensor | TargetFn


def class_probability(logits: Tensor, classes: Tensor) -> Tensor:
    """Probability of ``classes[i]`` for each row of ``logits`` (``B×K`` or ``B``), float32.

    ``K == 1`` uses the sigmoid (class 1 → ``σ(z)``, class 0 → ``1 − σ(z)``); ``K > 1``
    the softmax over the class dimension.
    """
    logits = logits.float()
    if logits.ndim == 1:
        logits = logits[:, None]
    classes = classes.to(logits.device).long()
    if logits.shape[1] == 1:
        positive = torch.sigmoid(logits[:, 0])
        return torch.where(classes == 1, positive, 1.0 - positive)
    probs = torch.softmax(logits, dim=1)
    return probs.gather(1, classes[:, None])[:, 0]


def predicted_classes(logits: Tensor) -> Tensor:
    """The predicted class per row: ``argmax``, or ``logit > 0`` for a single logit."""
    if logits.ndim == 1:
        logits = logits[:, None]
    if logits.shape[1] == 1:
        return (logits[:, 0] > 0).long()
    return logits.argmax(dim=1)


@dataclass(frozen=True)
class TargetSpec:
    """Resolved targets for one batch.

    ``classes`` holds one class index per sample (``-1`` for a custom callable), and
    :meth:`score` maps logits of any batch of these samples to the explained score.
    """

    classes: Tensor
    fn: TargetFn | None = None

    def score(self, logits: Tensor, sample_index: Tensor | None = None) -> Tensor:
        """Scores of the targets of ``sample_index`` (default: all samples in order)."""
        if self.fn is not None:
            if sample_index is not None:
                raise ValueError("a callable target cannot be evaluated per sample index")
            return self.fn(logits).float().reshape(-1)
        classes = self.classes if sample_index is None else self.classes[sample_index]
        return class_probability(logits, classes)


def resolve_targets(targets: Targets, logits: Tensor) -> TargetSpec:
    """Turn a user-facing ``targets`` value into a :class:`TargetSpec` for ``logits``.

    Raises:
        ValueError: a class index outside ``[0, K)`` (``[0, 1]`` for one logit), or a
            sequence whose length differs from the batch size.
    """
    if logits.ndim == 1:
        logits = logits[:, None]
    batch, n_logits = logits.shape
    n_classes = 2 if n_logits == 1 else n_logits
    if callable(targets) and not isinstance(targets, Tensor):
        return TargetSpec(classes=torch.full((batch,), -1, dtype=torch.long), fn=targets)
    if targets is None:
        classes = predicted_classes(logits).cpu()
    elif isinstance(targets, int) and not isinstance(targets, bool):
        classes = torch.full((batch,), targets, dtype=torch.long)
    else:
        classes = torch.as_tensor(list(targets) if not isinstance(targets, Tensor) else targets)
        classes = classes.reshape(-1).long().cpu()
        if classes.numel() != batch:
            raise ValueError(f"got {classes.numel()} targets for a batch of {batch} inputs")
    bad = (classes < 0) | (classes >= n_classes)
    if bool(bad.any()):
        value = int(classes[bad][0])
        raise ValueError(
            f"target class {value} is out of range for a model with {n_classes} classes"
            + (" (a single-logit head explains class 0 or 1)" if n_logits == 1 else "")
        )
    return TargetSpec(classes=classes)
