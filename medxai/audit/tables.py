"""Plain-text tables for notebook output (no pandas needed)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from medxai.metrics.bootstrap import Estimate

__all__ = ["format_estimate", "format_table"]


def format_estimate(estimate: Estimate, digits: int = 3) -> str:
    """``mean [low, high]``, or ``mean`` alone when the CI is undefined; ``–`` when empty."""
    if estimate.n == 0 or math.isnan(estimate.mean):
        return "–"
    if math.isnan(estimate.low) or math.isnan(estimate.high):
        return f"{estimate.mean:.{digits}f}"
    return f"{estimate.mean:.{digits}f} [{estimate.low:.{digits}f}, {estimate.high:.{digits}f}]"


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, Estimate):
        return format_estimate(value, digits)
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def format_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, digits: int = 3
) -> str:
    """Rows (dicts) as a left-aligned text table with a header line."""
    if not rows:
        return "(no rows)"
    columns = list(columns) if columns is not None else list(rows[0])
    cells = [[_cell(row.get(c, ""), digits) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[k]) for r in cells)) for k, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)
