"""Context managers that own every change an explainer makes to a model.

Forward hooks live only inside :func:`forward_hooks` (which :func:`capture_outputs` and
layer discovery use); train/eval flags only inside :func:`eval_mode`. Both undo their
change in ``finally``, so a call that raises leaves the model exactly as it found it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
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


Hook = Callable[[nn.Module, object, object], None]


@contextmanager
def forward_hooks(model: nn.Module, hooks: Mapping[str, Hook]) -> Iterator[None]:
    """The forward hook ``hooks[name]`` on each named module of ``model``, for the block."""
    modules = dict(model.named_modules())
    handles = []
    try:
        for name, hook in hooks.items():
            handles.append(modules[name].register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def capture_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[OutputRecorder]:
    """Record the outputs of the modules ``names`` of ``model`` for the duration of the block."""
    recorder = OutputRecorder(names)
    with forward_hooks(model, {name: recorder.hook(name) for name in recorder.names}):
        yield recorder
