"""CAM (Zhou et al., CVPR 2016) for models ending in global average pooling + a linear head.

With ``A`` the ``K×h×w`` output of the last feature layer and ``W`` the head's weights,
the map of class ``c`` is ``ReLU(Σ_k w_ck A_k)``. For a single-logit head, class 1 uses
``w_k = W_0k`` and class 0 (the negative class) ``w_k = −W_0k``. The bias is dropped: it
is the same at every pixel.

The map is normalised with the same ``N`` as Poly-CAM (0.1/99.9 percentiles, divided by
the 99.9th; :mod:`medxai.cams.normalize`) at feature resolution, then upsampled bilinearly
to ``H×W``: ``CAM = Up_{H×W}(N(ReLU(Σ_k w_ck A_k)))``. CAM is thus exactly a one-level
Poly-CAM with the head's weights, and both methods' maps share one scale in a report.

``result.references`` (:mod:`medxai.cams.references`) holds the class-agnostic map
``Up(N(ReLU(Σ_k A_k)))`` and the opposite class's map (``−W_0`` for one logit, the
runner-up's row otherwise), both from the same activations.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from medxai.cams.core import HookedExplainer
from medxai.cams.fusion import layer_map, resize
from medxai.cams.layers import check_layer_names, discover_target_layers, last_linear
from medxai.cams.normalize import percentile_normalize
from medxai.cams.references import opposite_classes, reference_maps
from medxai.cams.registry import register
from medxai.cams.result import SaliencyResult
from medxai.cams.targets import Targets, resolve_targets


@register("cam", accepts=("input_size", "autocast"))
class CAM(HookedExplainer):
    """Class activation mapping.

    Args:
        model: a classifier whose logits are ``fc(GAP(feature_layer(·)))``.
        feature_layer: name of the layer whose output the head pools; ``None`` takes the
            deepest layer of :func:`~medxai.cams.layers.discover_target_layers`.
        fc_layer: name of the ``nn.Linear`` head; ``None`` takes the last one.
        target_layers: accepted as an alias of ``feature_layer`` (a name or a one-name
            list), so that every method can be built with the same options.
        autocast: ``"bf16"``/``"fp16"`` to run the forward pass under autocast.
        input_size: spatial size of the dummy input used to find the feature layer.
    """

    method = "cam"

    def __init__(
        self,
        model: nn.Module,
        *,
        feature_layer: str | None = None,
        fc_layer: str | None = None,
        target_layers: str | Sequence[str] | None = None,
        autocast: str | None = None,
        input_size: tuple[int, int] = (224, 224),
    ) -> None:
        super().__init__(model, autocast=autocast)
        if feature_layer is None and target_layers is not None:
            names = [target_layers] if isinstance(target_layers, str) else list(target_layers)
            feature_layer = names[-1]
        if feature_layer is None:
            feature_layer = discover_target_layers(model, input_size)[-1]
        self.feature_layer = check_layer_names(model, [feature_layer])[0]
        self.fc_layer = check_layer_names(model, [fc_layer])[0] if fc_layer else last_linear(model)
        fc = dict(model.named_modules())[self.fc_layer]
        if not isinstance(fc, nn.Linear):
            raise ValueError(f"fc_layer {self.fc_layer!r} is a {type(fc).__name__}, not nn.Linear")
        self.fc = fc

    @property
    def target_layers(self) -> list[str]:
        """``[feature_layer]``."""
        return [self.feature_layer]

    def _explain(self, x: Tensor, targets: Targets) -> SaliencyResult:
        if callable(targets) and not isinstance(targets, Tensor):
            raise ValueError("CAM explains class indices; a callable target needs Poly-CAM")
        logits, recorded = self._forward_with_activations(x, [self.feature_layer])
        acts = recorded[self.feature_layer]
        weight = self.fc.weight.detach()
        if weight.shape[1] != acts.shape[1]:
            raise ValueError(
                f"CAM needs the head {self.fc_layer!r} to read the {acts.shape[1]} pooled "
                f"channels of {self.feature_layer!r}, but it takes {weight.shape[1]} inputs"
            )
        spec = resolve_targets(targets, logits)
        size = x.shape[-2:]

        def class_map(classes: Tensor) -> Tensor:
            classes = classes.to(acts.device)
            if weight.shape[0] == 1:
                sign = torch.where(classes == 1, 1.0, -1.0).to(acts.dtype)
                w = sign[:, None] * weight[0].to(acts.dtype)[None]
            else:
                w = weight.to(acts.dtype)[classes]
            return resize(percentile_normalize(layer_map(w, acts)), size)

        saliency = class_map(spec.classes)
        opposite = opposite_classes(logits, spec.classes)
        ones = torch.ones(acts.shape[:2], dtype=acts.dtype, device=acts.device)
        references = reference_maps(
            saliency,
            resize(percentile_normalize(layer_map(ones, acts)), size),
            class_map(opposite),
            opposite,
        )
        return SaliencyResult(
            saliency=saliency,
            levels=[saliency],
            targets=spec.classes.clone(),
            scores=spec.score(logits).float(),
            method=self.method,
            approximate=self.autocast is not None,
            settings={
                **self._settings(),
                "feature_layer": self.feature_layer,
                "fc_layer": self.fc_layer,
                "baseline_passes": 1,
            },
            references=references,
        )
