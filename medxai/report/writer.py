"""Writing a report folder atomically: all files appear together, or none do."""

from __future__ import annotations

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
