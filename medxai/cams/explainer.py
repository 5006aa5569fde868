"""What every saliency method is: the :class:`Explainer` protocol and its common options.

An explainer is built by :func:`medxai.cams.create` as ``create(name, model, **options)``
and called as ``explainer(x, targets)`` on a ``B×C×H×W`` batch normalised for the model;
it returns a :class:`~medxai.cams.result.SaliencyResult`. Constructors take keyword
options only and raise ``TypeError`` on an option they do not have.

The common options mean the same in every method that has them (the registry records
which, :func:`medxai.cams.registry.accepted_options`):

- ``input_size``: ``(H, W)`` of the dummy input that discovers the target layers;
- ``batch_size``: images per forward pass for methods that make many passes;
- ``autocast``: ``None`` (exact arithmetic) or ``"bf16"``/``"fp16"``;
- ``seed``: seeds the method's random draws, so that a call is reproducible.

Poly-CAM also has the fast-mode options ``channel_budget`` and ``tolerance``
(:mod:`medxai.cams.cluster`). :mod:`medxai.cams.presets` is the one place that turns a
user-facing mode into these options.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor

from medxai.cams.result import SaliencyResult
from medxai.cams.targets import Targets

#: The options every method accepts where they apply, with one meaning everywhere.
COMMON_OPTIONS: tuple[str, ...] = ("input_size", "batch_size", "autocast", "seed")
#: Options of Poly-CAM's fast (clustered) mode.
FAST_OPTIONS: tuple[str, ...] = ("channel_budget", "tolerance")


@runtime_checkable
class Explainer(Protocol):
    """A saliency method bound to one model."""

    #: the registry name of the method (e.g. ``"pcam±"``).
    method: str

    @property
    def target_layers(self) -> list[str]:
        """The layers whose outputs the method reads, shallow → deep (``[]`` for none)."""
        ...

    def __call__(self, x: Tensor, targets: Targets = None) -> SaliencyResult:
        """Explain ``targets`` (:mod:`medxai.cams.targets`) for the batch ``x``."""
        ...
