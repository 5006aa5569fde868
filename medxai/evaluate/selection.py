"""Which images a run covers, and which (image, method) rows are still to be made."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medxai.errors import MedxaiError
from medxai.io.images import natural_key


def image_key(path: Path, root: Path) -> str:
    """The image's identifier in the tables: its path relative to ``root``, with ``/``.

    Relative paths keep the tables the same wherever the dataset is unpacked.
    """
    path, root = Path(path).resolve(), Path(root).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def select_images(
    root: Path, split: str, body_parts: Sequence[str] | None, limit: int | None
) -> list[Any]:
    """The image records of ``split`` (and ``body_parts``), in natural path order
    (:func:`~medxai.io.images.natural_key`: ``image2`` before ``image10``, ``patient9``
    before ``patient10``), cut to ``limit``.

    The order does not depend on the file system, so ``--limit N`` always picks the same
    first ``N`` images and a rerun with a larger limit extends the earlier selection.
    """
    from medxai.data.index import build_index

    index = build_index(root)
    try:
        selected = index.filter(split=split, body_parts=body_parts or None)
    except ValueError as exc:
        raise MedxaiError(str(exc)) from None
    records = sorted(selected.images, key=lambda r: natural_key(image_key(r.path, root)))
    if not records:
        where = f"split {split!r}" + (f", body parts {', '.join(body_parts)}" if body_parts else "")
        raise MedxaiError(f"{root}: no images in {where}")
    return records[:limit] if limit is not None else records


@dataclass(frozen=True)
class WorkItem:
    """One image and the methods whose rows are still missing for it."""

    record: Any
    image: str
    methods: tuple[str, ...]


def done_keys(rows: Iterable[Mapping[str, str]]) -> set[tuple[str, str]]:
    """The (image, method) keys of finished rows."""
    return {(row["image"], row["method"]) for row in rows if "image" in row and "method" in row}


def pending_work(
    records: Sequence[Any], root: Path, methods: Sequence[str], done: set[tuple[str, str]]
) -> list[WorkItem]:
    """Work items for the records that still lack a row for some method, in record order."""
    work: list[WorkItem] = []
    for record in records:
        image = image_key(record.path, root)
        missing = tuple(m for m in methods if (image, m) not in done)
        if missing:
            work.append(WorkItem(record=record, image=image, methods=missing))
    return work
