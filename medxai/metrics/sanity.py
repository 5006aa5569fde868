"""Cascading model-parameter randomisation (Adebayo et al., "Sanity checks for saliency
maps", 2018).

On a deep copy of the model (the original is never touched), the parameters of one
named module (or block) at a time are re-initialised, from the top (the logits) down,
cumulatively: step ``j`` has the top ``j`` blocks randomised. After each step every
method's map is recomputed for the same input and the same, fixed target classes, and
compared with the map of the intact model:

- SSIM: ``skimage.metrics.structural_similarity(a, b, data_range=1)`` on the ``H×W``
  maps (in ``[0, 1]``);
- Spearman rank correlation ``ρ`` of the pixel values (``scipy.stats.spearmanr``,
  average ranks for ties). A constant map has no ranking; ``ρ`` is then set to 0.

A method that passes the check has similarities that fall as more layers are randomised.

Re-initialisation calls each submodule's own ``reset_parameters()`` (PyTorch's default
initialisers; batch-norm statistics reset too) under a seeded generator, one seed per
step drawn from ``seed``.

Default blocks: descend from the model through single parameter-holding children (e.g.
a wrapper's ``.model``) to the first module with several; its parameter-holding children,
in registration order (``conv1, bn1, layer1, …, layer4, fc`` for a ResNet), reversed.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from skimage.metrics import structural_similarity
from torch import Tensor, nn

from medxai.cams.targets import Targets
from medxai.metrics._model import evaluation, resolve

__all__ = [
    "SanityResult",
    "cascading_randomisation",
    "default_randomisation_blocks",
    "plot_cascading_randomisation",
    "randomise_module",
]

ExplainerFactory = Callable[[nn.Module], Any]


@dataclass
class SanityResult:
    """Similarities of randomised-model maps to the intact model's maps.

    Attributes:
        methods: method names (rows).
        steps: the block randomised at each step, top → down (columns); step ``j`` has
            ``steps[:j+1]`` randomised.
        ssim: ``methods × (1 + steps) × B`` SSIM values; column 0 is the intact model (1).
        spearman: same layout, Spearman ``ρ``.
        maps: per method, ``1 + steps`` tensors ``B×1×H×W``: the intact map, then each step.
        targets: the ``B`` classes explained throughout.
    """

    methods: list[str]
    steps: list[str]
    ssim: np.ndarray
    spearman: np.ndarray
    maps: dict[str, list[Tensor]] = field(repr=False)
    targets: Tensor

    def table(self) -> list[dict[str, Any]]:
        """One row per (method, step) with the mean SSIM and ``ρ`` over the batch."""
        rows = []
        for m, method in enumerate(self.methods):
            for s, step in enumerate(["original", *self.steps]):
                rows.append(
                    {
                        "method": method,
                        "step": s,
                        "randomised": step,
                        "ssim": float(self.ssim[m, s].mean()),
                        "spearman": float(self.spearman[m, s].mean()),
                    }
                )
        return rows


def default_randomisation_blocks(model: nn.Module) -> list[str]:
    """Names of the blocks to randomise, top (logits) → bottom (see the module doc)."""
    prefix, module = "", model
    while True:
        children = [
            (name, child)
            for name, child in module.named_children()
            if any(True for _ in child.parameters())
        ]
        if len(children) != 1:
            break
        name, module = children[0]
        prefix = f"{prefix}{name}."
    if not children:
        raise ValueError("the model has no parameter-holding submodules to randomise")
    return [f"{prefix}{name}" for name, _ in reversed(children)]


def randomise_module(module: nn.Module, seed: int) -> None:
    """Re-initialise every submodule of ``module`` that has ``reset_parameters``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for sub in module.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()


def _similarities(reference: Tensor, other: Tensor) -> tuple[np.ndarray, np.ndarray]:
    ssim, rho = [], []
    for a, b in zip(reference[:, 0].double().numpy(), other[:, 0].double().numpy()):
        ssim.append(structural_similarity(a, b, data_range=1.0))
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            rho.append(0.0)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rho.append(float(spearmanr(a.ravel(), b.ravel()).statistic))
    return np.asarray(ssim), np.asarray(rho)


