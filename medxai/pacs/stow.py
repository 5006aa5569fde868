"""Sending a report's DICOM objects back to the server (STOW-RS), and saying what was
stored: a partial failure names the objects stored and those not stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pydicom

from medxai.errors import OutputError
from medxai.pacs.dicomweb import DicomWebServer


def stow_report(
    server: DicomWebServer, out: Path, objects: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Store the objects listed in ``summary.json``'s ``dicom`` entry (files under ``out``).

    Returns one line per stored object and a closing line.

    Raises:
        OutputError: the server is unusable (nothing stored), or some objects were not
            stored (the message lists which were and which were not); either way the
            message says that the report folder keeps them all.
    """
    if not objects:
        raise OutputError(out, "the report has no DICOM objects to store")
    datasets = [pydicom.dcmread(out / entry["file"]) for entry in objects]
    study = str(datasets[0].StudyInstanceUID)  # every object is filed in the source study
    try:
        result = server.store(datasets, study)
    except OutputError as exc:
        raise OutputError(
            exc.path, f"{exc.problem}; nothing was stored; all objects are kept in {out}"
        ) from None
    by_uid = {entry["sop_instance_uid"]: entry for entry in objects}
    stored = [by_uid[uid] for uid in result.stored if uid in by_uid]
    if result.failed:
        failed = "; ".join(
            f"{by_uid[uid]['file'] if uid in by_uid else uid} ({reason})"
            for uid, reason in result.failed.items()
        )
        kept = ", ".join(entry["file"] for entry in stored) or "none"
        raise OutputError(
            server.url,
            f"STOW-RS stored {len(stored)} of {len(objects)} DICOM object(s); not stored: "
            f"{failed}; stored: {kept}; all are kept in {out}",
        )
    lines = [f"stored {entry['file']} ({entry['object']})" for entry in stored]
    lines.append(f"stored {len(stored)} DICOM object(s) in study {study} on {server.url}")
    return lines
