"""Does a trained phantom model use the cast? The plaster audit of one checkpoint, as a table.

Runs :func:`medxai.audit.plaster.audit_cast` on a phantom split (the counterfactual is
the same phantom re-rendered without its cast) and prints the verdict, the mean drop of
P(abnormal) when the cast is painted out (95 % bootstrap CI), the AUROC on images with
and without a cast, and the mean P(abnormal) per (cast, label) cell.

Usage (after ``medxai demo``)::

    python benchmarks/demo_cast_audit.py \\
        medxai-demo/runs/model-*/model.ckpt medxai-demo/phantoms
"""

from __future__ import annotations

import argparse
import datetime
import platform

import torch

from medxai.audit.plaster import audit_cast, rendered_counterfactual
from medxai.audit.samples import load_images
from medxai.cams import create
from medxai.checkpoint import load_classifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("root", help="phantom data set (MURA layout with phantom.json files)")
    parser.add_argument("--split", default="valid", choices=("train", "valid"))
    parser.add_argument("--limit", type=int, default=None, help="first N images")
    args = parser.parse_args()

    loaded = load_classifier(args.checkpoint)
    size, mean, std = loaded.input_size, loaded.mean, loaded.std
    images = load_images(args.root, args.split, size=size, mean=mean, std=std, limit=args.limit)
    audit = audit_cast(
        "model", loaded.model, images, {"CAM": create("cam", loaded.model)},
        rendered_counterfactual, size=size, mean=mean, std=std,
    )
    summary = audit.summary()
    verdict = summary["verdict"]
    print(f"{datetime.date.today()}  {platform.node()}  torch {torch.__version__}  "
          f"{args.checkpoint}  {len(images)} {args.split} images")
    print(f"\nverdict: {'SHORTCUT' if verdict['shortcut'] else 'no shortcut'}")
    for reason in verdict["reasons"]:
        print(f"  {reason}")
    print("\n| subgroup | AUROC | 95 % CI | abnormal | normal |\n|---|---|---|---|---|")
    for name, row in summary["subgroup_auroc"].items():
        print(f"| {name} | {row['auroc']:.3f} | [{row['low']:.3f}, {row['high']:.3f}] | "
              f"{row['n_positive']} | {row['n_negative']} |")
    print("\n| cell | images | mean P(abnormal) |\n|---|---|---|")
    for name, row in summary["mean_p"].items():
        print(f"| {name} | {row['n']} | {row['mean_p']:.3f} |")


if __name__ == "__main__":
    main()
