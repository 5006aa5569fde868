"""Wall time of ``medxai report`` (``build_report``) for a 3-image study at 512 px with a
ResNet-50 at input 320 on the CPU: fast mode (measured) and exact PCAM± (extrapolated).

    python benchmarks/bench_report.py [--work /tmp/bench_report] [--channel-budget 32]

The script builds its own inputs in ``--work``:

- a phantom study of 3 abnormal radiographs, 512 px on the long side, with its
  ``annotations.json`` (``medxai.data.phantoms.generate``, one valid study);
- a checkpoint in ``train.py``'s format (``medxai.checkpoint.make_metadata``) of a
  ResNet-50 with random weights (``weights=None``), one "abnormal" logit, input 320.

The process's allocator is set as ``medxai``'s command line sets it
(:func:`medxai.allocator.keep_freed_memory`; ``MEDXAI_KEEP_FREED_MEMORY=0`` leaves
glibc's default). It then times ``build_report`` in fast mode (``channel_budget``, the
report's default on a CPU) from start to finish, every stage included (reading, CAM,
PCAM±, regions, metrics, figures, HTML, PDF). PCAM± calls are timed inside the run, and
so are the masked forward batches inside them (``MaskedScorer.flush``), which gives the
engine's measured seconds per masked pass.

Exact PCAM± on ResNet-50 at 320 makes about 7,800 masked passes per image, which does
not fit a benchmark run on a small CPU, so the exact report time is an extrapolation:

    exact ≈ (fast report time − fast PCAM± time)
            + Σ_images [ (PCAM± call − masked batches) + exact passes × s per masked pass ]

where the exact pass count of each image is counted (``2 ×`` its non-constant channels,
``+ 1`` shared pass for the constant ones, as the engine does) from one baseline pass.
The part of a PCAM± call outside the masked batches (baseline pass, percentiles, mask
upsampling, fusion) is taken from the fast run; mask upsampling grows with the pass
count, so this slightly under-counts it, while the forward passes, by far the largest
cost, are counted in full. ``--exact`` runs the exact report instead (for a fast
machine).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from medxai.cams import masked, polycam


def build_study(work: Path, size: int) -> tuple[Path, Path]:
    """A 3-image abnormal phantom study at ``size`` px; (study folder, annotations)."""
    from medxai.data.phantoms import PhantomConfig, generate

    root = work / "phantoms"
    config = PhantomConfig(
        train_studies=0,
        valid_studies=1,
        size=size,
        body_parts=("XR_WRIST",),
        abnormal_fraction=1.0,
        images_per_study=(3, 3),
        seed=0,
    )
    generate(root, config, force=True)
    study = next(p.parent for p in sorted(root.glob("valid/**/image1.png")))
    return study, study / "annotations.json"


def build_checkpoint(work: Path, input_size: int) -> Path:
    """A ResNet-50 (random weights, seed 0) checkpoint in ``train.py``'s format."""
    from medxai.checkpoint import make_metadata
    from medxai.data.transforms import IMAGENET_MEAN, IMAGENET_STD
    from medxai.models import build_classifier

    torch.manual_seed(0)
    model = build_classifier("resnet50", 1, weights=None)
    metadata = make_metadata(
        arch="resnet50",
        input_size=input_size,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        provenance={"note": "random weights, for timing only"},
    )
    path = work / "resnet50_320.ckpt"
    state = {f"model.{key}": value for key, value in model.state_dict().items()}
    torch.save({"state_dict": state, "medxai": metadata}, path)
    return path


