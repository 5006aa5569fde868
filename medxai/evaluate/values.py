"""How numbers are written to, and read back from, the evaluation tables."""

from __future__ import annotations

import math

#: Significant digits for floats: enough to round-trip a float32 exactly.
FLOAT_DIGITS = 9


def format_value(value: object) -> str:
    """One table field: ``1``/``0`` for bools, ``nan`` for NaN, 9 significant digits for floats."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return format(value, f".{FLOAT_DIGITS}g")
    return str(value)


def parse_float(text: str) -> float:
    """A table field as a float; an empty or unparsable field is NaN."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def format_curve(values: object) -> str:
    """A curve as space-separated numbers with 6 significant digits (plots need no more)."""
    return " ".join(format(float(v), ".6g") for v in values)  # type: ignore[attr-defined]


def parse_curve(text: str) -> list[float]:
    """The inverse of :func:`format_curve`."""
    return [float(v) for v in text.split()]
