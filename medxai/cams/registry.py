"""One registry of saliency methods, one way to build them: :func:`create`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

Factory = Callable[..., Any]

_FACTORIES: dict[str, Factory] = {}
_CANONICAL: dict[str, str] = {}


def register(name: str, *aliases: str) -> Callable[[Factory], Factory]:
    """Decorator registering ``factory(model, **options)`` under ``name`` and ``aliases``."""

    def decorate(factory: Factory) -> Factory:
        for key in (name, *aliases):
            folded = key.lower()
            if folded in _FACTORIES and _FACTORIES[folded] is not factory:
                raise ValueError(f"saliency method {key!r} is already registered")
            _FACTORIES[folded] = factory
            _CANONICAL[folded] = name
        return factory

    return decorate


def canonical_name(name: str) -> str:
    """The registered name for ``name`` or one of its aliases (case-insensitive)."""
    try:
        return _CANONICAL[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown saliency method {name!r}; available: {', '.join(available())}"
        ) from None


def available() -> list[str]:
    """Registered method names (aliases excluded), in registration order."""
    return list(dict.fromkeys(_CANONICAL.values()))


def create(name: str, model: nn.Module, **options: Any) -> Any:
    """Build the explainer registered as ``name`` for ``model``.

    ``options`` are passed to the method's constructor (e.g. ``target_layers``,
    ``lnorm``, ``batch_size`` for Poly-CAM).
    """
    return _FACTORIES[canonical_name(name).lower()](model, **options)
