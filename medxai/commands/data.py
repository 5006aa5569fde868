"""``medxai data check ROOT [--json]``: count a MURA-v1.1 copy and list its problems.

Counts are studies and images, normal/abnormal, per split and body part, of the images
that the index keeps (see :mod:`medxai.data.index` for what is left out and why). The
command exits 0 once the counts are printed, problems or not (``--strict`` makes any
problem exit 1); a root that is missing or not MURA-shaped is a one-line error, exit 2.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medxai.data.records import MuraIndex


def register(subparsers: Any) -> None:
    """Add ``data`` and its ``check`` sub-command to the top-level parser."""
    parser = subparsers.add_parser(
        "data",
        help="inspect a MURA-v1.1 dataset copy",
        description="Inspect a MURA-v1.1 dataset copy.",
    )
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION")
    actions.required = True
    check = actions.add_parser(
        "check",
        help="count studies and images per split, body part and label; list problems",
        description=(
            "Count studies and images (normal/abnormal) per split and body part of a "
            "MURA-v1.1 folder, and list every problem found: images listed but missing, "
            "unreadable images, label disagreements between folder names and "
            "*_labeled_studies.csv (such studies are left out), missing CSV files."
        ),
    )
    check.add_argument("root", metavar="ROOT", help="the MURA-v1.1 folder (any name)")
    check.add_argument(
        "--json", action="store_true",
        help='print one JSON object: {"splits": {...}, "problems": [{"path", "problem"}]}',
    )
    check.add_argument(
        "--decode", choices=("none", "header", "full"), default="header",
        help="how to check that images are readable: not at all, PNG structure and "
        "checksums (default, fast), or a full pixel decode (slow on a full copy)",
    )
    check.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help="threads for the readability check (default: number of CPUs)",
    )
    check.add_argument("--strict", action="store_true", help="exit 1 when any problem is found")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Build the index, print counts and problems; returns the exit code."""
    from medxai.data.index import build_index  # torch is imported only when the command runs

    index = build_index(args.root, check_readable=args.decode, workers=args.workers)
    if args.json:
        print(json.dumps(index.to_json(), indent=2))
    else:
        print(format_report(index))
    return 1 if args.strict and index.problems else 0


def _pair(entry: dict | None, kind: str) -> str:
    if entry is None:
        return "0/0"
    return f"{entry[kind]['normal']}/{entry[kind]['abnormal']}"


def format_report(index: MuraIndex) -> str:
    """The human-readable table (normal/abnormal per cell, totals in the last row)."""
    from medxai.data.layout import SPLITS

    counts = index.counts()
    body_parts = sorted({bp for split in counts.values() for bp in split})
    columns = [(split, kind) for kind in ("studies", "images") for split in SPLITS]
    header = ["body part", *(f"{split} {kind}" for split, kind in columns)]
    rows = [
        [bp, *(_pair(counts[split].get(bp), kind) for split, kind in columns)]
        for bp in body_parts
    ]
    totals = ["total"]
    for split, kind in columns:
        n = sum(e[kind]["normal"] + e[kind]["abnormal"] for e in counts[split].values())
        totals.append(f"{n:,}")
    rows.append(totals)
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(w) for cell, w in zip(cells[1:], widths[1:]))
        return "  ".join([first, *rest]).rstrip()

    out = [f"MURA-v1.1 at {index.root}", "counts are normal/abnormal", line(header)]
    out.extend(line(r) for r in rows)
    if index.problems:
        out.append(f"problems ({len(index.problems)}):")
        out.extend(f"  {p.path}: {p.problem}" for p in index.problems)
    else:
        out.append("problems: none")
    return "\n".join(out)
