"""Readers for MURA's ``*_image_paths.csv`` and ``*_labeled_studies.csv``.

Copies of these files exist with and without a header line; a first row that does not
look like data (an image path ending in ``.png``, or a study path followed by an integer
label) is taken as the header and skipped. Blank lines are skipped. Rows are returned with
their 1-based line numbers so that problems can point at them.

A CSV is read like an image: under the file-access rule of :mod:`medxai.io.files`
(a regular file, a link only to a file inside the dataset root, a read bounded by the
size measured at opening), and it must be at most :data:`MAX_CSV_BYTES`, UTF-8 text (a
byte-order mark is allowed), and every data row must have the columns of its kind
(:data:`IMAGE_LIST_COLUMNS`, :data:`LABEL_LIST_COLUMNS`; empty trailing fields do not
count). Anything else raises :class:`~medxai.errors.InputError` naming the file and the
problem: the whole file is refused, never half-read.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from medxai.errors import InputError
from medxai.io.files import open_input

#: Largest CSV read, in bytes. MURA-v1.1's largest list (``train_image_paths.csv``,
#: 36,808 paths of about 65 characters) is 2.4 MB; 16 MiB leaves room for six times as
#: many images while keeping a mistaken multi-gigabyte file out of memory.
MAX_CSV_BYTES = 16 * 2**20

#: Columns of a data row: an image list holds the image path; a label list the study
#: path and its 0/1 label.
IMAGE_LIST_COLUMNS = 1
LABEL_LIST_COLUMNS = 2


@dataclass(frozen=True)
class CsvRow:
    """One data row: its line number and its fields, stripped."""

    line: int
    fields: tuple[str, ...]


def _text(path: Path, root: str | os.PathLike[str] | None) -> str:
    with open_input(path, root) as handle:
        size = handle.seek(0, io.SEEK_END)
        if size > MAX_CSV_BYTES:
            raise InputError(
                path, f"file of {size:,} bytes exceeds the {MAX_CSV_BYTES:,}-byte CSV limit"
            )
        handle.seek(0)
        try:
            data = handle.read()
        except OSError as exc:
            raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,})"
        ) from None


def _rows(path: Path, root: str | os.PathLike[str] | None) -> list[CsvRow]:
    rows = []
    try:
        for number, fields in enumerate(csv.reader(io.StringIO(_text(path, root))), start=1):
            stripped = tuple(f.strip() for f in fields)
            while stripped and not stripped[-1]:
                stripped = stripped[:-1]
            if stripped:
                rows.append(CsvRow(number, stripped))
    except csv.Error as exc:
        raise InputError(path, f"not a readable CSV ({exc})") from None
    return rows


def _check_columns(path: Path, rows: list[CsvRow], columns: int, kind: str) -> list[CsvRow]:
    for row in rows:
        if len(row.fields) != columns:
            raise InputError(
                path,
                f"line {row.line} has {len(row.fields)} column(s); every row of {kind} has "
                f"{columns}",
            )
    return rows


def _looks_like_image_row(row: CsvRow) -> bool:
    return row.fields[0].lower().endswith(".png")


def _looks_like_label_row(row: CsvRow) -> bool:
    return len(row.fields) >= 2 and row.fields[1].lstrip("+-").isdigit()


def read_image_paths(path: Path, root: str | os.PathLike[str] | None = None) -> list[CsvRow]:
    """Rows of an image list; ``fields[0]`` is the path as written (``MURA-v1.1/train/…``).

    ``root``: the folder the file must lie in (default its own folder).
    """
    rows = _rows(path, root)
    if rows and not _looks_like_image_row(rows[0]):
        rows = rows[1:]
    return _check_columns(path, rows, IMAGE_LIST_COLUMNS, "an image list (the image path)")


def read_labeled_studies(path: Path, root: str | os.PathLike[str] | None = None) -> list[CsvRow]:
    """Rows of a study label list; ``fields`` are ``(study_path, label)`` as written.

    ``root``: the folder the file must lie in (default its own folder).
    """
    rows = _rows(path, root)
    if rows and not _looks_like_label_row(rows[0]):
        rows = rows[1:]
    return _check_columns(
        path, rows, LABEL_LIST_COLUMNS, "a study label list (the study path and its label)"
    )
