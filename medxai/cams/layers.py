"""Finding layers by name, Poly-CAM's default target layers, and CAM's linear head."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from medxai.cams.hooks import eval_mode, forward_hooks

_POOLING = (
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
    nn.LPPool2d,
    nn.FractionalMaxPool2d,
)


def layer_names(model: nn.Module) -> list[str]:
    """Names of every submodule of ``model`` (the root excluded), in registration order."""
    return [name for name, _ in model.named_modules() if name]


def check_layer_names(model: nn.Module, names: Sequence[str]) -> list[str]:
    """``names`` as a list, or a ``ValueError`` naming the unknown one and a few valid ones."""
    valid = layer_names(model)
    known = set(valid)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, valid, n=5, cutoff=0.5)
            hint = close or valid[:5]
            raise ValueError(
                f"model has no layer named {name!r}; valid names include: "
                + ", ".join(repr(n) for n in hint)
            )
    return list(names)


def dummy_input(model: nn.Module, size: tuple[int, int]) -> Tensor:
    """A zero batch of one for ``model``: channels from its first ``Conv2d`` (3 if none),
    on the model's device and in its dtype."""
    channels = next((m.in_channels for m in model.modules() if isinstance(m, nn.Conv2d)), 3)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    return torch.zeros(1, channels, *size, device=device, dtype=dtype)


@dataclass
class _Call:
    name: str
    shape: tuple[int, ...]
    pooled: bool


def _trace_calls(model: nn.Module, x: Tensor) -> tuple[list[_Call], dict[str, int]]:
    """Every submodule's output shape in call order (post-hook order), and call counts.

    ``pooled`` marks outputs made by a pooling layer, or a container passing on the very
    same tensor a pooling layer made.
    """
    calls: list[_Call] = []
    counts: dict[str, int] = {}
    pooled: list[Tensor] = []  # kept alive so that their ids cannot be reused

    def hook_for(name: str, module: nn.Module):
        def record(_m: nn.Module, _i: object, output: object) -> None:
            counts[name] = counts.get(name, 0) + 1
            if not isinstance(output, Tensor):
                calls.append(_Call(name, (), False))
                return
            if isinstance(module, _POOLING):
                pooled.append(output)
            is_pooled = any(output is p for p in pooled)
            calls.append(_Call(name, tuple(output.shape), is_pooled))

        return record

    hooks = {name: hook_for(name, module) for name, module in model.named_modules() if name}
    with forward_hooks(model, hooks), eval_mode(model), torch.no_grad():
        model(x)
    return calls, counts


def discover_target_layers(model: nn.Module, input_size: tuple[int, int] = (224, 224)) -> list[str]:
    """Poly-CAM's default target layers, shallow → deep (docs/polycam.md).

    One dummy forward pass records every module's output in call order. The first module
    and any module run more than once per pass (e.g. the ``relu`` a torchvision
    Bottleneck reuses) are skipped. Walking the calls until the first output that is not
    4-D or is 1×1, one module is kept per spatial resolution, in the order the
    resolutions appear: the last of the outermost (least nested) modules with that output
    resolution. Outermost, because the module that ends a stage is the stage itself
    (``layer1``), while deeper modules that still run at its resolution belong to the next
    block (the first 1×1 conv and norm of a strided Bottleneck, ``layer2.0.bn1``).
    Pooling layers, and containers handing on a pooling layer's output, do not count:
    they only resample, so a resolution reached only by pooling (VGG's final max-pool and
    ``avgpool``) is not a feature stage.

    Gives ``relu, layer1, layer2, layer3, layer4`` for torchvision ResNets and
    ``features.3, .8, .15, .22, .29`` for VGG16 (at 64×64 or larger inputs).

    Raises:
        ValueError: no module has a 4-D output larger than 1×1.
    """
    calls, counts = _trace_calls(model, dummy_input(model, input_size))
    by_resolution: dict[tuple[int, int], tuple[int, str]] = {}  # resolution -> (depth, name)
    for call in calls[1:]:
        if len(call.shape) != 4 or call.shape[-2:] == (1, 1):
            break
        if counts[call.name] > 1 or call.pooled:
            continue
        resolution = (call.shape[-2], call.shape[-1])
        depth = call.name.count(".")
        if resolution not in by_resolution or depth <= by_resolution[resolution][0]:
            by_resolution[resolution] = (depth, call.name)
    order: list[tuple[int, int]] = []
    for call in calls[1:]:
        if len(call.shape) != 4 or call.shape[-2:] == (1, 1):
            break
        resolution = (call.shape[-2], call.shape[-1])
        if resolution in by_resolution and resolution not in order:
            order.append(resolution)
    if not order:
        raise ValueError(
            "model has no layer with a spatial (4-D, larger than 1×1) output before its "
            "head; pass target_layers=[...] with the names of convolutional layers"
        )
    return [by_resolution[r][1] for r in order]


def last_linear(model: nn.Module) -> str:
    """Name of the last ``nn.Linear`` registered in ``model`` (CAM's head)."""
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not names:
        raise ValueError(
            "CAM needs a model ending in global average pooling and a linear layer; "
            "no nn.Linear found (pass fc_layer=... if the head has another name)"
        )
    return names[-1]
