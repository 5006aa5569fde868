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
   deep → shallow, the last being the saliency map;
6. ``result.references`` (:mod:`medxai.cams.references`) holds the class-agnostic map
   (step 5 with every ``w_lk = 1``) and the opposite class's map (steps 4–5 on that
   class's scores, read from the logits of the same masked passes), with the map's
   Spearman ``ρ`` to each; no forward pass is added.

Fast mode (``channel_budget=k``, optionally ``tolerance=t``) keeps steps 1, 2, 4 and 5
and scores fewer masked inputs in step 3. A channel's scores depend on the channel only
through its mask, so per image and layer the masks are clustered
(:mod:`medxai.cams.cluster`: RMS distance, farthest-point traversal, k-medoid
refinement), one representative per cluster is scored, and every other channel's
``sp``/``sm`` is predicted from the image's scored channels of all layers
(:mod:`medxai.cams.predict`; PCAM− copies its representative's instead, see
:attr:`PolyCAM._predicts`); the weight rule then runs per channel, on each channel's
own activation, as in the exact algorithm. At most ``k`` channels are scored per layer,
image and sign, and with a tolerance channels merge only when their masks are within
``t``. One member per layer is also scored to measure the weight error, from which
``result.settings["error_estimate"]`` estimates the map's error
(:mod:`medxai.cams.estimate`). With one cluster per distinct mask, fast mode gives the
exact map. (An earlier fast mode scored the ``k`` channels of largest peak activation
and gave the others weight 0; it lost to clustering at equal passes in every measured
comparison, docs/benchmarks.md, and was removed.)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from medxai.cams.core import HookedExplainer
from medxai.cams.estimate import error_scale, map_spread
from medxai.cams.fusion import fuse, layer_map, resize
from medxai.cams.layers import check_layer_names, discover_target_layers
from medxai.cams.masked import MaskedScorer, MaskedScores
from medxai.cams.normalize import percentile_normalize
from medxai.cams.plan import clustered_plan, exact_plan
from medxai.cams.predict import fill_unscored, mask_features, predict_scores
from medxai.cams.references import opposite_classes, reference_maps
from medxai.cams.registry import register
from medxai.cams.result import SaliencyResult
from medxai.cams.targets import Targets, TargetSpec, class_probability, resolve_targets
from medxai.cams.weights import MINUS, PLUS, PLUS_MINUS, WeightRule

