"""``medxai report STUDY_DIR``: explain one study and write its HTML/PDF/JSON report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medxai.cams.presets import DEFAULT_BATCH_SIZE
from medxai.commands.mode_arguments import add_mode_arguments, mode_arguments
from medxai.pacs import cli as pacs_cli
from medxai.report.options import DEVICES, TARGETS, ReportOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser(
        "report",
        help="explain one study: CAM and PCAM± side by side, zoomed regions, HTML/PDF/JSON",
        description=(
            "Explain one study with CAM and PCAM±, draw the annotations, measure the maps "
            "against them, and write report.html, report.pdf, summary.json and PNG figures."
        ),
    )
    parser.add_argument(
        "study", type=Path, nargs="?", metavar="STUDY_DIR", help="folder of PNG/JPEG/DICOM"
    )
    parser.add_argument(
        "--checkpoint", type=Path, required=True, metavar="CKPT", help="checkpoint from train.py"
    )
    parser.add_argument(
        "--annotations",
        type=Path,
        metavar="FILE",
        help="native JSON or CVAT XML 1.1 (default: the study's annotations.json, if any)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="report folder (default: report-<hex of the images' SHA-256> beside STUDY_DIR; "
        "STUDY_DIR_report with --show-identifiers)",
    )
    parser.add_argument("--device", choices=DEVICES, default="auto", help="default: auto")
    add_mode_arguments(parser)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"PCAM± masked batch (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--regions", type=int, default=3, metavar="K", help="salient regions to zoom (default: 3)"
    )
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="abnormal",
        help="class whose evidence the maps show (default: abnormal)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing report")
    parser.add_argument(
        "--show-identifiers",
        action="store_true",
        help="include patient identifiers (name, ID, birth date); left out by default",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    pacs_cli.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the report; user errors propagate as MedxaiError (one line, non-zero exit)."""
    from medxai.report import build_report
    from medxai.report.writer import shown_output

    pacs_cli.check_arguments(args)
    options = ReportOptions(
        study=args.study or Path(),  # --dicomweb: the retrieved study, below
        checkpoint=args.checkpoint,
        annotations=args.annotations,
        out=args.out,
        device=args.device,
        **mode_arguments(args),
        batch_size=args.batch_size,
        top_regions=args.regions,
        target=args.target,
        force=args.force,
        show_identifiers=args.show_identifiers,
        progress=not args.no_progress,
        dicom=args.dicom,
    )
    if args.dicomweb:
        result = pacs_cli.report_from_dicomweb(args, options, build_report)
    else:
        result = build_report(options)
    for note in result.notes:
        print(note, file=sys.stderr)
    where = shown_output(result.out, options.study, options.show_identifiers)
    print(f"{result.summary['verdict']['text']}: report written to {where}", file=sys.stderr)
    print(result.html)
    return 0
