"""Knobs of the phantom generator."""

from __future__ import annotations

from dataclasses import dataclass

from medxai.data.phantoms.anatomy import BODY_PARTS
from medxai.errors import MedxaiError


@dataclass(frozen=True)
class PhantomConfig:
    """What :func:`~medxai.data.phantoms.generate` draws.

    ``p_cast_abnormal`` and ``p_cast_normal`` set ``P(cast | label)``: the planted shortcut
    (0.9/0.05: a model can score well by looking at casts; 0.5/0.5: casts carry no signal).
    ``p_hardware`` and ``p_marker`` do not depend on the label. ``subtlety`` runs from
    0 (an obvious, displaced fracture) to 1 (a hairline, barely displaced one).
    Labels and body parts are balanced within each split: exactly
    ``round(abnormal_fraction · studies)`` abnormal studies, body parts in turn.
    """

    train_studies: int = 240
    valid_studies: int = 80
    size: int = 160
    body_parts: tuple[str, ...] = BODY_PARTS
    subtlety: float = 0.3
    p_cast_abnormal: float = 0.5
    p_cast_normal: float = 0.5
    p_hardware: float = 0.1
    p_marker: float = 0.5
    abnormal_fraction: float = 0.5
    images_per_study: tuple[int, int] = (1, 3)
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "body_parts", tuple(self.body_parts))
        object.__setattr__(self, "images_per_study", tuple(self.images_per_study))
        self.validate()

    def validate(self) -> None:
        """Raise :class:`~medxai.errors.MedxaiError` (one line) for a knob out of range."""
        for name in ("subtlety", "p_cast_abnormal", "p_cast_normal", "p_hardware", "p_marker",
                     "abnormal_fraction"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise MedxaiError(f"{name} must be in [0, 1], got {value}")
        if self.train_studies < 0 or self.valid_studies < 0:
            raise MedxaiError("the number of studies must not be negative")
        if not 32 <= self.size <= 2048:
            raise MedxaiError(f"size must be between 32 and 2048 pixels, got {self.size}")
        unknown = [p for p in self.body_parts if p not in BODY_PARTS]
        if unknown or not self.body_parts:
            raise MedxaiError(
                f"unknown body part(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(BODY_PARTS)}"
            )
        lo, hi = self.images_per_study
        if not 1 <= lo <= hi <= 3:
            raise MedxaiError(f"images_per_study must satisfy 1 <= lo <= hi <= 3, got {lo}, {hi}")
        if self.seed < 0:
            raise MedxaiError(f"seed must not be negative, got {self.seed}")
