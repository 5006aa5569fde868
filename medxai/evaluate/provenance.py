"""Which data an evaluation's rows were computed from, so that a resume cannot mix data sets.

A run records in ``run.json`` its data root (resolved, absolute) and, per image row key
(the image's path relative to the root), a digest of every file read for that image:

    digest = SHA-256 of the lines ``"<role> <path relative to the root> <SHA-256 of the file>"``

for the image itself and, when localisation is measured, the study's annotation file and
the image's cast mask (one that does not exist is recorded as ``absent``, so adding one
later changes the digest). Every file is read under the file-access rule of
:mod:`medxai.io.files` within the data root, as the evaluation reads it. A resume must
have the same root, and every image it shares with the earlier run must have the same
digest; otherwise its rows would be published as results on data they were not computed
from.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from medxai.errors import OutputError
from medxai.evaluate.selection import image_key
from medxai.io.files import file_sha256
from medxai.io.masks import cast_mask_path

#: The value recorded for a ground-truth file that does not exist.
ABSENT = "absent"


def files_read(image: Path, localisation: bool) -> list[tuple[str, Path]]:
    """``(role, path)`` of every file an evaluation reads for ``image``.

    With ``localisation``, the study's annotation file is ``annotations.json`` or
    ``annotations.xml`` (the first present; ``annotations.json`` when neither is).
    """
    from medxai.io.annotations import ANNOTATION_FILE_NAMES, find_annotation_file

    files = [("image", Path(image))]
    if localisation:
        study = Path(image).parent
        annotations = find_annotation_file(study) or study / ANNOTATION_FILE_NAMES[0]
        files += [("annotations", annotations), ("cast", cast_mask_path(image))]
    return files


def _file_digest(path: Path, root: Path) -> str:
    """The file's SHA-256 read under the file-access rule within ``root``, or
    :data:`ABSENT` when nothing is at ``path``. A FIFO, a device, a folder or a link out of
    the root is refused (:class:`~medxai.errors.InputError`), as reading it would be."""
    if not os.path.lexists(path):
        return ABSENT
    return file_sha256(path, root)


def image_digests(records: Iterable[Any], root: Path, localisation: bool) -> dict[str, str]:
    """Row key → digest of the files read for that image (see the module's rule).

    Each file is hashed once, however many images share it (a study's annotations).
    """
    root = Path(root)
    hashed: dict[Path, str] = {}
    digests: dict[str, str] = {}
    for record in records:
        lines = []
        for role, path in files_read(Path(record.path), localisation):
            if path not in hashed:
                hashed[path] = _file_digest(path, root)
            lines.append(f"{role} {image_key(path, root)} {hashed[path]}\n")
        digest = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
        digests[image_key(Path(record.path), root)] = digest
    return digests


def data_entry(root: Path, digests: Mapping[str, str]) -> dict[str, Any]:
    """The ``data`` entry of ``run.json``."""
    return {"root": str(Path(root).resolve()), "images": dict(sorted(digests.items()))}


def check_same_data(out: Path, earlier: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    """Raise :class:`OutputError` (one line) unless ``current`` (a :func:`data_entry`) may
    resume rows made from ``earlier``: same root, same digest for every shared image."""
    hint = "pass --force to start again or choose another --out"
    if not earlier:
        raise OutputError(out, f"holds results with no record of the data they came from; {hint}")
    if earlier.get("root") != current["root"]:
        raise OutputError(
            out,
            f"holds results computed from another data root ({earlier.get('root')}, not "
            f"{current['root']}); {hint}",
        )
    before = earlier.get("images")
    before = before if isinstance(before, Mapping) else {}
    changed = sorted(k for k, v in current["images"].items() if k in before and before[k] != v)
    if changed:
        plural = "s" if len(changed) != 1 else ""
        raise OutputError(
            out,
            f"holds results computed from other data: {len(changed)} image{plural} or their "
            f"annotations differ in content since (e.g. {changed[0]}); {hint}",
        )
