"""The summary table: per group, method and column, the mean with its bootstrap 95% CI.

Groups are ``all`` and, when the table holds more than one body part, each body part.
``summary.csv`` is long (one line per group × method × column); ``summary.md`` has one
table per group, metrics as rows and methods as columns, each cell
``mean [low, high] (n)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from medxai.evaluate.merge import table_csv
from medxai.evaluate.values import format_value, parse_float
from medxai.metrics.bootstrap import Estimate, bootstrap_mean, cell_rng

#: Columns of ``summary.csv``.
SUMMARY_COLUMNS: tuple[str, ...] = ("group", "method", "metric", "n", "mean", "ci_low", "ci_high")


@dataclass(frozen=True)
class SummaryCell:
    """One line of the summary."""

    group: str
    method: str
    metric: str
    estimate: Estimate


def groups_of(rows: Sequence[Mapping[str, str]]) -> list[str]:
    """``["all"]`` plus the body parts in the table, sorted, when there is more than one."""
    parts = sorted({row["body_part"] for row in rows})
    return ["all", *parts] if len(parts) > 1 else ["all"]


def summarise(
    rows: Sequence[Mapping[str, str]],
    methods: Sequence[str],
    columns: Sequence[str],
    *,
    seed: int,
    resamples: int,
) -> list[SummaryCell]:
    """Bootstrap estimates for every group × method × column of the merged ``rows``."""
    cells: list[SummaryCell] = []
    for group in groups_of(rows):
        for method in methods:
            chosen = [r for r in rows if r["method"] == method and group in ("all", r["body_part"])]
            for column in columns:
                values = np.array([parse_float(r.get(column, "")) for r in chosen])
                rng = cell_rng(seed, f"{group}/{method}/{column}")
                estimate = bootstrap_mean(values, resamples=resamples, rng=rng)
                cells.append(SummaryCell(group, method, column, estimate))
    return cells


def summary_csv(cells: Sequence[SummaryCell]) -> str:
    """``summary.csv`` text."""
    rows = [
        {
            "group": c.group,
            "method": c.method,
            "metric": c.metric,
            "n": str(c.estimate.n),
            "mean": format_value(c.estimate.mean),
            "ci_low": format_value(c.estimate.low),
            "ci_high": format_value(c.estimate.high),
        }
        for c in cells
    ]
    return table_csv(rows, SUMMARY_COLUMNS)


def _cell_text(estimate: Estimate) -> str:
    if estimate.n == 0:
        return "–"
    return f"{estimate.mean:.3f} [{estimate.low:.3f}, {estimate.high:.3f}] ({estimate.n})"


def summary_markdown(cells: Sequence[SummaryCell], *, title: str, notes: Sequence[str] = ()) -> str:
    """``summary.md`` text: a heading, notes, then one table per group (metrics × methods)."""
    lines = [f"# {title}", ""]
    lines += [f"- {note}" for note in notes]
    groups = list(dict.fromkeys(c.group for c in cells))
    for group in groups:
        mine = [c for c in cells if c.group == group]
        methods = list(dict.fromkeys(c.method for c in mine))
        metrics = list(dict.fromkeys(c.metric for c in mine))
        lines += ["", f"## {group}", ""]
        lines.append("| metric | " + " | ".join(methods) + " |")
        lines.append("|---|" + "---|" * len(methods))
        for metric in metrics:
            by_method = {c.method: c.estimate for c in mine if c.metric == metric}
            lines.append(
                f"| {metric} | " + " | ".join(_cell_text(by_method[m]) for m in methods) + " |"
            )
    return "\n".join(lines) + "\n"
