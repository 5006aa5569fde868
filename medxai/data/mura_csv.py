"""Readers for MURA's ``*_image_paths.csv`` and ``*_labeled_studies.csv``.

Copies of these files exist with and without a header line; a first row that does not
look like data (an image path ending in ``.png``, or a study path followed by an integer
label) is taken as the header and skipped. Blank lines are skipped. Rows are returned with
their 1-based line numbers so that problems can point at them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CsvRow:
    """One data row: its line number and its fields, stripped."""

    line: int
    fields: tuple[str, ...]


def _rows(path: Path) -> Iterator[CsvRow]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for number, fields in enumerate(csv.reader(handle), start=1):
            stripped = tuple(f.strip() for f in fields)
            if any(stripped):
                yield CsvRow(number, stripped)


def _looks_like_image_row(row: CsvRow) -> bool:
    return row.fields[0].lower().endswith(".png")


def _looks_like_label_row(row: CsvRow) -> bool:
    return len(row.fields) >= 2 and row.fields[1].lstrip("+-").isdigit()


def read_image_paths(path: Path) -> list[CsvRow]:
    """Rows of an image list; ``fields[0]`` is the path as written (``MURA-v1.1/train/…``)."""
    rows = list(_rows(path))
    if rows and not _looks_like_image_row(rows[0]):
        rows = rows[1:]
    return rows


def read_labeled_studies(path: Path) -> list[CsvRow]:
    """Rows of a study label list; ``fields`` are ``(study_path, label, ...)`` as written."""
    rows = list(_rows(path))
    if rows and not _looks_like_label_row(rows[0]):
        rows = rows[1:]
    return rows
