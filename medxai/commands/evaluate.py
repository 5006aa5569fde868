"""``medxai evaluate ROOT --checkpoint CKPT``: saliency methods × metrics over a split."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medxai.commands.mode_arguments import add_mode_arguments, mode_arguments
from medxai.evaluate.catalog import METRIC_COLUMNS
from medxai.evaluate.options import DEFAULT_METHODS, DEFAULT_METRICS, TARGET_CHOICES

DESCRIPTION = """\
Run saliency methods x metrics over a split (or some body parts) of a MURA-layout
dataset, real or phantom. Writes OUT/per_image.csv (one row per image and method),
OUT/summary.csv and OUT/summary.md (means with bootstrap 95% CIs) and OUT/curves.png.
A rerun with the same OUT skips the rows already finished; --force starts again.
--devices/--num-nodes/--strategy ddp shard the images across processes (Lightning)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` sub-command."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure saliency methods over a dataset split (faithfulness, localisation, ...)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("root", metavar="ROOT", type=Path, help="MURA-layout dataset folder")
    parser.add_argument("--checkpoint", required=True, type=Path, help="medxai checkpoint")
    parser.add_argument("--split", default="valid", choices=("train", "valid"))
    parser.add_argument(
        "--body-parts", default=None, help="comma-separated, e.g. XR_WRIST,elbow (default: all)"
    )
    parser.add_argument(
        "--methods", default=DEFAULT_METHODS, help=f"comma-separated (default {DEFAULT_METHODS})"
    )
    parser.add_argument(
        "--metrics",
        default=DEFAULT_METRICS,
        help=f"comma-separated, from {', '.join(METRIC_COLUMNS)} (default {DEFAULT_METRICS});"
        " sensitivity-max is costly",
    )
    parser.add_argument(
        "--target",
        default="1",
        choices=TARGET_CHOICES,
        help="class explained: 1 = abnormal (default), 0 = normal, or the predicted class",
    )
    parser.add_argument("--limit", type=int, default=None, help="first N images (path order)")
    parser.add_argument("--out", type=Path, default=None, help="default ./evaluation-<split>")
    parser.add_argument("--batch-size", type=int, default=8, help="images per batch (default 8)")
    parser.add_argument(
        "--forward-batch-size",
        type=int,
        default=64,
        help="step images per forward pass in the metrics (default 64)",
    )
    add_mode_arguments(parser)
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="insertion/deletion steps (default: the model's input side, as in the paper)",
    )
    parser.add_argument("--sensitivity-samples", type=int, default=10)
    parser.add_argument("--sensitivity-radius", type=float, default=0.02)
    parser.add_argument("--devices", default="1", help="count, list (0,1) or auto (default 1)")
    parser.add_argument("--num-nodes", type=int, default=1)
    parser.add_argument("--strategy", default="auto", help="auto, ddp, ... (Lightning)")
    parser.add_argument("--accelerator", default="auto", choices=("auto", "cpu", "gpu"))
    parser.add_argument("--workers", type=int, default=0, help="data loader workers (default 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bootstrap", type=int, default=2000, help="bootstrap resamples for the CIs (2000)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--force", action="store_true", help="discard earlier results in OUT")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation; rank 0 prints the summary and where the files are."""
    from medxai.evaluate.options import EvaluationOptions
    from medxai.evaluate.runner import run_evaluation

    options = EvaluationOptions(
        root=args.root,
        checkpoint=args.checkpoint,
        out=args.out if args.out is not None else Path(f"evaluation-{args.split}"),
        split=args.split,
        body_parts=args.body_parts,
        methods=args.methods,
        metrics=args.metrics,
        target=args.target,
        limit=args.limit,
        batch_size=args.batch_size,
        forward_batch=args.forward_batch_size,
        **mode_arguments(args),
        steps=args.steps,
        sensitivity_samples=args.sensitivity_samples,
        sensitivity_radius=args.sensitivity_radius,
        devices=args.devices,
        num_nodes=args.num_nodes,
        strategy=args.strategy,
        accelerator=args.accelerator,
        workers=args.workers,
        seed=args.seed,
        bootstrap=args.bootstrap,
        force=args.force,
        progress=not args.no_progress,
    )
    outcome = run_evaluation(options)
    if outcome is None:  # a rank other than 0: rank 0 reports
        return 0
    print(outcome.summary_markdown, end="")
    print(
        f"\n{outcome.images} images x {len(outcome.methods)} methods: "
        f"{outcome.computed} rows computed, {outcome.skipped} already done; "
        f"wrote {outcome.layout.per_image}, {outcome.layout.summary_md}",
        file=sys.stderr,
    )
    return 0
