"""One registry of saliency methods, one way to build them: :func:`create`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from torch import nn

from medxai.cams.explainer import COMMON_OPTIONS, FAST_OPTIONS

Factory = Callable[..., Any]

_FACTORIES: dict[str, Factory] = {}
_CANONICAL: dict[str, str] = {}
_ACCEPTED: dict[str, frozenset[str]] = {}


def register(
    name: str, *aliases: str, accepts: Iterable[str] = ()
) -> Callable[[Factory], Factory]:
    """Decorator registering ``factory(model, **options)`` under ``name`` and ``aliases``.

    ``accepts`` names the common and fast-mode options (:mod:`medxai.cams.explainer`) the
    method takes; :mod:`medxai.cams.presets` passes it those and no others.
    """
    known = set(COMMON_OPTIONS) | set(FAST_OPTIONS)
    accepted = frozenset(accepts)
    if unknown := sorted(accepted - known):
        raise ValueError(f"{name}: {unknown} are not common options ({sorted(known)})")

    def decorate(factory: Factory) -> Factory:
        for key in (name, *aliases):
            folded = key.lower()
            if folded in _FACTORIES and _FACTORIES[folded] is not factory:
                raise ValueError(f"saliency method {key!r} is already registered")
            _FACTORIES[folded] = factory
            _CANONICAL[folded] = name
        _ACCEPTED[name] = accepted
        return factory

    return decorate


def accepted_options(name: str) -> frozenset[str]:
    """The common and fast-mode options the method ``name`` (or an alias) takes."""
    return _ACCEPTED[canonical_name(name)]


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
    ``lnorm``, ``batch_size`` for Poly-CAM); an option it does not have is a
    ``TypeError``. :func:`medxai.cams.presets.method_options` makes them from a mode.
    """
    return _FACTORIES[canonical_name(name).lower()](model, **options)
