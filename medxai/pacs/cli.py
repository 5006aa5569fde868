"""The PACS options of ``medxai report``: ``--dicom``, ``--dicomweb URL --study UID
[--series UID] [--store] [--timeout S] [--ca-bundle FILE]``, and the run of a report on a
DICOMweb study.

Nothing here imports highdicom or dicomweb-client until a PACS option is used.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medxai.errors import MedxaiError
from medxai.pacs.uids import is_uid


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the PACS options to the ``report`` parser."""
    from medxai.pacs.credentials import DEFAULT_TIMEOUT, WHERE

    group = parser.add_argument_group(
        "PACS", f"DICOM outputs and DICOMweb (credentials from {WHERE}; see docs/pacs.md)"
    )
    group.add_argument(
        "--dicom",
        action="store_true",
        help="also write DICOM objects to OUT/dicom/ (map objects, overlays, SR; DICOM inputs)",
    )
    group.add_argument(
        "--dicomweb", metavar="URL", help="DICOMweb service root to read the study from"
    )
    group.add_argument(
        "--study", dest="study_uid", metavar="UID", help="Study Instance UID (with --dicomweb)"
    )
    group.add_argument("--series", metavar="UID", help="only this series (with --dicomweb)")
    group.add_argument(
        "--store", action="store_true", help="send the DICOM outputs back with STOW-RS"
    )
    group.add_argument(
        "--ca-bundle",
        type=Path,
        metavar="FILE",
        help="PEM file of the certificate authorities to trust for an https:// --dicomweb "
        "(default: REQUESTS_CA_BUNDLE, else the public authorities)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help=f"seconds to wait for each DICOMweb request (default: {DEFAULT_TIMEOUT:g})",
    )


def check_arguments(args: argparse.Namespace) -> None:
    """One source of images (STUDY_DIR or --dicomweb), and the options that go with it."""
    if args.dicomweb is None:
        if args.study is None:
            raise MedxaiError("give a STUDY_DIR, or --dicomweb URL --study UID")
        used = [
            o
            for o, v in (
                ("--study", args.study_uid),
                ("--series", args.series),
                ("--store", args.store),
                ("--timeout", args.timeout),
                ("--ca-bundle", args.ca_bundle),
            )
            if v
        ]
        if used:
            raise MedxaiError(f"{', '.join(used)} needs --dicomweb URL")
        return
    if args.study is not None:
        raise MedxaiError("give either a STUDY_DIR or --dicomweb, not both")
    if not args.study_uid:
        raise MedxaiError("--dicomweb needs --study UID (the Study Instance UID)")
    for option, uid in (("--study", args.study_uid), ("--series", args.series)):
        if uid is not None and not is_uid(uid):
            raise MedxaiError(f"{option} {uid!r} is not a DICOM UID (digits and dots, ≤ 64)")
    if args.timeout is not None and args.timeout <= 0:
        raise MedxaiError("--timeout must be > 0 seconds")


def report_from_dicomweb(args: argparse.Namespace, options: Any, build: Callable) -> Any:
    """Retrieve the study, report on it with DICOM outputs, and store them with ``--store``.

    ``options`` is the command's ReportOptions (its study is replaced by the retrieved
    folder). The default output folder is in the working folder: ``report-<hex>``, the hex
    digits of the retrieved study's label, or ``<StudyInstanceUID>_report`` with
    ``--show-identifiers``.
    """
    from medxai.io.study_label import study_folder_label
    from medxai.pacs.credentials import DEFAULT_TIMEOUT
    from medxai.pacs.dicomweb import DicomWebServer
    from medxai.pacs.study import retrieved_study

    server = DicomWebServer(args.dicomweb, args.timeout or DEFAULT_TIMEOUT, args.ca_bundle)
    with retrieved_study(server, args.study_uid, args.series) as study:
        for note in study.notes:
            print(note, file=sys.stderr)
        print(f"retrieved {study.retrieved} image instance(s) from {server.url}", file=sys.stderr)
        out = options.out
        if out is None and options.show_identifiers:
            out = Path(f"{args.study_uid}_report")
        elif out is None:
            out = Path(f"report-{study_folder_label(study.folder).removeprefix('study-')}")
        result = build(dataclasses.replace(options, study=study.folder, out=out, dicom=True))
    if args.store:
        store_outputs(server, result)
    return result


def store_outputs(server: Any, result: Any) -> None:
    """STOW-RS the report's DICOM objects; print what was stored, fail on any not stored."""
    from medxai.pacs.stow import stow_report

    for line in stow_report(server, result.out, result.summary.get("dicom", [])):
        print(line, file=sys.stderr)
