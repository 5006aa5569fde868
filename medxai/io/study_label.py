"""A study's neutral label, made from its image files' contents, not from its folder's name.

Folder names often carry record numbers or patient names, so outputs that must not show
identifiers name a study ``study-<12 hex digits>``: the first digits of the SHA-256 of
its images' sorted SHA-256 digests. The same images give the same label wherever they
are.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from medxai.errors import InputError
from medxai.io.files import file_sha256
from medxai.io.images import study_entries


def study_label(image_sha256: Sequence[str]) -> str:
    """The study's neutral label: ``study-`` and 12 hex digits of the SHA-256 of its
    images' sorted SHA-256 digests (the same images give the same label)."""
    joined = "\n".join(sorted(image_sha256)).encode("ascii")
    return f"study-{hashlib.sha256(joined).hexdigest()[:12]}"


def study_folder_label(folder: str | os.PathLike[str]) -> str:
    """:func:`study_label` over the SHA-256 of every image file in the study ``folder``:
    each file :func:`medxai.io.images.study_entries` takes for an image, whether it then
    decodes or is skipped (a file the access rule refuses has no digest and is left out).

    It is known before any image is decoded, so the report's default folder,
    ``report-<hex>``, carries the same digits as the label inside.
    """
    digests = []
    for path, kind in study_entries(folder):
        if kind is not None:
            try:
                digests.append(file_sha256(path, folder))
            except InputError:
                continue  # the report skips it and says why
    return study_label(digests)
