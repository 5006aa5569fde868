"""Comparison methods over torchcam and captum, behind medxai's one call signature.

``medxai.cams.create(name, model, **options)(x, targets=None)`` returns a
:class:`~medxai.cams.result.SaliencyResult` whose ``saliency`` is ``B×1×H×W`` in
``[0, 1]``, as for CAM and Poly-CAM. torchcam and captum are imported only when a method
is built, so ``import medxai`` works without them (``pip install 'medxai[baselines]'``).

Score explained (both libraries): the **class logit**, as in the Poly-CAM paper's
comparisons (models without a softmax). For a single-logit head ``z`` the logit of class
1 is ``z`` and that of class 0 is ``−z`` (the log-odds of each class), i.e. the head is
viewed as the two logits ``(−z, z)``. A callable target is explained as given.
``result.scores`` is still the class probability (softmax / sigmoid), like every method.

Maps:

- torchcam methods run on the last spatial feature layer (the deepest layer found by
  :func:`medxai.cams.layers.discover_target_layers`, or ``target_layers``); their raw
  layer map (torchcam's ReLU included where the method has one) is resized bilinearly
  to ``H×W``.
- captum attributions ``B×C×H×W`` are summed over channels (signed), as in the Poly-CAM
  paper's comparisons; ``smoothgrad`` sums absolute gradients (captum's ``Saliency``
  takes ``|·|``), ``occlusion`` sums the score drop of every channel.
- Every map is then min–max normalised per sample, ``(m − min m)/(max m − min m)``; a
  constant map becomes all zeros.

Settings (each overridable by keyword through ``create``):

========================  ======================================================
``gradcam``               torchcam ``GradCAM``
``gradcam++``             torchcam ``GradCAMpp``
``smoothgradcam++``       torchcam ``SmoothGradCAMpp`` (``num_samples=4, std=0.3``)
``scorecam``              torchcam ``ScoreCAM`` (``batch_size=32``)
``sscam``                 torchcam ``SSCAM`` (``batch_size=32, num_samples=35, std=2``)
``iscam``                 torchcam ``ISCAM`` (``batch_size=32, num_samples=10``)
``layercam``              torchcam ``LayerCAM``
``ixg``                   captum ``InputXGradient``
``ig``                    captum ``IntegratedGradients`` (``n_steps=50``, zero baseline
                          = the mean colour, ``batch_size=64`` internal batch)
``smoothgrad``            captum ``NoiseTunnel(Saliency)`` (``nt_samples=50``,
                          ``stdevs=1.0``, ``batch_size=64`` samples per pass)
``occlusion``             captum ``Occlusion`` (``window=64``, ``stride=8``, baseline 0)
========================  ======================================================

Reference maps (``result.references``, :mod:`medxai.cams.references`), read from the
passes the map already made; none adds a forward or backward pass:

- **class-agnostic map** (torchcam methods): ``ReLU(Σ_k A_k)`` of the feature layer's
  activations in the method's own forward pass (every channel weight 1), resized and
  min–max normalised as the map is. Input attributions have no channel weights: none.
- **opposite-class map**, single-logit head and class targets only (the class ``1 − c``,
  whose logit is ``−z``): its gradients are those of ``z`` negated, so
  ``gradcam``, ``gradcam++`` and ``layercam`` re-run torchcam's own weighting on the
  negated gradients of the same backward pass; ``ig``, ``ixg`` and ``occlusion`` are
  linear in the explained score, so their attributions are negated; ``smoothgrad`` takes
  ``|·|`` of the gradients, so its map is the same. Each equals an explicit call for
  ``1 − c`` (tests/cams/test_references_baselines.py). Not computed: the runner-up of a
  multi-logit head (another backward pass), ``smoothgradcam++`` (its gradients come from
  noisy passes inside torchcam) and the score-based ``scorecam``, ``sscam``, ``iscam``
  (their masked scores are of one class).

SmoothGrad's ``σ = 1.0`` is in the normalised input space (captum's default, the value
behind the Poly-CAM paper's comparison); for ImageNet normalisation the value range is
about ``[−2.1, 2.6]``, so ``σ`` is about 21% of it, the top of the 10–20% band Smilkov
et al. recommend. Occlusion windows and strides larger than the image are clipped to its
size (a 64×64 window on a 32×32 input occludes the whole input).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from medxai.cams.hooks import capture_outputs, eval_mode
from medxai.cams.layers import check_layer_names, discover_target_layers
from medxai.cams.references import opposite_classes, reference_maps
from medxai.cams.registry import register
from medxai.cams.result import SaliencyResult
from medxai.cams.targets import Targets, TargetSpec, resolve_targets
from medxai.errors import DependencyError

__all__ = [
    "METHODS",
    "LibraryExplainer",
    "LibraryMethod",
    "class_logit",
    "minmax_per_sample",
    "require",
]


def require(package: str) -> Any:
    """Import ``package`` or raise :class:`DependencyError` naming the extra to install."""
    try:
        return importlib.import_module(package)
    except ImportError as error:
        raise DependencyError(
            f"this saliency method needs {package.split('.')[0]}: "
            "pip install 'medxai[baselines]'"
        ) from error


def class_logit(logits: Tensor, classes: Tensor) -> Tensor:
    """The logit of ``classes[i]`` for each row: ``logits[i, c]``; for one logit ``z``,
    ``z`` for class 1 and ``−z`` for class 0."""
    if logits.ndim == 1:
        logits = logits[:, None]
    return two_logit_view(logits).gather(1, classes.to(logits.device).long()[:, None])[:, 0]


def two_logit_view(logits: Tensor) -> Tensor:
    """``B×K`` logits unchanged for ``K > 1``; ``(−z, z)`` for a single logit ``z``."""
    if logits.ndim == 1:
        logits = logits[:, None]
    return torch.cat([-logits, logits], dim=1) if logits.shape[1] == 1 else logits


def minmax_per_sample(maps: Tensor) -> Tensor:
    """``(m − min m) / (max m − min m)`` over each sample's map; constant maps → 0."""
    flat = maps.flatten(1)
    low = flat.amin(dim=1, keepdim=True)
    span = flat.amax(dim=1, keepdim=True) - low
    scaled = torch.where(span > 0, (flat - low) / span.clamp_min(1e-30), torch.zeros_like(flat))
    return scaled.view_as(maps).clamp(0.0, 1.0)


