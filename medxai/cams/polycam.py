"""Poly-CAM (Englebert et al., ICPR 2022): PCAM+, PCAM− and PCAM±, as fixed by
docs/polycam.md.

For target layers ``l = 1..n`` (shallow → deep) with activations ``A_l`` (``K_l×h_l×w_l``):

1. one baseline forward pass gives ``s0 = s(X)`` and every ``A_l``;
2. each channel gives a mask ``M_lk = Up_{H×W}(N(A_lk))`` (``N``: percentile normaliser);
3. masked passes give ``sp_k = s(X ⊙ M_lk)`` and/or ``sm_k = s(X ⊙ (1 - M_lk))``;
4. a variant's :class:`~medxai.cams.weights.WeightRule` makes ``w_lk`` from
   ``(s0, sp_k, sm_k)``;
5. layer maps ``L_l = ReLU(Σ_k w_lk A_lk)`` are fused deep → shallow
   (:mod:`medxai.cams.fusion`), and each level is reported as ``O_l = Up_{H×W}(N(P_l))``,
   deep → shallow, the last being the saliency map.

Fast mode (``channel_budget=k``) scores only ``k`` channels of each layer and gives the
others weight 0. ``channel_selection`` picks them:

- ``"peak"`` (default): the ``k`` channels with the largest peak activation
  ``â_lk = max_{ij} |A_lk(i, j)|``;
- ``"mass"``: the ``k`` channels with the largest mean activation
  ``ā_lk = mean_{ij} |A_lk(i, j)|``.

Both are free (they read the activations the baseline pass recorded) and both rest on the
same bound: every Poly-CAM weight is bounded (``0 ≤ w ≤ 1`` for PCAM+ and PCAM−, ``≤ 2``
for PCAM±), so leaving channel ``k`` out changes the layer map ``L_l = Σ_k w_lk A_lk`` by
at most ``w_max·|A_lk|`` at every pixel. What differs is the norm the bound is minimised
in. ``"mass"`` minimises the bound on the *mean* change, ``Σ_{k∉S} ā_lk``; ``"peak"``
minimises the bound on the *largest* change at any pixel, ``Σ_{k∉S} â_lk``. The saliency
map depends on a layer map through its shape, not its mean: each level is divided by
its local mean (LNorm), multiplied into the fused map and normalised by its 99.9th
percentile, i.e. by its peak, so a pixel's rank is set by where the layer maps peak.
A channel with a strong, localised response (a small mask with a large activation) moves
that peak; a channel of diffuse, moderate activation adds an almost flat term that
LNorm and the normalisation largely remove, yet it is what ``"mass"`` keeps first. On
a phantom-trained ResNet-18 the mean ranking lost the map's ordering on some images
(Spearman with the exact map below 0 at 16 channels per layer) while the peak ranking
kept it (docs/benchmarks.md, "Fast mode on a trained model"). ``"mass"`` is kept for
comparison. The activation mass left out is reported per layer, as a share of the
layer's total, in ``result.settings["omitted_activation_share"]``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from medxai.cams.core import HookedExplainer
from medxai.cams.fusion import fuse, layer_map, resize
from medxai.cams.layers import check_layer_names, discover_target_layers
from medxai.cams.masked import MaskedScorer
from medxai.cams.normalize import percentile_normalize
from medxai.cams.registry import register
from medxai.cams.result import SaliencyResult
from medxai.cams.targets import Targets, TargetSpec, class_probability, resolve_targets
from medxai.cams.weights import MINUS, PLUS, PLUS_MINUS, WeightRule

VARIANTS: dict[str, WeightRule] = {rule.name: rule for rule in (PLUS, MINUS, PLUS_MINUS)}


def _peak(activations: Tensor) -> Tensor:
    """``max_ij |A_k(i, j)|`` per channel of a ``B×K×h×w`` activation (``B×K``)."""
    return activations.abs().flatten(2).amax(-1)


def _mass(activations: Tensor) -> Tensor:
    """``mean_ij |A_k(i, j)|`` per channel of a ``B×K×h×w`` activation (``B×K``)."""
    return activations.abs().mean(dim=(-2, -1))


#: Fast-mode channel rankings (``channel_selection``): name → ``B×K`` channel scores.
CHANNEL_SELECTIONS: dict[str, Callable[[Tensor], Tensor]] = {"peak": _peak, "mass": _mass}


class PolyCAM(HookedExplainer):
    """Poly-CAM saliency for any CNN classifier; no gradients needed.

    Args:
        model: the classifier (logits ``B×K``, or ``B``/``B×1`` for a single-logit head).
        variant: ``"pcam+"``, ``"pcam-"`` or ``"pcam±"`` (or a :class:`WeightRule`).
        target_layers: module names, shallow → deep; ``None`` discovers them
            (:func:`~medxai.cams.layers.discover_target_layers`).
        lnorm: divide each layer map by its local mean before fusion (LNorm).
        batch_size: images per masked forward pass.
        max_batch_bytes: optional cap on the masked-input buffer; lowers ``batch_size``
            so that ``batch_size·C·H·W·itemsize ≤ max_batch_bytes``.
        channel_budget: fast mode; score only this many channels per layer (see the module
            docstring). ``None`` (default) is exact.
        channel_selection: how fast mode ranks the channels of a layer: ``"peak"`` (the
            largest activation, default) or ``"mass"`` (the mean absolute activation).
        channels_last: run the masked passes in ``torch.channels_last`` (inputs and a
            converted copy of the model; the caller's model is left as it is). ``None``
            picks it on CUDA and CPU, where it measured faster (docs/benchmarks.md).
        autocast: ``"bf16"`` (or ``"fp16"``) to run every forward pass under autocast.
        intermediate: also return the unfused layer maps, normalised and upsampled,
            ``Up_{H×W}(N(L_l))`` (``result.intermediate``; the published code returns the
            raw ``L_l``, docs/polycam.md).
        input_size: spatial size of the dummy input used to discover target layers.

    Calling ``explainer(x, targets)`` accepts the targets of
    :mod:`medxai.cams.targets`; a callable target must score each row of the logits on
    its own (masked copies of different samples share a batch). The result holds the
    levels ``O_l`` deep → shallow (``saliency`` is the last), and ``settings`` records the
    options and the work done (``baseline_passes``, ``masked_passes``,
    ``masked_forward_calls``, ``shared_constant_channels``).
    """

    def __init__(
        self,
        model: nn.Module,
        variant: str | WeightRule = "pcam±",
        *,
        target_layers: Sequence[str] | None = None,
        lnorm: bool = True,
        batch_size: int = 64,
        max_batch_bytes: int | None = None,
        channel_budget: int | None = None,
        channel_selection: str = "peak",
        channels_last: bool | None = None,
        autocast: str | None = None,
        intermediate: bool = False,
        input_size: tuple[int, int] = (224, 224),
    ) -> None:
        super().__init__(model, autocast=autocast)
        self.rule = VARIANTS[variant] if isinstance(variant, str) else variant
        self.method = self.rule.name
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if channel_budget is not None and channel_budget < 1:
            raise ValueError(f"channel_budget must be at least 1, got {channel_budget}")
        if channel_selection not in CHANNEL_SELECTIONS:
            raise ValueError(
                f"channel_selection must be one of {sorted(CHANNEL_SELECTIONS)}, "
                f"got {channel_selection!r}"
            )
        self.lnorm = lnorm
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.channel_budget = channel_budget
        self.channel_selection = channel_selection
        self.channels_last = channels_last
        self.intermediate = intermediate
        if target_layers is None:
            self._target_layers = discover_target_layers(model, input_size)
        else:
            if isinstance(target_layers, str):
                target_layers = [target_layers]
            self._target_layers = check_layer_names(model, target_layers)
        if not self._target_layers:
            raise ValueError("target_layers is empty")

    @property
    def target_layers(self) -> list[str]:
        """The target layer names, shallow → deep."""
        return list(self._target_layers)

    # -- pieces ------------------------------------------------------------------------
    def _capacity(self, x: Tensor) -> int:
        capacity = self.batch_size
        if self.max_batch_bytes is not None:
            per_image = x[0].numel() * x.element_size()
            capacity = min(capacity, max(1, self.max_batch_bytes // per_image))
        return max(capacity, 2 if self.rule.needs_plus and self.rule.needs_minus else 1)

    def _use_channels_last(self, x: Tensor) -> bool:
        if self.channels_last is not None:
            return self.channels_last
        return x.device.type in ("cpu", "cuda")

    def _selected(self, activations: list[Tensor]) -> tuple[list[Tensor], list[float]]:
        """Channels to score per layer (``B×K`` bool) and the omitted activation share."""
        chosen, omitted = [], []
        for acts in activations:
            batch, k = acts.shape[:2]
            keep = torch.ones(batch, k, dtype=torch.bool, device=acts.device)
            share = 0.0
            if self.channel_budget is not None and self.channel_budget < k:
                rank = CHANNEL_SELECTIONS[self.channel_selection](acts)
                top = torch.nan_to_num(rank, nan=0.0).topk(self.channel_budget, dim=1).indices
                keep = torch.zeros_like(keep).scatter_(1, top, True)
                mass = torch.nan_to_num(_mass(acts), nan=0.0)
                left = (mass * ~keep).sum(1) / mass.sum(1).clamp_min(1e-12)
                share = float(left.max())
            chosen.append(keep)
            omitted.append(share)
        return chosen, omitted

    def _score_fn(self, spec: TargetSpec, device: torch.device):
        if spec.fn is not None:
            fn = spec.fn
            return lambda logits, _samples: fn(logits).float().reshape(-1)
        classes = spec.classes.to(device)
        return lambda logits, samples: class_probability(logits, classes[samples])

    # -- the call ------------------------------------------------------------------------
    def _explain(self, x: Tensor, targets: Targets) -> SaliencyResult:
        names = self._target_layers
        logits, recorded = self._forward_with_activations(x, names)
        spec = resolve_targets(targets, logits)
        s0 = spec.score(logits).to(x.device)
        activations = [recorded[name] for name in names]
        masks = [percentile_normalize(a) for a in activations]
        live = [m.flatten(2).amax(-1) > 0 for m in masks]  # non-constant channels
        selected, omitted = self._selected(activations)

        channels_last = self._use_channels_last(x)
        masked_model = self._channels_last_model() if channels_last else None
        scorer = MaskedScorer(
            functools.partial(self._forward, model=masked_model),
            self._score_fn(spec, x.device),
            x,
            [a.shape[1] for a in activations],
            plus=self.rule.needs_plus,
            minus=self.rule.needs_minus,
            capacity=self._capacity(x),
            channels_last=channels_last,
        )
        shared = 0
        for b in range(x.shape[0]):
            dead = sum(int((~lv[b] & sel[b]).sum()) for lv, sel in zip(live, selected))
            if dead and self.rule.needs_plus:
                scorer.add_zero_mask(b)
            shared += dead
            for layer, (mask, lv, sel) in enumerate(zip(masks, live, selected)):
                channels = (lv[b] & sel[b]).nonzero()[:, 0]
                if len(channels):
                    scorer.add_masks(b, layer, channels, mask[b, channels])
        scorer.finish()

        layer_maps = []
        for layer, acts in enumerate(activations):
            sp = torch.where(live[layer], scorer.sp[layer], scorer.zero_score[:, None])
            sm = torch.where(live[layer], scorer.sm[layer], s0[:, None])
            weight = self.rule.weight(s0[:, None], sp, sm)
            weight = torch.where(selected[layer], weight, torch.zeros_like(weight))
            layer_maps.append(layer_map(weight, acts))

        size = x.shape[-2:]
        levels = [resize(percentile_normalize(p), size) for p in fuse(layer_maps, lnorm=self.lnorm)]
        intermediate = None
        if self.intermediate:
            intermediate = [resize(percentile_normalize(m), size) for m in layer_maps[::-1]]
        budgeted = self.channel_budget is not None and any(
            self.channel_budget < a.shape[1] for a in activations
        )
        settings: dict[str, Any] = {
            **self._settings(),
            "target_layers": list(names),
            "lnorm": self.lnorm,
            "batch_size": scorer.capacity,
            "channel_budget": self.channel_budget,
            "channels_last": channels_last,
            "baseline_passes": 1,
            "masked_passes": scorer.passes,
            "masked_forward_calls": scorer.forward_calls,
            "shared_constant_channels": shared,
        }
        if self.channel_budget is not None:
            settings["channel_selection"] = self.channel_selection
            settings["omitted_activation_share"] = omitted
        return SaliencyResult(
            saliency=levels[-1],
            levels=levels,
            targets=spec.classes.clone(),
            scores=s0.float(),
            method=self.method,
            approximate=self.autocast is not None or budgeted,
            settings=settings,
            intermediate=intermediate,
        )


def _factory(variant: str):
    return functools.partial(PolyCAM, variant=variant)


_ACCEPTS = ("input_size", "batch_size", "autocast", "channel_budget")
register("pcam+", "pcamp", "pcampp", "pcam_plus", accepts=_ACCEPTS)(_factory("pcam+"))
register("pcam-", "pcamm", "pcam−", "pcam_minus", accepts=_ACCEPTS)(_factory("pcam-"))
register("pcam±", "pcampm", "pcam+-", "pcam_pm", accepts=_ACCEPTS)(_factory("pcam±"))
