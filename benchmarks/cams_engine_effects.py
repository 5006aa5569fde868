"""Where PCAM±'s engine saves work: one baseline pass per call, constant channels scored
once, ± masks sharing batches.

    python benchmarks/cams_engine_effects.py [--size 224] [--channel-budget 16]

1. Baseline passes per call, from ``result.settings`` (the published code runs one per
   target layer).
2. Constant channels (an all-zero mask after ``N``) on one random input for ResNet-18 and
   ResNet-50 (random weights; a trained model has more dead channels): the passes saved.
3. PCAM± in one call (``⊙M`` and ``⊙(1-M)`` in the same batches) against PCAM+ then
   PCAM− (the same passes, two calls), ResNet-18, ``--channel-budget`` channels per layer.
"""

from __future__ import annotations

import argparse

import torch
from _cams_common import machine, timed
from torchvision.models import resnet18, resnet50

from medxai.cams.polycam import PolyCAM


def constant_channels(model: torch.nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """(constant channels, all channels) over the default target layers, for ``x``."""
    explainer = PolyCAM(model, "pcam±")
    _, acts = explainer._forward_with_activations(x, explainer.target_layers)
    dead = sum(
        int((a[0].flatten(1).amax(1) == a[0].flatten(1).amin(1)).sum()) for a in acts.values()
    )
    return dead, sum(a.shape[1] for a in acts.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--channel-budget", type=int, default=16,
                        help="channels scored per layer; 0 scores every channel (exact)")
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(1, 3, args.size, args.size)
    print(f"machine: {machine()}\n")

    print(
        "| model | constant channels | all channels | PCAM± passes without sharing "
        "| with sharing | saved |"
    )
    print("|---|---|---|---|---|---|")
    for name, build in (("ResNet-18", resnet18), ("ResNet-50", resnet50)):
        dead, total = constant_channels(build(weights=None).eval(), x)
        without, with_ = 1 + 2 * total, 1 + 2 * (total - dead) + (1 if dead else 0)
        print(f"| {name} | {dead} | {total} | {without} | {with_} | {without - with_} |")

    model = resnet18(weights=None).eval()
    options = {"batch_size": args.batch_size, "channel_budget": args.channel_budget or None}
    runs = {}
    for variant in ("pcam±", "pcam+", "pcam-"):
        explainer = PolyCAM(model, variant, **options)
        runs[variant] = timed(lambda e=explainer: e(x, targets=0))
    both, plus, minus = runs["pcam±"], runs["pcam+"], runs["pcam-"]
    print(
        f"\nResNet-18 {args.size}², batch {args.batch_size}, "
        + (f"{args.channel_budget} channels per layer\n" if args.channel_budget
           else "every channel scored\n")
    )
    print("| run | baseline passes | masked passes | masked batches | s |")
    print("|---|---|---|---|---|")
    for label, (seconds, result) in (("PCAM± (one call)", both), ("PCAM+", plus), ("PCAM−", minus)):
        s = result.settings
        print(
            f"| {label} | {s['baseline_passes']} | {s['masked_passes']} "
            f"| {s['masked_forward_calls']} | {seconds:.1f} |"
        )
    print(
        f"\n± in one call vs PCAM+ then PCAM−: {(plus[0] + minus[0]) / both[0]:.2f}× faster "
        "(one baseline, one set of masks, full batches shared by both signs)"
    )


if __name__ == "__main__":
    main()