@dataclass(frozen=True)
class LibraryMethod:
    """One comparison method: which library class, and its default settings."""

    library: str  # "torchcam" or "captum"
    cls: str  # class name in ``torchcam.methods`` or ``captum.attr``
    defaults: Mapping[str, Any] = field(default_factory=dict)


METHODS: dict[str, LibraryMethod] = {
    "gradcam": LibraryMethod("torchcam", "GradCAM"),
    "gradcam++": LibraryMethod("torchcam", "GradCAMpp"),
    "smoothgradcam++": LibraryMethod("torchcam", "SmoothGradCAMpp", {"num_samples": 4, "std": 0.3}),
    "scorecam": LibraryMethod("torchcam", "ScoreCAM", {"batch_size": 32}),
    "sscam": LibraryMethod("torchcam", "SSCAM", {"batch_size": 32, "num_samples": 35, "std": 2.0}),
    "iscam": LibraryMethod("torchcam", "ISCAM", {"batch_size": 32, "num_samples": 10}),
    "layercam": LibraryMethod("torchcam", "LayerCAM"),
    "ixg": LibraryMethod("captum", "InputXGradient"),
    "ig": LibraryMethod("captum", "IntegratedGradients", {"n_steps": 50, "batch_size": 64}),
    "smoothgrad": LibraryMethod(
        "captum", "Saliency", {"nt_samples": 50, "stdevs": 1.0, "batch_size": 64}
    ),
    "occlusion": LibraryMethod(
        "captum", "Occlusion", {"window": 64, "stride": 8, "batch_size": 64}
    ),
}

#: torchcam methods whose weights are a function of one backward pass's gradients (and the
#: activations): their opposite-class map re-weights with the gradients negated.
GRADIENT_WEIGHTED = ("gradcam", "gradcam++", "layercam")
#: captum methods whose attributions are linear in the explained score.
SCORE_LINEAR = ("ig", "ixg", "occlusion")
#: captum methods whose map is the same for ``z`` and ``−z`` (``|gradient|``).
SIGN_FREE = ("smoothgrad",)

ALIASES: dict[str, tuple[str, ...]] = {
    "gradcam++": ("gradcampp",),
    "smoothgradcam++": ("smoothgradcampp",),
    "ixg": ("inputxgradient",),
    "ig": ("integratedgradients",),
    "smoothgrad": ("sg",),
}


def _captum_attribute(
    name: str, forward: Callable[[Tensor], Tensor], x: Tensor, target: Tensor, s: Mapping
) -> Tensor:
    """Run captum method ``name`` with settings ``s``; returns ``B×C×H×W`` attributions."""
    attr = require("captum.attr")
    if name == "ixg":
        return attr.InputXGradient(forward).attribute(x, target=target)
    if name == "ig":
        return attr.IntegratedGradients(forward).attribute(
            x, target=target, n_steps=s["n_steps"], internal_batch_size=s["batch_size"]
        )
    if name == "smoothgrad":
        return attr.NoiseTunnel(attr.Saliency(forward)).attribute(
            x,
            target=target,
            nt_type="smoothgrad",
            nt_samples=s["nt_samples"],
            stdevs=float(s["stdevs"]),
            nt_samples_batch_size=s["batch_size"],
        )
    if name == "occlusion":
        channels, height, width = x.shape[1:]
        window = (channels, min(s["window"], height), min(s["window"], width))
        stride = (channels, min(s["stride"], height), min(s["stride"], width))
        return attr.Occlusion(forward).attribute(
            x,
            target=target,
            sliding_window_shapes=window,
            strides=stride,
            baselines=0.0,
            perturbations_per_eval=s["batch_size"],
        )
    raise ValueError(f"no captum adapter for {name!r}")


