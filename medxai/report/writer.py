"""Writing a report folder atomically: all files appear together, or none do; where it
goes by default, and how its place is shown.

**Identifiers.** A study folder's name is often a patient's name or record number, so
without ``--show-identifiers`` neither the default report folder nor the line that says
where the report went holds it. The default folder is ``report-<12 hex digits>`` beside
the study (:func:`default_output`): the digits are those of the study's label
(:func:`medxai.io.study_label.study_folder_label`), made from the contents of its
image files, never from a name, so they cannot be traced back to one. The line names the
folder by its path relative to the working folder when that path holds no part of the
study folder's path, else by its name alone (:func:`shown_output`). With
``--show-identifiers`` the default folder is ``<study>_report`` and the line shows the
path as given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from medxai.atomic import (
    check_replaceable,
    check_writable_parent,
    clean_stale_temporaries,
    staged_dir,
)
from medxai.errors import OutputError

#: The file every report folder holds: ``--force`` replaces only a folder that has it.
REPORT_MARKER = "summary.json"

#: What a report folder written before folders carried their file list
#: (:data:`medxai.atomic.MANIFEST`) may hold, and nothing else, for ``--force`` to
#: replace it: the HTML, PDF and JSON reports, ``figures/NN_<image>_<kind>.png`` and the
#: DICOM objects ``dicom/<name>.dcm`` (relative paths; folders end in ``/``).
REPORT_LAYOUT = re.compile(
    r"report\.html|report\.pdf|summary\.json"
    r"|figures/|figures/[0-9]+_[^/]+_(overview|zoom|references)\.png"
    r"|dicom/|dicom/[^/]+\.dcm"
)


def default_output(study: Path, show_identifiers: bool) -> Path:
    """The report folder when none is given, beside the study: ``<study>_report`` with
    ``show_identifiers``, else ``report-`` and the hex digits of the study's label
    (:func:`medxai.io.study_label.study_folder_label`)."""
    from medxai.io.study_label import study_folder_label

    folder = Path(study).resolve()
    if show_identifiers:
        return folder.parent / f"{folder.name}_report"
    return folder.parent / f"report-{study_folder_label(folder).removeprefix('study-')}"


def shown_output(out: Path, study: Path, show_identifiers: bool) -> str:
    """``out`` as the line "report written to …" names it (see the module notes).

    With ``show_identifiers``: as given. Else its path relative to the working folder,
    when that stays below it and none of its parts is a folder on the study's path or
    holds the study folder's name; else its name alone, under the same condition
    (``report-<hex>, beside the study folder`` by default); else "the --out folder".
    """
    if show_identifiers:
        return str(out)
    target, study_path = Path(out).resolve(), Path(study).resolve()
    folders = set(study_path.parts[1:])

    def private(part: str) -> bool:
        return part in folders or (bool(study_path.name) and study_path.name in part)

    relative = Path(os.path.relpath(target, Path.cwd().resolve()))
    if ".." not in relative.parts and not any(map(private, relative.parts)):
        return relative.as_posix()
    if private(target.name):
        return "the --out folder"
    if target.parent == study_path.parent:
        return f"{target.name}, beside the study folder"
    return f"{target.name} (--show-identifiers shows its full path)"


def check_output(out: Path, study: Path, force: bool) -> None:
    """Fail before any work when the report cannot be written to ``out``.

    Refuses an existing ``out`` without ``force``, an ``out`` inside the study folder
    (the input stays untouched), an ``out`` that is a file, an existing ``out`` that is
    not a report folder, or holds files the report did not write, even with ``force``
    (:func:`medxai.atomic.check_replaceable`),
    and an unwritable parent. Stale temporaries of killed runs are cleaned here already.
    """
    out_abs, study_abs = out.resolve(), study.resolve()
    if out_abs == study_abs or study_abs in out_abs.parents:
        raise OutputError(out, "is inside the study folder; write the report elsewhere (--out)")
    if out_abs in study_abs.parents:
        raise OutputError(out, "contains the study folder; write the report elsewhere (--out)")
    clean_stale_temporaries(out_abs)  # first: it may put back a previous report
    if out.exists() and not out.is_dir():
        raise OutputError(out, "exists and is not a folder")
    if out.exists() and not force:
        raise OutputError(out, "already exists; pass --force to replace it")
    check_replaceable(out, REPORT_MARKER, REPORT_LAYOUT)
    check_writable_parent(out_abs)


def write_report(out: Path, files: Mapping[str, bytes], force: bool) -> Path:
    """Write ``files`` (relative path → bytes) into a staged folder renamed to ``out``."""
    try:
        with staged_dir(out, force=force, marker=REPORT_MARKER, layout=REPORT_LAYOUT) as tmp:
            for relative, data in files.items():
                target = tmp / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    except OSError as exc:
        raise OutputError(out, f"cannot write the report ({exc.strerror or exc})") from exc
    return out