def _explainer_factories(
    methods: Sequence[str] | Mapping[str, ExplainerFactory], options: Mapping[str, Any]
) -> dict[str, ExplainerFactory]:
    if isinstance(methods, Mapping):
        return dict(methods)
    from medxai.cams.registry import create

    def factory_for(name: str) -> ExplainerFactory:
        return lambda model: create(name, model, **dict(options.get(name, {})))

    return {name: factory_for(name) for name in methods}


def cascading_randomisation(
    model: nn.Module,
    x: Tensor,
    methods: Sequence[str] | Mapping[str, ExplainerFactory],
    targets: Targets = None,
    *,
    blocks: Sequence[str] | None = None,
    seed: int = 0,
    method_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> SanityResult:
    """Run the cascading randomisation check (module doc) on a deep copy of ``model``.

    Args:
        model: the classifier; left unchanged (parameters, buffers, flags).
        x: ``B×C×H×W`` normalised inputs.
        methods: registry names (built with ``medxai.cams.create(name, model_copy,
            **method_options[name])``), or a mapping name → ``factory(model)``.
        targets: resolved once on the intact model; the same classes are explained at
            every step.
        blocks: names of the modules to randomise, top → down; default
            :func:`default_randomisation_blocks`.
        seed: seeds the generator that draws one re-initialisation seed per step.
    """
    factories = _explainer_factories(methods, method_options or {})
    names = list(blocks) if blocks is not None else default_randomisation_blocks(model)
    copy_model = copy.deepcopy(model)
    modules = dict(copy_model.named_modules())
    if unknown := [name for name in names if name not in modules]:
        raise ValueError(f"unknown modules to randomise: {unknown}")
    with evaluation(copy_model):
        spec, _ = resolve(copy_model, x, targets)
    fixed: Targets = targets if spec.fn is not None else spec.classes

    def explain_all() -> dict[str, Tensor]:
        return {
            method: factory(copy_model)(x, targets=fixed).saliency.detach().float().cpu()
            for method, factory in factories.items()
        }

    maps = {method: [saliency] for method, saliency in explain_all().items()}
    # large per-step seeds drawn from ``seed``: a small seed such as the one that built
    # an untrained model would re-create the very same weights
    step_seeds = torch.randint(2**62, (len(names),), generator=torch.Generator().manual_seed(seed))
    for name, step_seed in zip(names, step_seeds.tolist()):
        randomise_module(modules[name], step_seed)
        for method, saliency in explain_all().items():
            maps[method].append(saliency)

    n_methods, n_steps, batch = len(factories), len(names) + 1, x.shape[0]
    ssim = np.ones((n_methods, n_steps, batch))
    rho = np.ones((n_methods, n_steps, batch))
    for m, method in enumerate(factories):
        for s in range(1, n_steps):
            ssim[m, s], rho[m, s] = _similarities(maps[method][0], maps[method][s])
    return SanityResult(
        methods=list(factories),
        steps=names,
        ssim=ssim,
        spearman=rho,
        maps=maps,
        targets=spec.classes,
    )


def plot_cascading_randomisation(result: SanityResult, sample: int = 0) -> Any:
    """A matplotlib figure: rows = methods, columns = intact model then each step.

    Each panel is titled with the randomised block and its SSIM / Spearman ``ρ``.
    """
    import matplotlib.pyplot as plt

    n_rows, n_cols = len(result.methods), len(result.steps) + 1
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.8 * n_cols, 1.9 * n_rows), squeeze=False
    )
    for m, method in enumerate(result.methods):
        for s in range(n_cols):
            ax = axes[m][s]
            ax.imshow(result.maps[method][s][sample, 0].numpy(), cmap="jet", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            title = "original" if s == 0 else f"+{result.steps[s - 1]}"
            if s > 0:
                title += (
                    f"\nSSIM {result.ssim[m, s, sample]:.2f}"
                    f" ρ {result.spearman[m, s, sample]:.2f}"
                )
            ax.set_title(title, fontsize=7)
            if s == 0:
                ax.set_ylabel(method, fontsize=8)
    fig.tight_layout()
    return fig
