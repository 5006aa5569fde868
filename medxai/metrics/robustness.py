"""Robustness of an explanation: max-sensitivity (Yeh et al. 2019) via captum.

``SENS_max(Φ, X) = max_{‖δ‖_∞ ≤ r} ‖Φ(X + δ) − Φ(X)‖_F / ‖Φ(X)‖_F``, estimated by
``captum.metrics.sensitivity_max`` from ``n_perturb_samples`` draws of ``δ`` uniform in
the L∞ ball of radius ``r`` (``perturb_radius``, default 0.02, in the normalised input
space). ``Φ`` is any medxai explainer; its ``B×1×H×W`` map is expanded to the input's
``B×C×H×W`` shape (which scales both norms by ``√C`` and leaves the ratio unchanged).
The explained class is resolved once on the unperturbed input and kept for every
perturbed copy. A map whose norm is 0 is divided by 1, as captum does.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from medxai.cams.targets import Targets
from medxai.errors import DependencyError
from medxai.metrics._model import evaluation, resolve

__all__ = ["sensitivity_max"]


def sensitivity_max(
    explainer: Any,
    model: nn.Module,
    x: Tensor,
    targets: Targets = None,
    *,
    perturb_radius: float = 0.02,
    n_perturb_samples: int = 10,
    max_examples_per_batch: int | None = None,
    seed: int | None = 0,
) -> Tensor:
    """``B`` max-sensitivity values of ``explainer`` (any ``explainer(x, targets)``
    returning a :class:`~medxai.cams.result.SaliencyResult`) around ``x``.

    Args:
        explainer: e.g. ``medxai.cams.create("pcam±", model)``.
        model: the model the explainer explains (used once to resolve the targets).
        x: ``B×C×H×W`` normalised inputs.
        targets: as for the explainers; a callable target is passed through unchanged.
        perturb_radius: L∞ radius ``r`` of the uniform perturbations.
        n_perturb_samples: draws of ``δ`` per input (captum's default, 10).
        max_examples_per_batch: captum's bound on perturbed inputs per explainer call.
        seed: seeds the perturbations (``None``: the global generator, unchanged).
    """
    try:
        from captum.metrics import sensitivity_max as captum_sensitivity_max
    except ImportError as error:
        raise DependencyError(
            "sensitivity-max needs captum: pip install 'medxai[baselines]'"
        ) from error

    if callable(targets) and not isinstance(targets, Tensor):
        fixed: Any = None
    else:
        with evaluation(model):
            spec, _ = resolve(model, x, targets)
        fixed = spec.classes.to(x.device)

    def explain(inputs: tuple[Tensor, ...] | Tensor, target: Any = None) -> Any:
        # captum passes a tuple and expects a tuple back
        batch = inputs[0] if isinstance(inputs, tuple) else inputs
        wanted = targets if target is None else target
        if isinstance(wanted, Tensor) and 0 < wanted.numel() < batch.shape[0]:
            # captum hands the perturbed copies of each input as one batch but may keep
            # one target per original input: give every copy its input's target.
            wanted = wanted.reshape(-1).repeat_interleave(batch.shape[0] // wanted.numel())
        with torch.enable_grad():
            maps = explainer(batch, targets=wanted).saliency
        maps = maps.to(batch).expand_as(batch).contiguous()  # captum calls .view
        return (maps,) if isinstance(inputs, tuple) else maps

    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        values = captum_sensitivity_max(
            explain,
            x,
            perturb_radius=perturb_radius,
            n_perturb_samples=n_perturb_samples,
            max_examples_per_batch=max_examples_per_batch,
            target=fixed,
        )
    return values.detach().float().cpu()