class Probe:
    """Times every PolyCAM call and every masked batch while installed."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.flush_seconds = 0.0
        self.flush_passes = 0
        self._explain = polycam.PolyCAM._explain
        self._flush = masked.MaskedScorer.flush

    def __enter__(self) -> Probe:
        probe = self

        def explain(explainer: polycam.PolyCAM, x: torch.Tensor, targets: Any) -> Any:
            seconds0, passes0 = probe.flush_seconds, probe.flush_passes
            start = time.perf_counter()
            result = probe._explain(explainer, x, targets)
            probe.calls.append(
                {
                    "seconds": time.perf_counter() - start,
                    "masked_seconds": probe.flush_seconds - seconds0,
                    "masked_passes": probe.flush_passes - passes0,
                    "channel_budget": explainer.channel_budget,
                }
            )
            return result

        def flush(scorer: masked.MaskedScorer) -> None:
            n = scorer.filled
            start = time.perf_counter()
            probe._flush(scorer)
            probe.flush_seconds += time.perf_counter() - start
            probe.flush_passes += n

        polycam.PolyCAM._explain = explain  # type: ignore[method-assign]
        masked.MaskedScorer.flush = flush  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        polycam.PolyCAM._explain = self._explain  # type: ignore[method-assign]
        masked.MaskedScorer.flush = self._flush  # type: ignore[method-assign]


def exact_passes(checkpoint: Path, study: Path) -> list[int]:
    """Masked passes exact PCAM± makes for each image of the study (see module doc)."""
    from medxai.cams.layers import discover_target_layers
    from medxai.cams.normalize import percentile_normalize
    from medxai.checkpoint import load_classifier
    from medxai.data.transforms import read_radiograph_png, to_model_input

    loaded = load_classifier(checkpoint)
    size = loaded.input_size
    names = discover_target_layers(loaded.model, (size, size))
    modules = dict(loaded.model.named_modules())
    counts = []
    for path in sorted(study.glob("*.png")):
        x = to_model_input(read_radiograph_png(path), size, loaded.mean, loaded.std)[None]
        recorded: dict[str, torch.Tensor] = {}
        hooks = [
            modules[n].register_forward_hook(
                lambda _m, _i, out, n=n, r=recorded: r.__setitem__(n, out.detach())
            )
            for n in names
        ]
        try:
            with torch.no_grad():
                loaded.model(x)
        finally:
            for h in hooks:
                h.remove()
        live = sum(
            int((percentile_normalize(recorded[n]).flatten(2).amax(-1) > 0).sum()) for n in names
        )
        total = sum(recorded[n].shape[1] for n in names)
        counts.append(2 * live + (1 if live < total else 0))
    return counts


def loadavg() -> str:
    """The 1-minute load average."""
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main() -> None:
    from _cams_common import machine

    from medxai.allocator import keep_freed_memory
    from medxai.report import ReportOptions, build_report

    keep_freed_memory()  # as the medxai command line does (MEDXAI_KEEP_FREED_MEMORY=0: not)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_report"))
    parser.add_argument("--size", type=int, default=512, help="phantom image size (px)")
    parser.add_argument("--input-size", type=int, default=320, help="model input size")
    parser.add_argument(
        "--channel-budget",
        type=int,
        default=None,
        help="fast mode budget (default: ReportOptions' default)",
    )
    parser.add_argument("--exact", action="store_true", help="also run the exact report")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    study, annotations = build_study(args.work, args.size)
    checkpoint = build_checkpoint(args.work, args.input_size)
    images = sorted(study.glob("*.png"))
    print(f"machine: {machine()}")
    print(
        f"study: {study} ({len(images)} images, {args.size} px); checkpoint: ResNet-50, "
        f"input {args.input_size}, random weights\n"
    )

    extra = {} if args.channel_budget is None else {"channel_budget": args.channel_budget}
    runs = [("fast", False)] + ([("exact", True)] if args.exact else [])
    measured: dict[str, dict[str, Any]] = {}
    for label, exact in runs:
        out = args.work / f"report_{label}"
        shutil.rmtree(out, ignore_errors=True)
        options = ReportOptions(
            study=study,
            checkpoint=checkpoint,
            annotations=annotations,
            out=out,
            device="cpu",
            exact=exact,
            progress=False,
            force=True,
            **extra,
        )
        load0 = loadavg()
        with Probe() as probe:
            start = time.perf_counter()
            build_report(options)
            seconds = time.perf_counter() - start
        measured[label] = {
            "seconds": seconds,
            "calls": probe.calls,
            "load": (load0, loadavg()),
            "budget": options.channel_budget,
        }
        print(f"{label}: {seconds:.1f} s, load average {load0} → {loadavg()}", flush=True)

    fast = measured["fast"]
    calls = fast["calls"]
    budget = fast["budget"]
    pcam_s = sum(c["seconds"] for c in calls)
    masked_s = sum(c["masked_seconds"] for c in calls)
    passes = sum(c["masked_passes"] for c in calls)
    per_pass = masked_s / passes
    exact_counts = exact_passes(checkpoint, study)
    other_s = fast["seconds"] - pcam_s
    outside_s = pcam_s - masked_s
    exact_pcam_s = outside_s + sum(exact_counts) * per_pass
    exact_s = other_s + exact_pcam_s

    print(f"\nReport, 3 images at {args.size} px, ResNet-50 at {args.input_size}², CPU, fp32\n")
    print(
        "| run | masked passes (3 images) | PCAM± s | rest of the report s | total s | "
        "load average (start → end) |"
    )
    print("|---|---|---|---|---|---|")
    load = fast["load"]
    print(
        f"| fast mode, channel_budget={budget} (measured) | {passes} | {pcam_s:.0f} | "
        f"{other_s:.0f} | {fast['seconds']:.0f} | {load[0]} → {load[1]} |"
    )
    if "exact" in measured:
        ex = measured["exact"]
        ex_pcam = sum(c["seconds"] for c in ex["calls"])
        ex_passes = sum(c["masked_passes"] for c in ex["calls"])
        print(
            f"| exact (measured) | {ex_passes} | {ex_pcam:.0f} | {ex['seconds'] - ex_pcam:.0f} "
            f"| {ex['seconds']:.0f} | {ex['load'][0]} → {ex['load'][1]} |"
        )
    print(
        f"| exact (**extrapolated**: fast run's s per masked pass × exact passes) | "
        f"{sum(exact_counts)} | {exact_pcam_s:.0f} | {other_s:.0f} | {exact_s:.0f} | "
        f"— |"
    )
    print(
        f"\nmasked passes per image, exact: {exact_counts}; fast: "
        f"{[c['masked_passes'] for c in calls]}"
    )
    print(
        f"s per masked pass inside the engine (fast run): {per_pass:.3f} "
        f"({passes} passes in {masked_s:.0f} s); PCAM± outside the masked batches: "
        f"{outside_s:.0f} s in all"
    )
    print(f"exact / fast (extrapolated): {exact_s / fast['seconds']:.1f}×")
    (args.work / "bench_report.json").write_text(
        json.dumps({"measured": measured, "exact_passes": exact_counts}, indent=1, default=str)
    )


if __name__ == "__main__":
    main()
