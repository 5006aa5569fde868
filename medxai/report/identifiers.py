"""The identifier rule of a report: which patient identifiers it shows and how paths appear.

Folder names often carry record numbers, so without ``--show-identifiers`` the study is
named by a neutral label made from its image files' contents
(:func:`medxai.io.study_label.study_folder_label`) and every path is relative
(:class:`PathRule`); the identifiers found in the images (:func:`study_identifiers`) and
absolute paths appear only with ``--show-identifiers``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medxai.report.inputs import IDENTIFIER_KEYS


def study_identifiers(images: Sequence[Any]) -> dict[str, str]:
    """Patient and study identifiers found in the images (first value of each key).

    :data:`IDENTIFIER_KEYS` come first; instance and series UIDs are left out.
    """
    found: dict[str, str] = {}
    for image in images:
        for key, value in (image.identifiers or {}).items():
            if value and key not in found and not key.endswith("UID"):
                found[key] = str(value)
    first = {key: found[key] for key in IDENTIFIER_KEYS if key in found}
    return {**first, **{k: v for k, v in found.items() if k not in first}}


@dataclass(frozen=True)
class PathRule:
    """How paths appear in the report.

    With ``show`` (``--show-identifiers``): absolute, resolved paths. Without: a path inside
    the study folder relative to it (``/``-separated), any other path by its file name, and
    in free text (warnings, reasons) every spelling of the study folder's path is replaced:
    ``<folder>/x`` by ``x`` and ``<folder>`` alone by the study's label.
    """

    folder: Path  # the study folder as given
    label: str
    show: bool

    def path(self, path: str | os.PathLike[str]) -> str:
        """``path`` as the report shows it."""
        path = Path(path)
        resolved = path.parent.resolve() / path.name  # the entry itself: a link loop is listed too
        if self.show:
            return str(resolved)
        try:
            return resolved.relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return resolved.name

    def _pattern(self) -> re.Pattern[str]:
        given = str(self.folder)
        spellings = {str(self.folder.resolve()), str(self.folder.absolute())}
        if given not in (".", ""):
            spellings.add(given)
        alternatives = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))
        sep = re.escape(os.sep)
        return re.compile(rf"(?<![\w./-])(?:{alternatives})(?:(?P<sep>{sep})|(?![\w.-]))")

    def text(self, value: Any) -> Any:
        """``value`` (a JSON-safe tree) with the study folder's path hidden in every string."""
        if self.show:
            return value
        pattern = self._pattern()

        def hide(item: Any) -> Any:
            if isinstance(item, str):
                return pattern.sub(lambda m: "" if m["sep"] else self.label, item)
            if isinstance(item, dict):
                return {k: hide(v) for k, v in item.items()}
            if isinstance(item, list):
                return [hide(v) for v in item]
            return item

        return hide(value)
