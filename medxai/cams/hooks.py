"""Context managers that own every change an explainer makes to a model.

Hooks live only inside :func:`capture_outputs`; train/eval flags only inside
:func:`eval_mode`. Both undo their change in ``finally``, so a call that raises leaves
the model exactly as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from torch import Tensor, nn


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run ``model`` in eval mode, then restore each submodule's own ``training`` flag."""
    flags = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        yield model
    finally:
        for module, training in flags:
            module.training = training


class OutputRecorder:
    """The outputs of named modules during one forward pass (cloned, so later in-place
    operations such as ``ReLU(inplace=True)`` cannot change them), and how often each
    module ran."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.outputs: dict[str, Tensor] = {}
        self.calls: dict[str, int] = dict.fromkeys(self.names, 0)

    def hook(self, name: str):
        def record(_module: nn.Module, _inputs: object, output: object) -> None:
            self.calls[name] += 1
            if isinstance(output, Tensor):
                self.outputs[name] = output.detach().clone()

        return record


@contextmanager
def capture_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[OutputRecorder]:
    """Forward hooks on the modules ``names`` of ``model`` for the duration of the block."""
    modules = dict(model.named_modules())
    recorder = OutputRecorder(names)
    handles = []
    try:
        for name in recorder.names:
            handles.append(modules[name].register_forward_hook(recorder.hook(name)))
        yield recorder
    finally:
        for handle in handles:
            handle.remove()
