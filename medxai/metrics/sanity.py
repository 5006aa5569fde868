"""Cascading model-parameter randomisation (Adebayo et al., "Sanity checks for saliency
maps", 2018), with several randomisation seeds and bootstrap CIs.

On deep copies of the model (the original is never touched), one named block at a time
is randomised, from the top (the logits) down, cumulatively: step ``j`` has the top ``j``
blocks randomised. The whole cascade is run once per seed (``seeds`` draws, each its own
copy). After each step every method's map is recomputed for the same inputs and the
same, fixed target classes. Per method, step, seed and image:

- ``ssim``, ``spearman``: similarity to the **trained** model's map:
  ``skimage.metrics.structural_similarity(a, b, data_range=1)`` on the ``H×W`` maps,
  and Spearman ``ρ`` of the pixels (average ranks; a constant map has no ordering and
  gets ``NaN``, left out of the means);
- ``agnostic_ssim``, ``agnostic_spearman``: similarity to the method's **class-agnostic
  map** at that step (every channel weight 1, :mod:`medxai.cams.references`); ``NaN`` for
  methods that make no such map (IG and the other input attributions). A map that moves
  towards it as the head is randomised has become a picture of where the features respond;
- ``contrast``: Spearman ``ρ`` with the map of the opposite class (the result's own
  opposite-class map when it has one, else an explicit call for the intact model's
  opposite classes: ``1 − c`` for one logit, the runner-up otherwise).

A method that passes the check has similarities to the trained map that fall as more
blocks are randomised, and its class contrast should not survive a random head.

**Randomisation** (:func:`randomise_module`). Every ``nn.Conv*`` and ``nn.Linear`` in the
block is re-drawn from its own initial distribution (its ``reset_parameters()``,
PyTorch's default initialisers) under a seeded generator. BatchNorm, ``batchnorm=``:

- ``"keep"`` (default): the trained running statistics and affine parameters are kept.
  The random convolutions are then normalised with statistics that no longer fit them,
  which scales the randomised branch as the trained network scaled it;
- ``"redraw"``: every BatchNorm's running mean, running variance (on a log scale), weight
  and bias are re-drawn per channel from a normal distribution with the mean and
  standard deviation of that layer's trained values. The layer keeps its trained scale
  but loses its per-channel structure, and never becomes the identity that a reset
  (mean 0, variance 1, γ 1, β 0) would make of it in eval mode, through which a residual
  block would pass the structure below it unchanged.

**CIs** (:meth:`SanityResult.table`): the mean over seeds × images, with a percentile
bootstrap 95 % CI that resamples seeds and images independently (2000 resamples), so it
covers both the draw of the random weights and the choice of images.

Default blocks: descend from the model through single parameter-holding children (e.g.
a wrapper's ``.model``) to the first module with several; its parameter-holding children,
in registration order (``conv1, bn1, layer1, …, layer4, fc`` for a ResNet), reversed.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skimage.metrics import structural_similarity
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from medxai.cams.references import opposite_classes, spearman
from medxai.cams.targets import Targets
from medxai.metrics._model import evaluation, resolve
from medxai.metrics.bootstrap import Estimate, cell_rng, percentile_interval

__all__ = [
    "BATCHNORM_CHOICES",
    "FIGURES",
    "SanityResult",
    "cascading_randomisation",
    "default_randomisation_blocks",
    "plot_cascading_randomisation",
    "plot_randomisation_curves",
    "randomise_module",
]

ExplainerFactory = Callable[[nn.Module], Any]

#: What :func:`randomise_module` may do with BatchNorm layers (module doc).
BATCHNORM_CHOICES = ("keep", "redraw")
#: The per-map figures of a :class:`SanityResult`, in table order.
FIGURES = ("ssim", "spearman", "agnostic_ssim", "agnostic_spearman", "contrast")
#: Modules whose weights a randomisation re-draws.
REDRAWN = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)


@dataclass
class SanityResult:
    """The figures of a cascading randomisation (module doc).

    Attributes:
        methods: method names (rows).
        steps: the block randomised at each step, top → down; step ``j`` has
            ``steps[:j+1]`` randomised.
        seeds: the number of cascades (randomisation seeds) in the arrays.
        ssim, spearman, agnostic_ssim, agnostic_spearman, contrast: arrays
            ``methods × (1 + steps) × seeds × B``; column 0 is the trained model (the same
            for every seed).
        maps: per method, ``1 + steps`` tensors ``B×1×H×W`` of the lowest cascade: the
            trained map, then each step.
        targets: the ``B`` classes explained throughout.
        batchnorm: the BatchNorm choice.
        seed: the seed the cascades' random weights were drawn from.
        cascades: which cascades of :func:`cascading_randomisation`'s draws the arrays'
            seed axis holds, in order (default ``0 … seeds − 1``). Runs with the same
            ``seed``, blocks, BatchNorm choice and inputs randomise cascade ``k``
            identically, so their results can be :meth:`combine`-d: other methods on the
            same cascades, or the same methods on other cascades.
    """

    methods: list[str]
    steps: list[str]
    seeds: int
    ssim: np.ndarray
    spearman: np.ndarray
    agnostic_ssim: np.ndarray
    agnostic_spearman: np.ndarray
    contrast: np.ndarray
    maps: dict[str, list[Tensor]] = field(repr=False)
    targets: Tensor
    batchnorm: str = "keep"
    seed: int = 0
    cascades: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.cascades:
            self.cascades = list(range(self.seeds))
        if len(self.cascades) != self.seeds:
            raise ValueError(f"{self.seeds} seeds but cascades {self.cascades}")

    def save(self, path: str | Path) -> None:
        """Write the result to ``path`` as a NumPy ``.npz`` (no pickled objects; the maps
        as float16)."""
        arrays: dict[str, np.ndarray] = {f: getattr(self, f) for f in FIGURES}
        for m, method in enumerate(self.methods):
            stacked = torch.stack(self.maps[method]).numpy().astype(np.float16)
            arrays[f"maps_{m}"] = stacked
        np.savez_compressed(
            path,
            methods=np.asarray(self.methods, dtype=str),
            steps=np.asarray(self.steps, dtype=str),
            header=np.asarray([self.seeds, self.seed], dtype=np.int64),
            cascades=np.asarray(self.cascades, dtype=np.int64),
            batchnorm=np.asarray(self.batchnorm),
            targets=self.targets.numpy(),
            **arrays,
        )

    @classmethod
    def load(cls, path: str | Path) -> SanityResult:
        """A result written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            methods = [str(m) for m in data["methods"]]
            seeds, seed = (int(v) for v in data["header"])
            return cls(
                methods=methods,
                steps=[str(s) for s in data["steps"]],
                seeds=seeds,
                maps={
                    method: list(torch.from_numpy(data[f"maps_{m}"].astype(np.float32)))
                    for m, method in enumerate(methods)
                },
                targets=torch.from_numpy(data["targets"]),
                batchnorm=str(data["batchnorm"]),
                seed=seed,
                # files without the key hold cascades 0 … seeds − 1
                cascades=[int(k) for k in data["cascades"]] if "cascades" in data else [],
                **{f: data[f] for f in FIGURES},
            )

    @classmethod
    def combine(cls, results: Sequence[SanityResult]) -> SanityResult:
        """One result from runs with the same seed, blocks, BatchNorm choice and targets
        (the same random weights per cascade): runs of the same methods on other cascades
        are joined along the seed axis (cascades in order; the maps of the lowest), then
        runs of other methods on the same cascades side by side, in order. A
        ``ValueError`` names the first setting that differs."""
        if not results:
            raise ValueError("nothing to combine")
        first = results[0]
        for other in results[1:]:
            for name in ("steps", "seed", "batchnorm"):
                if getattr(other, name) != getattr(first, name):
                    raise ValueError(f"cannot combine runs with different {name}")
            if not torch.equal(other.targets, first.targets):
                raise ValueError("cannot combine runs with different targets")
        groups: dict[tuple[str, ...], list[SanityResult]] = {}
        for r in results:
            groups.setdefault(tuple(r.methods), []).append(r)
        joined = [cls._join_cascades(group) for group in groups.values()]
        methods = [m for r in joined for m in r.methods]
        if len(set(methods)) != len(methods):
            raise ValueError(f"a method appears in runs of different method sets: {methods}")
        if any(r.cascades != joined[0].cascades for r in joined):
            raise ValueError("cannot combine methods run on different cascades")
        return cls(
            methods=methods,
            steps=list(first.steps),
            seeds=joined[0].seeds,
            maps={m: r.maps[m] for r in joined for m in r.methods},
            targets=first.targets,
            batchnorm=first.batchnorm,
            seed=first.seed,
            cascades=list(joined[0].cascades),
            **{f: np.concatenate([getattr(r, f) for r in joined]) for f in FIGURES},
        )

    @classmethod
    def _join_cascades(cls, group: list[SanityResult]) -> SanityResult:
        """Runs of the same methods on disjoint cascades, as one (seed axis in order)."""
        cascades = [k for r in group for k in r.cascades]
        if len(set(cascades)) != len(cascades):
            raise ValueError(f"a cascade appears twice for {group[0].methods}: {cascades}")
        order = np.argsort(cascades, kind="stable")
        lowest = min(group, key=lambda r: min(r.cascades))
        return cls(
            methods=list(group[0].methods),
            steps=list(group[0].steps),
            seeds=len(cascades),
            maps=lowest.maps,
            targets=group[0].targets,
            batchnorm=group[0].batchnorm,
            seed=group[0].seed,
            cascades=sorted(cascades),
            **{
                f: np.concatenate([getattr(r, f) for r in group], axis=2)[:, :, order]
                for f in FIGURES
            },
        )

    def estimate(
        self, figure: str, method: int, step: int, *, resamples: int = 2000, seed: int = 0
    ) -> Estimate:
        """The mean of ``figure`` over seeds × images at ``step`` with its two-way
        bootstrap 95 % CI (module doc); ``n`` counts the finite values."""
        values = getattr(self, figure)[method, step]
        return two_way_mean_ci(
            values, resamples=resamples, rng=cell_rng(seed, f"{method}/{step}/{figure}")
        )

    def table(self, *, resamples: int = 2000) -> list[dict[str, Any]]:
        """One row per (method, step): each figure's mean and CI bounds."""
        rows = []
        for m, method in enumerate(self.methods):
            for s, step in enumerate(["original", *self.steps]):
                row: dict[str, Any] = {"method": method, "step": s, "randomised": step}
                for figure in FIGURES:
                    est = self.estimate(figure, m, s, resamples=resamples)
                    row[figure] = est.mean
                    row[f"{figure}_low"], row[f"{figure}_high"] = est.low, est.high
                rows.append(row)
        return rows