class LibraryExplainer:
    """A torchcam or captum method (see :data:`METHODS`) with medxai's call signature.

    Args:
        model: the classifier.
        method: a key of :data:`METHODS`.
        target_layers: torchcam methods: the feature layer (a name, or a list whose last
            name is used); default the deepest discovered layer. ``feature_layer`` is an
            alias.
        input_size: spatial size of the dummy input used to discover the layer.
        seed: seeds the random noise of ``smoothgradcam++``, ``sscam`` and ``smoothgrad``
            for each call (``None``: the global generator, unchanged).
        **options: overrides of the method's settings (see the module doc).

    Raises:
        TypeError: an option the method does not have.
        DependencyError: torchcam/captum is not installed.
    """

    def __init__(
        self,
        model: nn.Module,
        method: str,
        *,
        target_layers: str | Sequence[str] | None = None,
        feature_layer: str | None = None,
        input_size: tuple[int, int] = (224, 224),
        seed: int | None = 0,
        **options: Any,
    ) -> None:
        self.method = method
        self.seed = seed
        self.spec = METHODS[method]
        if unknown := sorted(set(options) - set(self.spec.defaults)):
            raise TypeError(
                f"{method} has no option(s) {unknown}; options: {sorted(self.spec.defaults)}"
            )
        self.settings = {**self.spec.defaults, **options}
        self.model = model
        self._library = require(
            "torchcam.methods" if self.spec.library == "torchcam" else "captum.attr"
        )
        self.feature_layer: str | None = None
        if self.spec.library == "torchcam":
            if feature_layer is None and target_layers is not None:
                names = [target_layers] if isinstance(target_layers, str) else target_layers
                feature_layer = list(names)[-1]
            if feature_layer is None:
                with eval_mode(model):
                    feature_layer = discover_target_layers(model, input_size)[-1]
            self.feature_layer = check_layer_names(model, [feature_layer])[0]

    @property
    def target_layers(self) -> list[str]:
        """``[feature_layer]`` for torchcam methods; ``[]`` for input attributions."""
        return [] if self.feature_layer is None else [self.feature_layer]

    def __call__(self, x: Tensor, targets: Targets = None) -> SaliencyResult:
        """Explain ``targets`` for ``x`` (``B×C×H×W``, normalised for the model)."""
        if not isinstance(x, Tensor) or x.ndim != 4:
            raise ValueError("expected a B×C×H×W tensor")
        with eval_mode(self.model):
            with torch.no_grad():
                logits = self.model(x)
            spec = resolve_targets(targets, logits)
            single_logit = logits.ndim == 1 or logits.shape[1] == 1
            opposite = spec.fn is None and single_logit
            with torch.random.fork_rng(devices=[x.device] if x.is_cuda else []):
                if self.seed is not None:
                    torch.manual_seed(self.seed)
                if self.spec.library == "torchcam":
                    raw, agnostic, other = self._torchcam_maps(x, spec, opposite)
                else:
                    raw, agnostic, other = self._captum_maps(x, spec, opposite)
        saliency = _to_map(raw, x)
        references = None
        if agnostic is not None or other is not None:
            references = reference_maps(
                saliency,
                None if agnostic is None else _to_map(agnostic, x),
                None if other is None else _to_map(other, x),
                None if other is None else opposite_classes(logits, spec.classes),
            )
        return SaliencyResult(
            saliency=saliency,
            levels=[saliency],
            targets=spec.classes.clone(),
            scores=spec.score(logits.detach()).float(),
            method=self.method,
            settings={
                **self.settings,
                "library": self.spec.library,
                "class": self.spec.cls,
                "score": "class logit",
                "seed": self.seed,
                **({"feature_layer": self.feature_layer} if self.feature_layer else {}),
            },
            references=references,
        )

    # -- torchcam ------------------------------------------------------------------------
    def _sample_targets(self, spec: TargetSpec, batch: int) -> list[Callable[[Tensor], Tensor]]:
        """One torchcam target per sample: a sample's output (``K``) → its class logit."""
        if spec.fn is not None:
            fn = spec.fn
            return [lambda out, fn=fn: fn(out[None]).reshape(())] * batch
        return [
            lambda out, c=spec.classes[i : i + 1]: class_logit(out[None], c)[0]
            for i in range(batch)
        ]

    def _torchcam_maps(
        self, x: Tensor, spec: TargetSpec, opposite: bool
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """The method's raw layer map, the class-agnostic ``ReLU(Σ_k A_k)`` of the same
        forward pass and, with ``opposite`` for a gradient-weighted method, the map of
        class ``1 − c`` from the negated gradients (module doc)."""
        extractor_cls = getattr(self._library, self.spec.cls)
        extractor = extractor_cls(
            self.model, target_layer=self.feature_layer, input_shape=tuple(x.shape[1:]),
            **self.settings,
        )
        other = None
        try:
            with torch.enable_grad():
                x_in = x.detach().clone().requires_grad_(True)
                with capture_outputs(self.model, [self.feature_layer]) as recorder:
                    out = self.model(x_in)
                maps = extractor(
                    scores=out, normalized=False, targets=self._sample_targets(spec, len(x))
                )[0]
            if opposite and self.method in GRADIENT_WEIGHTED:
                other = _with_negated_gradients(extractor, out, len(x))
        finally:
            extractor.remove_hooks()
            extractor.reset_hooks()
        features = recorder.outputs[self.feature_layer].float()
        agnostic = torch.relu(features.sum(dim=1, keepdim=True))
        return _channel_dim(maps), agnostic, None if other is None else _channel_dim(other)

    # -- captum --------------------------------------------------------------------------
    def _captum_maps(
        self, x: Tensor, spec: TargetSpec, opposite: bool
    ) -> tuple[Tensor, None, Tensor | None]:
        """The channel-summed attributions, no class-agnostic map, and with
        ``opposite`` the map of class ``1 − c`` read off them (module doc)."""
        if spec.fn is not None:
            fn = spec.fn

            def forward(inp: Tensor) -> Tensor:
                return fn(self.model(inp)).reshape(-1, 1)

            target = torch.zeros(len(x), dtype=torch.long)
        else:

            def forward(inp: Tensor) -> Tensor:
                return two_logit_view(self.model(inp))

            target = spec.classes
        with torch.enable_grad():
            attributions = _captum_attribute(
                self.method,
                forward,
                x.detach().clone().requires_grad_(True),
                target.to(x.device),
                self.settings,
            )
        raw = attributions.sum(dim=1, keepdim=True)
        other = None
        if opposite and self.method in SCORE_LINEAR:
            other = -raw
        elif opposite and self.method in SIGN_FREE:
            other = raw
        return raw, None, other


def _channel_dim(maps: Tensor) -> Tensor:
    """torchcam's ``B×h×w`` layer maps as ``B×1×h×w``."""
    return maps[:, None] if maps.ndim == 3 else maps


def _to_map(raw: Tensor, x: Tensor) -> Tensor:
    """A raw map ``B×1×h×w`` as the method's ``B×1×H×W`` map in ``[0, 1]``: NaN → 0,
    bilinear resize to the input's size, per-sample min–max."""
    raw = torch.nan_to_num(raw.detach().float())
    if tuple(raw.shape[-2:]) != tuple(x.shape[-2:]):
        raw = F.interpolate(raw, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return minmax_per_sample(raw)


def _with_negated_gradients(extractor: Any, scores: Tensor, batch: int) -> Tensor:
    """torchcam's map of ``extractor`` with the gradients of its last backward pass
    negated: the map of ``−z`` for a single logit ``z``, without a new pass. torchcam's
    weighting (``_get_weights``) starts with a backward pass (``_backprop``); here that
    step replays the stored gradients, negated, instead."""
    negated = [-g for g in extractor.hook_g]

    def replay(*_args: Any, **_kwargs: Any) -> None:
        for index, gradient in enumerate(negated):
            extractor.hook_g[index] = gradient

    extractor._backprop = replay
    targets = [lambda out: out.reshape(-1)[0]] * batch  # unused by the replay
    return extractor.compute_cams(scores=scores, normalized=False, targets=targets)[0]


def _factory(method: str) -> Callable[..., LibraryExplainer]:
    def build(model: nn.Module, **options: Any) -> LibraryExplainer:
        return LibraryExplainer(model, method, **options)

    build.__name__ = f"create_{method}"
    build.__doc__ = f"Build the {method!r} comparison method (see medxai.cams.baselines)."
    return build


for _name, _spec in METHODS.items():
    _accepts = ("input_size", "seed", *(("batch_size",) if "batch_size" in _spec.defaults else ()))
    register(_name, *ALIASES.get(_name, ()), accepts=_accepts)(_factory(_name))
