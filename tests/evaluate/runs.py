"""Running ``medxai evaluate`` on the tiny set, and reading and comparing its tables."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from medxai.cli import main
from medxai.evaluate.catalog import TIMING_COLUMNS

#: Metrics of the test runs: every cheap one.
METRICS = "insertion,deletion,localisation,confidence"


def evaluate_args(root: Path, checkpoint: Path, out: Path, *extra: str) -> list[str]:
    """Arguments after ``medxai`` for a small, quick run of CAM on the tiny set."""
    return [
        "evaluate", str(root), "--checkpoint", str(checkpoint), "--out", str(out),
        "--methods", "cam", "--metrics", METRICS, "--steps", "4", "--bootstrap", "200",
        "--batch-size", "3", "--no-progress", "--accelerator", "cpu", *extra,
    ]  # fmt: skip


def evaluate(root: Path, checkpoint: Path, out: Path, *extra: str) -> int:
    """Run :func:`evaluate_args` in this process; returns the exit code."""
    return main(evaluate_args(root, checkpoint, out, *extra))


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _close(a: str, b: str, tol: float) -> bool:
    try:
        x, y = float(a), float(b)
    except ValueError:
        return a == b
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=tol, abs_tol=tol)


def assert_tables_equal(
    a: list[dict[str, str]], b: list[dict[str, str]], tol: float = 1e-6, skip_timing: bool = True
) -> None:
    """Same rows in the same order; numbers within ``tol`` (absolute, or relative for the
    percentages); timing columns (and summary rows of them) ignored."""
    assert len(a) == len(b)
    for left, right in zip(a, b):
        assert list(left) == list(right)
        if skip_timing and left.get("metric") in TIMING_COLUMNS:
            continue
        for column in left:
            if skip_timing and column in TIMING_COLUMNS:
                continue
            assert _close(left[column], right[column], tol), (column, left, right)