def two_way_mean_ci(
    values: np.ndarray, *, resamples: int = 2000, level: float = 0.95, rng: np.random.Generator
) -> Estimate:
    """The mean of the finite entries of a ``seeds × images`` array, and its percentile
    bootstrap CI resampling seeds and images independently (with replacement)."""
    data = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(data)
    n = int(finite.sum())
    if n == 0:
        return Estimate(0, math.nan, math.nan, math.nan)
    mean = float(data[finite].mean())
    n_seeds, n_images = data.shape
    means = np.empty(resamples)
    for b in range(resamples):
        rows = rng.integers(0, n_seeds, n_seeds)
        cols = rng.integers(0, n_images, n_images)
        sample = data[np.ix_(rows, cols)]
        ok = np.isfinite(sample)
        means[b] = sample[ok].mean() if ok.any() else math.nan
    means = means[np.isfinite(means)]
    if means.size < max(1, resamples // 2):
        return Estimate(n, mean, math.nan, math.nan)
    return Estimate(n, mean, *percentile_interval(means, level))


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


def _redraw_like(t: Tensor, generator: torch.Generator, *, log: bool = False) -> Tensor:
    """Per-entry draws from ``N(mean(t), std(t))`` (of ``log t`` when ``log``)."""
    values = t.detach().double().cpu()
    if log:
        values = values.clamp_min(1e-12).log()
    std = float(values.std()) if values.numel() > 1 else 0.0
    noise = torch.randn(values.shape, generator=generator, dtype=torch.float64)
    drawn = float(values.mean()) + std * noise
    if log:
        drawn = drawn.exp()
    return drawn.to(dtype=t.dtype, device=t.device)


def randomise_module(module: nn.Module, seed: int, *, batchnorm: str = "keep") -> None:
    """Re-draw the conv and linear weights of ``module`` (and its BatchNorm layers with
    ``batchnorm="redraw"``), in place, seeded by ``seed`` (module doc)."""
    if batchnorm not in BATCHNORM_CHOICES:
        raise ValueError(f"batchnorm must be one of {BATCHNORM_CHOICES}, got {batchnorm!r}")
    generator = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(int(seed))
        for sub in module.modules():
            if isinstance(sub, REDRAWN):
                sub.reset_parameters()
            elif isinstance(sub, _BatchNorm) and batchnorm == "redraw":
                if sub.running_mean is not None and sub.running_var is not None:
                    sub.running_mean.copy_(_redraw_like(sub.running_mean, generator))
                    sub.running_var.copy_(_redraw_like(sub.running_var, generator, log=True))
                if sub.affine:
                    sub.weight.copy_(_redraw_like(sub.weight, generator))
                    sub.bias.copy_(_redraw_like(sub.bias, generator))


def _ssim(a: Tensor, b: Tensor) -> np.ndarray:
    return np.asarray(
        [
            structural_similarity(x, y, data_range=1.0)
            for x, y in zip(a[:, 0].double().numpy(), b[:, 0].double().numpy())
        ]
    )


def _explainer_factories(
    methods: Sequence[str] | Mapping[str, ExplainerFactory], options: Mapping[str, Any]
) -> dict[str, ExplainerFactory]:
    if isinstance(methods, Mapping):
        return dict(methods)
    from medxai.cams.registry import create

    def factory_for(name: str) -> ExplainerFactory:
        return lambda model: create(name, model, **dict(options.get(name, {})))

    return {name: factory_for(name) for name in methods}


@dataclass
class _Maps:
    saliency: Tensor
    agnostic: Tensor | None
    opposite: Tensor | None


def _explain(factory: ExplainerFactory, model: nn.Module, x: Tensor, fixed, opposite) -> _Maps:
    """One method's map, class-agnostic map and opposite-class map on ``model``."""
    explainer = factory(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = explainer(x, targets=fixed)
        references = getattr(result, "references", None)
        agnostic = None if references is None else references.class_agnostic
        other = None if references is None else references.opposite
        if other is None and opposite is not None:
            other = explainer(x, targets=opposite).saliency
    cpu = lambda t: None if t is None else t.detach().float().cpu()  # noqa: E731
    return _Maps(cpu(result.saliency), cpu(agnostic), cpu(other))


def cascading_randomisation(
    model: nn.Module,
    x: Tensor,
    methods: Sequence[str] | Mapping[str, ExplainerFactory],
    targets: Targets = None,
    *,
    blocks: Sequence[str] | None = None,
    seed: int = 0,
    seeds: int = 5,
    batchnorm: str = "keep",
    method_options: Mapping[str, Mapping[str, Any]] | None = None,
    cascades: Sequence[int] | None = None,
) -> SanityResult:
    """Run the cascading randomisation check (module doc) on deep copies of ``model``.

    Args:
        model: the classifier; left unchanged (parameters, buffers, flags).
        x: ``B×C×H×W`` normalised inputs.
        methods: registry names (built with ``medxai.cams.create(name, model_copy,
            **method_options[name])``), or a mapping name → ``factory(model)``.
        targets: resolved once on the intact model; the same classes are explained at
            every step.
        blocks: names of the modules to randomise, top → down; default
            :func:`default_randomisation_blocks`.
        seed: seeds the generator that draws one re-initialisation seed per cascade and
            step.
        seeds: the number of cascades (independent draws of the random weights).
        batchnorm: ``"keep"`` or ``"redraw"`` (:func:`randomise_module`).
        cascades: run only these of the ``seeds`` cascades (their draws are those of the
            whole run), e.g. to spread one run over processes and
            :meth:`SanityResult.combine` the parts; default all.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    if batchnorm not in BATCHNORM_CHOICES:
        raise ValueError(f"batchnorm must be one of {BATCHNORM_CHOICES}, got {batchnorm!r}")
    factories = _explainer_factories(methods, method_options or {})
    names = list(blocks) if blocks is not None else default_randomisation_blocks(model)
    intact = copy.deepcopy(model)
    modules = dict(intact.named_modules())
    if unknown := [name for name in names if name not in modules]:
        raise ValueError(f"unknown modules to randomise: {unknown}")
    with evaluation(intact):
        spec, _ = resolve(intact, x, targets)
        logits = intact(x)
    fixed: Targets = targets if spec.fn is not None else spec.classes
    opposite = None if spec.fn is not None else opposite_classes(logits, spec.classes)

    chosen = list(range(seeds)) if cascades is None else [int(k) for k in cascades]
    if not chosen or any(not 0 <= k < seeds for k in chosen) or len(set(chosen)) != len(chosen):
        raise ValueError(f"cascades must be distinct indices below {seeds}, got {cascades}")
    n_methods, n_steps, batch = len(factories), len(names) + 1, x.shape[0]
    arrays = {f: np.full((n_methods, n_steps, len(chosen), batch), np.nan) for f in FIGURES}
    trained = {m: _explain(f, intact, x, fixed, opposite) for m, f in factories.items()}
    maps = {m: [t.saliency] for m, t in trained.items()}

    def record(step: int, k: int, current: dict[str, _Maps]) -> None:
        for m, method in enumerate(factories):
            now, ref = current[method], trained[method].saliency
            arrays["ssim"][m, step, k] = _ssim(ref, now.saliency)
            arrays["spearman"][m, step, k] = spearman(ref, now.saliency).numpy()
            if now.agnostic is not None:
                arrays["agnostic_ssim"][m, step, k] = _ssim(now.agnostic, now.saliency)
                rho = spearman(now.agnostic, now.saliency).numpy()
                arrays["agnostic_spearman"][m, step, k] = rho
            if now.opposite is not None:
                arrays["contrast"][m, step, k] = spearman(now.saliency, now.opposite).numpy()

    # large per-step seeds drawn from ``seed``: a small seed such as the one that built
    # an untrained model would re-create the very same weights
    draws = torch.randint(
        2**62, (seeds, len(names)), generator=torch.Generator().manual_seed(seed)
    )
    for k, cascade in enumerate(chosen):
        record(0, k, trained)
        copy_model = copy.deepcopy(model)
        copy_modules = dict(copy_model.named_modules())
        for s, (name, step_seed) in enumerate(zip(names, draws[cascade].tolist()), start=1):
            randomise_module(copy_modules[name], step_seed, batchnorm=batchnorm)
            current = {
                m: _explain(f, copy_model, x, fixed, opposite) for m, f in factories.items()
            }
            record(s, k, current)
            if cascade == min(chosen):  # the maps of the lowest cascade
                for method, now in current.items():
                    maps[method].append(now.saliency)
    return SanityResult(
        methods=list(factories),
        steps=names,
        seeds=len(chosen),
        maps=maps,
        targets=spec.classes,
        batchnorm=batchnorm,
        seed=seed,
        cascades=chosen,
        **arrays,
    )


def plot_cascading_randomisation(result: SanityResult, sample: int = 0) -> Any:
    """A matplotlib figure: rows = methods, columns = intact model then each step (the
    first seed's maps). Each panel is titled with the block and its SSIM / Spearman ``ρ``.
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
                    f"\nSSIM {result.ssim[m, s, 0, sample]:.2f}"
                    f" ρ {result.spearman[m, s, 0, sample]:.2f}"
                )
            ax.set_title(title, fontsize=7)
            if s == 0:
                ax.set_ylabel(method, fontsize=8)
    fig.tight_layout()
    return fig


def plot_randomisation_curves(result: SanityResult, *, resamples: int = 2000) -> Any:
    """Arun et al. (2021) style: one panel per figure (SSIM and ρ to the trained map, ρ to
    the class-agnostic map, class contrast), x = cumulative randomisation step, one line
    per method with its 95 % CI band."""
    import matplotlib.pyplot as plt

    panels = [
        ("ssim", "SSIM to the trained map"),
        ("spearman", "ρ to the trained map"),
        ("agnostic_spearman", "ρ to the class-agnostic map"),
        ("contrast", "ρ with the opposite class's map"),
    ]
    steps = ["original", *result.steps]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.0 * len(panels), 3.4), squeeze=False)
    for ax, (figure, title) in zip(axes[0], panels):
        for m, method in enumerate(result.methods):
            est = [result.estimate(figure, m, s, resamples=resamples) for s in range(len(steps))]
            mean = np.array([e.mean for e in est])
            if not np.isfinite(mean).any():
                continue
            colour = f"C{m % 10}"  # one colour per method in every panel
            ax.plot(range(len(steps)), mean, marker="o", ms=3, label=method, color=colour)
            ax.fill_between(
                range(len(steps)), [e.low for e in est], [e.high for e in est], alpha=0.2,
                color=colour,
            )  # fmt: skip
        ax.set_xticks(range(len(steps)))
        ax.set_xticklabels(steps, rotation=60, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.axhline(0.0, color="grey", lw=0.5)
        ax.set_ylim(-1.05, 1.05)
    axes[0][0].legend(fontsize=7)  # the first panel (SSIM) has a line for every method
    fig.tight_layout()
    return fig
