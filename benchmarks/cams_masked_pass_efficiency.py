"""Masked-pass efficiency of PCAM± on ResNet-50 at 320×320 (random weights), with and
without ``channels_last``.

    python benchmarks/cams_masked_pass_efficiency.py [--batch-size 16] [--channel-budget 8]

Efficiency = masked passes per second inside one PCAM± call (whole call timed: baseline
pass, percentiles, mask building, scoring, fusion) ÷ images per second of a plain batched
forward of the same model, batch size, precision and memory format (measured just before
and just after the call, averaged). The exact run makes 7,809 passes, too long for a busy
CPU, so ``--channel-budget`` limits it to that many channels per layer on all five layers;
the passes actually made are counted. The last table estimates seconds per image of the
exact and of the fast (``channel_budget=64``) mode from the measured pass rate.
"""

from __future__ import annotations

import argparse

import torch
from _cams_common import machine, plain_rate, timed
from torchvision.models import resnet50

from medxai.cams.polycam import PolyCAM


def exact_passes(explainer: PolyCAM, x: torch.Tensor, budget: int | None) -> int:
    """Passes PCAM± makes on ``x`` with ``budget`` (one baseline, two per scored
    non-constant channel, one shared zero-mask pass if a scored channel is constant)."""
    _, acts = explainer._forward_with_activations(x, explainer.target_layers)
    live, dead = 0, 0
    for a in acts.values():
        flat = a[0].flatten(1)
        varying = flat.amax(1) > flat.amin(1)
        if budget is not None and budget < len(varying):
            keep = torch.zeros_like(varying)
            keep[a[0].abs().mean((1, 2)).topk(budget).indices] = True
            varying, constant = varying & keep, ~varying & keep
        else:
            constant = ~varying
        live += int(varying.sum())
        dead += int(constant.sum())
    return 1 + 2 * live + (1 if dead else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--channel-budget", type=int, default=8)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = resnet50(weights=None).eval()
    x = torch.randn(1, 3, args.size, args.size)
    print(f"machine: {machine()}\n")
    rows, engine_rate = [], {}
    for channels_last in (True, False):
        before = plain_rate(
            model, args.batch_size, args.size, channels_last=channels_last, repeats=1
        )
        explainer = PolyCAM(
            model,
            "pcam±",
            batch_size=args.batch_size,
            channel_budget=args.channel_budget,
            channels_last=channels_last,
            input_size=(args.size, args.size),
        )
        seconds, result = timed(lambda e=explainer: e(x, targets=0))
        after = plain_rate(
            model, args.batch_size, args.size, channels_last=channels_last, repeats=1
        )
        plain = (before + after) / 2
        s = result.settings
        rate = s["masked_passes"] / seconds
        engine_rate[channels_last] = rate
        rows.append(
            f"| {channels_last} | {s['baseline_passes']} | {s['masked_passes']} "
            f"| {s['masked_forward_calls']} | {seconds:.1f} | {rate:.2f} "
            f"| {before:.2f} / {after:.2f} | {rate / plain:.2f} |"
        )
    print(
        f"PCAM± ResNet-50 {args.size}², fp32, batch {args.batch_size}, "
        f"{args.channel_budget} channels per layer\n"
    )
    print(
        "| channels_last | baseline passes | masked passes | masked batches | s (call) "
        "| masked passes/s | plain fwd img/s (before / after) | efficiency |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\nchannels_last speed-up of the engine: {engine_rate[True] / engine_rate[False]:.2f}×\n"
    )
    explainer = PolyCAM(model, "pcam±", input_size=(args.size, args.size))
    print("| mode | passes | est. s / image (measured channels_last pass rate) |")
    print("|---|---|---|")
    for label, budget in (("exact", None), ("fast, channel_budget=64", 64)):
        n = exact_passes(explainer, x, budget)
        print(f"| {label} | {n} | {n / engine_rate[True]:.0f} |")


if __name__ == "__main__":
    main()
