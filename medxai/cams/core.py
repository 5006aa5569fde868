"""The base every hook-based explainer builds on: one call, one lifecycle.

A call validates the input, moves it to the model's device and dtype, runs the model in
eval mode (restoring every submodule's flag afterwards), and registers forward hooks only
around the one baseline forward pass that needs them. Gradients are never needed, so
calls work under ``torch.no_grad()`` and ``torch.inference_mode()``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import Tensor, nn

from medxai.cams.hooks import capture_outputs, eval_mode
from medxai.cams.result import SaliencyResult
from medxai.cams.targets import Targets

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class HookedExplainer:
    """Base class: owns the model, the autocast option and the hook lifecycle.

    Subclasses implement :meth:`_explain` and call :meth:`_forward_with_activations` for
    the baseline pass and :meth:`_forward` for any further passes.

    Args:
        model: the classifier; its parameters decide the device and dtype of a call.
        autocast: ``None`` (exact, default) or ``"bf16"``/``"fp16"`` to run forward passes
            under ``torch.autocast``. Results then carry ``approximate=True``.
    """

    method = "base"

    def __init__(self, model: nn.Module, *, autocast: str | None = None) -> None:
        if autocast is not None and autocast not in AUTOCAST_DTYPES:
            raise ValueError(
                f"autocast must be None or one of {sorted(AUTOCAST_DTYPES)}, got {autocast!r}"
            )
        self.model = model
        self.autocast = autocast
        self._channels_last_cache: tuple[tuple, nn.Module | None] | None = None

    # -- what subclasses provide -------------------------------------------------------
    @property
    def target_layers(self) -> list[str]:
        raise NotImplementedError

    def _explain(self, x: Tensor, targets: Targets) -> SaliencyResult:
        raise NotImplementedError

    # -- the call ----------------------------------------------------------------------
    def __call__(self, x: Tensor, targets: Targets = None) -> SaliencyResult:
        """Explain ``targets`` for the batch ``x`` (``B×C×H×W``, normalised for the model)."""
        if not isinstance(x, Tensor) or x.ndim != 4:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"expected a B×C×H×W tensor, got {shape}")
        x = x.detach().to(device=self.device, dtype=self.dtype)
        with eval_mode(self.model), torch.no_grad():
            return self._explain(x, targets)

    @property
    def device(self) -> torch.device:
        param = next(self.model.parameters(), None)
        return param.device if param is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        param = next(self.model.parameters(), None)
        if param is None or not param.is_floating_point():
            return torch.float32
        return param.dtype

    def _autocast(self) -> AbstractContextManager[Any]:
        if self.autocast is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=AUTOCAST_DTYPES[self.autocast])

    def _forward(self, x: Tensor, model: nn.Module | None = None) -> Tensor:
        """Logits of ``x`` (float32) from ``model`` (default: the explained model), under
        the configured autocast."""
        with self._autocast():
            return (self.model if model is None else model)(x).float()

    def _channels_last_model(self) -> nn.Module | None:
        """A ``channels_last`` copy of the model (in eval mode) for passes that need no
        hooks, so the caller's model is never converted; ``None`` when the model cannot be
        copied.

        The copy is made once per explainer and made again only when the model's state
        changed since: a parameter or buffer was replaced, moved, or modified in place
        (each tensor's identity, storage, dtype and version counter are compared).
        """
        state = _state_key(self.model)
        if self._channels_last_cache is None or self._channels_last_cache[0] != state:
            try:
                copy_ = copy.deepcopy(self.model).to(memory_format=torch.channels_last)
            except Exception:
                copy_ = None
            self._channels_last_cache = (state, copy_)
        return self._channels_last_cache[1]

    def _forward_with_activations(
        self, x: Tensor, names: Sequence[str]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits of ``x`` and the float32 outputs of the modules ``names``.

        Raises:
            ValueError: a named module did not run, ran more than once, or gave an output
                that is not ``B×K×h×w``.
        """
        with capture_outputs(self.model, names) as recorder:
            logits = self._forward(x)
        for name in names:
            calls = recorder.calls[name]
            if calls != 1:
                raise ValueError(
                    f"layer {name!r} ran {calls} times in one forward pass; "
                    "pick a layer that runs exactly once"
                )
            out = recorder.outputs.get(name)
            if out is None or out.ndim != 4:
                shape = None if out is None else tuple(out.shape)
                raise ValueError(f"layer {name!r} output {shape} is not a B×K×h×w feature map")
        return logits, {name: _at_least_float32(recorder.outputs[name]) for name in names}

    def _settings(self) -> dict[str, Any]:
        return {"autocast": self.autocast}


def _state_key(model: nn.Module) -> tuple:
    """What identifies the current weights of ``model``: for every parameter and buffer,
    its identity, storage address, device, dtype and in-place version counter."""
    tensors = [*model.parameters(), *model.buffers()]
    return tuple(
        (id(t), t.data_ptr(), str(t.device), t.dtype, t._version) for t in tensors
    )


def _at_least_float32(t: Tensor) -> Tensor:
    """``t`` in float32, or in its own dtype when that is wider (float64)."""
    return t.to(torch.promote_types(t.dtype, torch.float32))