VARIANTS: dict[str, WeightRule] = {rule.name: rule for rule in (PLUS, MINUS, PLUS_MINUS)}


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
        channel_budget: fast mode; at most this many scored channels per layer, image
            and sign (see the module docstring). ``None`` (default) is exact unless a
            tolerance is given.
        tolerance: fast mode's bound on the RMS mask distance between a channel and the
            representative whose scores it takes (``0`` merges identical masks only).
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
        tolerance: float | None = None,
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
        if tolerance is not None and not 0.0 <= tolerance <= 1.0:
            raise ValueError(f"tolerance must be in [0, 1], got {tolerance}")
        self.lnorm = lnorm
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.channel_budget = channel_budget
        self.tolerance = tolerance
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

    @property
    def fast(self) -> bool:
        """Whether calls run fast mode (a budget or a tolerance was given)."""
        return self.channel_budget is not None or self.tolerance is not None

    @property
    def _predicts(self) -> bool:
        """Whether fast mode predicts unscored channels' scores (PCAM+, PCAM±) rather than
        copying their representatives' (PCAM−). PCAM−'s weights ``ReLU(s0 − sm)`` are
        non-zero for few channels; a regression spreads small errors of ``sm`` over many
        channels, each of which then gets a small weight, while a copy keeps the zeros.
        Measured on three trained models (docs/benchmarks.md, "Clustered fast mode"):
        prediction made PCAM± and PCAM+ closer to exact, and PCAM− far worse on one."""
        return self.rule.needs_plus

    def _plans(self, activations: list[Tensor], masks: list[Tensor], live: list[Tensor]):
        """One :class:`~medxai.cams.plan.LayerPlan` per layer."""
        if not self.fast:
            return [exact_plan(lv) for lv in live]
        budget = self.channel_budget if self.channel_budget is not None else max(
            a.shape[1] for a in activations
        )
        return [clustered_plan(m, lv, budget, self.tolerance) for m, lv in zip(masks, live)]

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
        opposite = None if spec.fn is not None else opposite_classes(logits, spec.classes)
        extra_score = None if opposite is None else self._score_fn(TargetSpec(opposite), x.device)
        activations = [recorded[name] for name in names]
        masks = [percentile_normalize(a) for a in activations]
        live = [m.flatten(2).amax(-1) > 0 for m in masks]  # non-constant channels
        plans = self._plans(activations, masks, live)
        features = [mask_features(m) for m in masks] if self.fast and self._predicts else None

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
            extra_score=extra_score,
        )
        shared = 0
        for b in range(x.shape[0]):
            dead = sum(int((~lv[b]).sum()) for lv in live)
            if dead and self.rule.needs_plus:
                scorer.add_zero_mask(b)
            shared += dead
            for layer, (mask, plan) in enumerate(zip(masks, plans)):
                channels = plan.scored[b].nonzero()[:, 0]
                if len(channels):
                    scorer.add_masks(b, layer, channels, mask[b, channels])
        scorer.finish()

        weights = self._weights(plans, live, scorer, s0, features)
        size = x.shape[-2:]
        layer_maps = [layer_map(w, a) for w, a in zip(weights, activations)]
        levels = [resize(percentile_normalize(p), size) for p in fuse(layer_maps, lnorm=self.lnorm)]
        references = self._references(
            levels[-1], activations, plans, live, scorer, opposite, logits, features
        )
        intermediate = None
        if self.intermediate:
            intermediate = [resize(percentile_normalize(m), size) for m in layer_maps[::-1]]
        approximated = any(bool(p.merged.any()) for p in plans)
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
        if self.fast:
            settings.update(
                self._fast_settings(
                    plans, weights, activations, scorer, s0, levels[-1], features
                )
            )
        return SaliencyResult(
            saliency=levels[-1],
            levels=levels,
            targets=spec.classes.clone(),
            scores=s0.float(),
            method=self.method,
            approximate=self.autocast is not None or approximated,
            settings=settings,
            intermediate=intermediate,
            references=references,
        )

    def _weights(
        self, plans, live, scores: MaskedScorer | MaskedScores, s0: Tensor, features
    ) -> list[Tensor]:
        """Each layer's ``B×K`` weights from the masked ``scores`` of one target (constant
        channels: ``sp = s(0)``, ``sm = s0``; in fast mode, unscored channels' scores are
        predicted from the scored ones, :mod:`medxai.cams.predict`, or, for PCAM−, copied
        from their representatives, see :attr:`_predicts`)."""
        sp = [torch.where(lv, p, scores.zero_score[:, None]) for lv, p in zip(live, scores.sp)]
        sm = [torch.where(lv, m, s0[:, None]) for lv, m in zip(live, scores.sm)]
        if any(bool(plan.merged.any()) for plan in plans) and not self._predicts:
            sp = [p.gather(1, plan.source) for p, plan in zip(sp, plans)]
            sm = [m.gather(1, plan.source) for m, plan in zip(sm, plans)]
        elif any(bool(plan.merged.any()) for plan in plans):
            kinds = [k for k, needed in ((0, self.rule.needs_plus), (1, self.rule.needs_minus))
                     if needed]
            both = [sp, sm]
            filled = fill_unscored(
                features, [p.scored for p in plans], live, [both[k] for k in kinds]
            )
            for k, values in zip(kinds, filled):
                # a mask identical to a scored one takes its scores exactly
                both[k] = [
                    torch.where(p.merged & (p.distance == 0), raw.gather(1, p.source), v)
                    for p, raw, v in zip(plans, both[k], values)
                ]
            sp, sm = both
        return [self.rule.weight(s0[:, None], p, m) for p, m in zip(sp, sm)]

    def _saliency(self, weights: list[Tensor], activations: list[Tensor], size) -> Tensor:
        """The fused, normalised ``B×1×H×W`` map of per-layer ``weights``."""
        maps = [layer_map(w, a) for w, a in zip(weights, activations)]
        return resize(percentile_normalize(fuse(maps, lnorm=self.lnorm)[-1]), size)

    def _references(self, saliency, activations, plans, live, scorer, opposite, logits, features):
        """:mod:`medxai.cams.references`: the class-agnostic map (every weight 1) and,
        for class targets, the opposite class's map from the scores the same passes
        recorded (its ``s0`` from the baseline logits)."""
        size = saliency.shape[-2:]
        ones = [torch.ones(a.shape[:2], device=a.device) for a in activations]
        agnostic = self._saliency(ones, activations, size)
        opposite_map = None
        if opposite is not None and scorer.extra is not None:
            s0 = TargetSpec(opposite).score(logits).to(saliency.device)
            weights = self._weights(plans, live, scorer.extra, s0, features)
            opposite_map = self._saliency(weights, activations, size)
        return reference_maps(saliency, agnostic, opposite_map, opposite)

    def _fast_settings(
        self, plans, weights, activations, scorer, s0, saliency, features
    ) -> dict[str, Any]:
        """What fast mode did, per layer and image, and the map's estimated error."""
        settings: dict[str, Any] = {
            "tolerance": self.tolerance,
            "clusters": [p.clusters for p in plans],
            "max_cluster_distance": [p.max_distance() for p in plans],
        }
        settings["error_checks"] = [[int(n) for n in p.checked.sum(1)] for p in plans]
        settings["error_estimate"] = self._error_estimate(
            plans, weights, activations, scorer, s0, saliency, features
        )
        return settings

    def _error_estimate(self, plans, weights, activations, scorer, s0, saliency, features):
        """:mod:`medxai.cams.estimate` for each image: ``α`` from the checks, then the
        spread of the map under weight errors ``α·d``. ``None`` for an image whose merged
        channels could not be checked (a budget of one)."""
        batch = saliency.shape[0]
        alpha = []
        for b in range(batch):
            true, approx, dist, uncertain = [], [], [], False
            if self._predicts:  # the checks predicted from the other scored channels
                train = [p.scored[b] & ~p.checked[b] for p in plans]
                x = torch.cat([f[b, t] for f, t in zip(features, train)])
                kinds = (scorer.sp, scorer.sm)
                y = torch.stack(
                    [torch.cat([v[b, t] for v, t in zip(kind, train)]) for kind in kinds], 1
                ).nan_to_num()  # a sign the variant does not use is never read
            for layer, plan in enumerate(plans):
                uncertain |= bool((plan.merged[b] & (plan.distance[b] > 0)).any())
                checked = plan.checked[b].nonzero()[:, 0]
                if not len(checked):
                    continue
                sp, sm = scorer.sp[layer][b], scorer.sm[layer][b]
                if self._predicts:
                    guess = predict_scores(x, y, features[layer][b, checked])
                    guess_sp, guess_sm = guess[:, 0], guess[:, 1]
                else:
                    rep = plan.representative[b, checked]
                    guess_sp, guess_sm = sp[rep], sm[rep]
                true.append(self.rule.weight(s0[b], sp[checked], sm[checked]))
                approx.append(self.rule.weight(s0[b], guess_sp, guess_sm))
                dist.append(plan.distance[b, checked])
            if not uncertain:  # nothing merged, or only identical masks
                alpha.append(0.0)
            elif not true:
                alpha.append(None)
            else:
                scale = error_scale(torch.cat(true), torch.cat(approx), torch.cat(dist))
                alpha.append(float(scale))
        known = [a if a is not None else 0.0 for a in alpha]
        sigma = [
            torch.where(p.merged, p.distance, torch.zeros_like(p.distance))
            * torch.tensor(known, device=p.distance.device)[:, None]
            for p in plans
        ]

        def to_saliency(ws: list[Tensor]) -> Tensor:
            maps = [layer_map(w, a) for w, a in zip(ws, activations)]
            fused = fuse(maps, lnorm=self.lnorm)[-1]
            return resize(percentile_normalize(fused), saliency.shape[-2:])

        spread = map_spread(saliency, weights, sigma, to_saliency)
        return [
            None
            if alpha[b] is None
            else {
                "weight_error_scale": alpha[b],
                "spearman": spread["spearman"][b],
                "max_abs": spread["max_abs"][b],
                "mean_abs": spread["mean_abs"][b],
            }
            for b in range(batch)
        ]


def _factory(variant: str):
    return functools.partial(PolyCAM, variant=variant)


_ACCEPTS = ("input_size", "batch_size", "autocast", "channel_budget", "tolerance")
register("pcam+", "pcamp", "pcampp", "pcam_plus", accepts=_ACCEPTS)(_factory("pcam+"))
register("pcam-", "pcamm", "pcam−", "pcam_minus", accepts=_ACCEPTS)(_factory("pcam-"))
register("pcam±", "pcampm", "pcam+-", "pcam_pm", accepts=_ACCEPTS)(_factory("pcam±"))
