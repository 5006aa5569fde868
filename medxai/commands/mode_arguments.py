"""The Poly-CAM mode flags that ``medxai report`` and ``medxai evaluate`` share.

``--exact``, ``--channel-budget`` and ``--tolerance`` are declared here once; the rule
that combines them is :func:`medxai.cams.presets.command_line_mode`, applied by each
command's options.
"""

from __future__ import annotations

import argparse
from typing import Any

from medxai.cams.presets import DEFAULT_CHANNEL_BUDGET

#: The parsed names of the flags, as the commands' options take them.
MODE_ARGUMENTS = ("exact", "channel_budget", "tolerance")


def add_mode_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--exact``, ``--channel-budget N`` and ``--tolerance T`` to ``parser``."""
    parser.add_argument(
        "--exact",
        action="store_true",
        help="exact Poly-CAM on the CPU too (slow; exact on a GPU anyway)",
    )
    parser.add_argument(
        "--channel-budget",
        type=int,
        default=None,
        metavar="N",
        help=(
            "Poly-CAM fast mode on the CPU: scored channels per layer (default "
            f"{DEFAULT_CHANNEL_BUDGET}; more is closer to exact and slower; measured "
            "closeness in docs/benchmarks.md)"
        ),
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=None,
        metavar="T",
        help=(
            "Poly-CAM fast mode on the CPU: a channel is left unscored only when its mask "
            "is within this RMS distance (0-1) of a scored channel's; alone, it sets the "
            "passes; with --channel-budget, the budget caps them (not with --exact)"
        ),
    )


def mode_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed flags as keyword arguments of ReportOptions or EvaluateOptions."""
    return {name: getattr(args, name) for name in MODE_ARGUMENTS}
