"""PCAM± on ResNet-18 at 224×224, fp32 and bf16 autocast, against the published code's
measured 81.6 s per image (2,049 passes, this project's 2-core CPU, docs/benchmarks.md).

    python benchmarks/cams_vs_published.py [--channel-budget K] [--batch-size 64] [--skip-bf16]

Without ``--channel-budget`` every channel is scored (2,049 passes, minus the constant
channels that share one score). On a busy machine ``--channel-budget K`` time-limits the
run: all five layers, ``K`` channels each; the passes actually made are counted and the
exact run's time is estimated as (exact pass count) × (measured seconds per pass).

The published time was measured when a plain fp32 forward ran at 32 img/s, i.e. 81.6 s is
``81.6 × 32 / 2049 = 1.27`` plain-forward image-times per pass. The load-independent
comparison divides that by this run's seconds per pass × this run's plain fp32 rate
(contiguous, as the published code runs), both measured here.
"""

from __future__ import annotations

import argparse

import torch
from _cams_common import distances, machine, plain_rate, timed
from torchvision.models import resnet18

import medxai

PUBLISHED_SECONDS = 81.6
PUBLISHED_PASSES = 2049
PUBLISHED_PLAIN_RATE = 32.0  # img/s, plain fp32 forward on the machine that measured 81.6 s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--skip-bf16", action="store_true")
    parser.add_argument("--channel-budget", type=int, default=None)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = resnet18(weights=None).eval()
    x = torch.randn(1, 3, args.size, args.size)
    print(f"machine: {machine()}\n")

    contiguous = plain_rate(model, args.batch_size, args.size, channels_last=False)
    published_cost = PUBLISHED_SECONDS * PUBLISHED_PLAIN_RATE / PUBLISHED_PASSES
    modes = [("fp32", None)] + ([] if args.skip_bf16 else [("bf16 autocast", "bf16")])
    rows, maps = [], {}
    for label, autocast in modes:
        explainer = medxai.cams.create(
            "pcam±",
            model,
            batch_size=args.batch_size,
            autocast=autocast,
            channel_budget=args.channel_budget,
        )
        plain_options = {"channels_last": True, "autocast": autocast, "repeats": 1}
        before = plain_rate(model, args.batch_size, args.size, **plain_options)
        seconds, result = timed(lambda e=explainer: e(x, targets=0))
        after = plain_rate(model, args.batch_size, args.size, **plain_options)
        rate = (before + after) / 2
        passes = result.settings["masked_passes"] + 1
        per_pass = seconds / passes
        exact_passes = exact_pass_count(model, x)
        estimate = per_pass * exact_passes
        maps[label] = result.saliency[0, 0]
        cost = per_pass * contiguous  # plain fp32 image-times per pass, this run
        rows.append(
            f"| {label} | {passes} | {seconds:.1f} | {exact_passes} | {estimate:.1f} "
            f"| {before:.1f} / {after:.1f} | {per_pass * rate:.2f} | {published_cost / cost:.2f}× |"
        )
    print(
        f"plain fp32 contiguous forward, same run: {contiguous:.1f} img/s "
        f"(batch {args.batch_size}); budget per layer: {args.channel_budget}\n"
    )
    print(
        "| PCAM± ResNet-18 224² | passes made | s (run) | exact passes | est. s / image exact "
        "| plain fwd img/s, same precision, channels_last (before / after) "
        "| s per pass × plain rate "
        "| speed-up vs published at equal machine speed |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if "bf16 autocast" in maps:
        mx, mean, rho = distances(maps["bf16 autocast"], maps["fp32"])
        print(
            "\n| bf16 vs fp32 saliency (same options) | max abs diff | mean abs diff | Spearman |"
        )
        print("|---|---|---|---|")
        print(f"| PCAM± ResNet-18 224² | {mx:.4f} | {mean:.4f} | {rho:.4f} |")


def exact_pass_count(model, x) -> int:
    """Passes exact PCAM± makes for ``x``: one baseline, two per non-constant channel, one
    shared zero-mask pass per image when a constant channel exists."""
    explainer = medxai.cams.create("pcam±", model)
    _, acts = explainer._forward_with_activations(x, explainer.target_layers)
    live = sum(int((a.flatten(2).amax(-1) > a.flatten(2).amin(-1)).sum()) for a in acts.values())
    total = sum(a.shape[0] * a.shape[1] for a in acts.values())
    return 1 + 2 * live + (1 if live < total else 0)


if __name__ == "__main__":
    main()
