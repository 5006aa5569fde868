"""Clustered fast mode against exact Poly-CAM, on a trained phantom checkpoint.

    python benchmarks/cams_clustered.py --checkpoint CKPT \\
        --images 'PHANTOMS/valid/**/*positive/*.png' [--limit 8] \\
        [--variants pcam± pcam+ pcam-] [--budgets 4 8 16] [--bf16 8] [--exact-cache DIR]

Images: ``--limit`` evenly spaced over the sorted matches that have an annotation (their
study's ``annotations.json``), turned into model inputs with the checkpoint's size, mean
and std. Each map explains "abnormal" (class 1 of a single-logit head).

Exact maps (or, with ``--records``, the scores ``benchmarks/cams_record.py`` recorded for
them): one exact PCAM± call per image scores every channel with ``⊙M`` and
``⊙(1−M)``; its scores (captured from the engine's ``MaskedScorer``) give the exact PCAM+
and PCAM− maps too, through the same weight rules, layer maps and fusion, so each image
costs one exact call (cached in ``--exact-cache``). Their pass counts are those the
variant's own exact call makes (one sign: live channels, plus the shared zero-mask pass
for PCAM+).

Per variant and mode, over the images:

- passes: baseline + masked passes per image, and exact passes / fast passes;
- Spearman rank correlation with the exact map (ties averaged), mean and min;
- ins−del: insertion AUC − deletion AUC (Poly-CAM protocol), mean [95 % CI];
- pointing game and IoU at the Otsu threshold against the annotation ellipses, mean
  [95 % CI] (bootstrap over images, ``medxai.metrics.bootstrap.mean_ci``);
- for the clustered mode, the error estimate against the true error: the estimated and
  the true ``1 − Spearman`` and max abs diff per image, whether the estimate bounded the
  truth, and the Pearson correlation of estimate and truth over the images.
"""

from __future__ import annotations

import glob
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from _cams_common import checkpoint_parser
from cams_fast_mode import cache_path, load_model, pick
from torch import Tensor

import medxai
from medxai.cams import polycam
from medxai.cams.estimate import spearman
from medxai.cams.fusion import fuse, layer_map, resize
from medxai.cams.hooks import capture_outputs
from medxai.cams.masked import MaskedScores
from medxai.cams.normalize import percentile_normalize
from medxai.cams.weights import MINUS, PLUS
from medxai.data.transforms import read_radiograph_png, to_model_input
from medxai.io.annotations import load_annotations
from medxai.io.shapes import annotation_mask
from medxai.metrics.bootstrap import mean_ci
from medxai.metrics.faithfulness import insertion_deletion
from medxai.metrics.localisation import iou_at_otsu, pointing_game


def annotated(paths: list[str]) -> list[tuple[str, list]]:
    """``(path, shapes)`` of the images whose study annotates them."""
    found = []
    for path in paths:
        file = Path(path).parent / "annotations.json"
        if file.is_file():
            shapes = load_annotations(file).get(Path(path).name, [])
            if shapes:
                found.append((path, shapes))
    return found


def measure(model, image: Tensor, saliency: Tensor, truth: tuple) -> dict:
    """ins−del of one map, and its pointing game and IoU against the annotation, the map
    resized to the image's own size as the report does."""
    shapes, height, width = truth
    result = insertion_deletion(model, image, saliency, 1, batch_size=128)
    full = torch.nn.functional.interpolate(
        saliency.float(), size=(height, width), mode="bilinear", align_corners=False
    )[0, 0].clamp(0, 1).numpy()
    mask = annotation_mask(shapes, height, width)
    return {
        "ins_del": float(result.difference[0]),
        "pointing": float(pointing_game(full, mask)),
        "iou": float(iou_at_otsu(full, mask)),
    }


def exact_call(model, image: Tensor, common: dict) -> tuple:
    """One exact PCAM± call of ``image`` that keeps the engine's ``MaskedScorer`` (every
    channel's ``sp`` and ``sm``): ``(result, scorer, activations per layer, seconds)``."""
    captured: dict = {}

    class Recording(polycam.MaskedScorer):
        def finish(self) -> None:
            super().finish()
            captured["scorer"] = self

    original = polycam.MaskedScorer
    polycam.MaskedScorer = Recording
    try:
        start = time.perf_counter()
        explainer = medxai.cams.create("pcam±", model, **common)
        result = explainer(image, 1)
        seconds = time.perf_counter() - start
    finally:
        polycam.MaskedScorer = original
    with torch.no_grad(), capture_outputs(model, explainer.target_layers) as recorder:
        model(image)
    acts = [recorder.outputs[name].float() for name in explainer.target_layers]
    return result, captured["scorer"], acts, seconds


def exact_maps(model, image: Tensor, common: dict, args, key: str) -> dict:
    """``{variant: {"saliency", "passes", "seconds"}}`` of exact PCAM+, PCAM− and PCAM±
    from one exact PCAM± call (see the module doc), cached under ``args.exact_cache``."""
    path = None
    if args.exact_cache is not None:
        path = cache_path(args.exact_cache, f"{args.checkpoint}|{key}|exact-variants")
        if path.is_file():
            return torch.load(path, weights_only=True)
    result, scorer, acts, seconds = exact_call(model, image, common)
    out = variants_from_scores(
        acts, result.scores.to(torch.float32), scorer, result.saliency, 1 + scorer.passes,
        image.shape[-2:],
    )
    out["pcam±"]["seconds"] = seconds
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(out, path)
    return out


def variants_from_scores(acts, s0, scores, saliency, passes, size) -> dict:
    """Exact PCAM+, PCAM− (and the given PCAM±) maps from one exact PCAM± call's scores
    (``scores.sp``, ``scores.sm``, ``scores.zero_score``; ``B`` = 1)."""
    live = [percentile_normalize(a).flatten(2).amax(-1) > 0 for a in acts]
    n_live = sum(int(lv.sum()) for lv in live)
    any_dead = int(any(bool((~lv).any()) for lv in live))
    out = {"pcam±": {"saliency": saliency, "passes": passes, "seconds": math.nan}}
    for rule, count in ((PLUS, 1 + n_live + any_dead), (MINUS, 1 + n_live)):
        weights = []
        for layer, lv in enumerate(live):
            sp = torch.where(lv, scores.sp[layer], scores.zero_score[:, None])
            sm = torch.where(lv, scores.sm[layer], s0[:, None])
            weights.append(rule.weight(s0[:, None], sp, sm))
        maps = [layer_map(w, a) for w, a in zip(weights, acts)]
        fused = fuse(maps, lnorm=True)[-1]
        out[rule.name] = {
            "saliency": resize(percentile_normalize(fused), size),
            "passes": count,
            "seconds": math.nan,
        }
    return out


def recorded_maps(records: list[dict], path: str, size: int) -> dict | None:
    """The exact maps of ``path`` from ``benchmarks/cams_record.py``'s records (``None``
    when it was not recorded at this size)."""
    for rec in records:
        if rec["path"] == path and rec["size"] == size:
            scores = MaskedScores(
                [s[None] for s in rec["sp"]], [s[None] for s in rec["sm"]],
                rec["zero_score"].reshape(1),
            )
            acts = [a[None] for a in rec["activations"]]
            return variants_from_scores(
                acts, rec["s0"].reshape(1), scores, rec["saliency"][None, None],
                rec["passes"], rec["saliency"].shape,
            )
    return None


def ci(values: list[float], name: str) -> str:
    est = mean_ci(np.asarray(values), name=name)
    return f"{est.mean:.3f} [{est.low:.3f}, {est.high:.3f}]"


def main() -> None:
    parser = checkpoint_parser(__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["pcam±"])
    parser.add_argument("--budgets", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--tolerances", type=float, nargs="*", default=[])
    parser.add_argument(
        "--bf16", type=int, nargs="*", default=[], help="budgets also run under bf16 autocast"
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--exact-cache", type=Path, default=None)
    parser.add_argument(
        "--records",
        type=Path,
        default=None,
        help="exact scores recorded by benchmarks/cams_record.py: their images' exact maps "
        "are made from them instead of an exact call",
    )
    parser.add_argument(
        "--measure",
        nargs="*",
        default=None,
        help="modes whose maps get ins−del and localisation (labels such as 'cluster "
        "k=8'; default all); the others get Spearman and passes only",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args()
    args.size = None
    if args.threads:
        torch.set_num_threads(args.threads)
    model, size, mean, std = load_model(args)
    chosen = pick(annotated(sorted(glob.glob(args.images, recursive=True))), args.limit)
    images, masks = [], []
    for path, shapes in chosen:
        pixels = read_radiograph_png(path)
        images.append(to_model_input(pixels, size, mean, std)[None])
        masks.append((shapes, pixels.shape[-2], pixels.shape[-1]))
    with open("/proc/loadavg") as f:
        load_start = f.read().split()[:3]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load_start}")
    print(f"checkpoint {args.checkpoint}, input {size}², {len(images)} images")
    common = {"batch_size": args.batch_size, "input_size": (size, size)}
    records = None if args.records is None else torch.load(args.records, weights_only=True)
    for variant in args.variants:
        modes: dict[str, dict] = {}
        for k in args.budgets:
            modes[f"cluster k={k}"] = {"channel_budget": k}
        for t in args.tolerances:
            modes[f"cluster tol={t}"] = {"tolerance": t}
        for k in args.bf16:
            modes[f"cluster k={k} bf16"] = {"channel_budget": k, "autocast": "bf16"}
        rows: dict[str, dict[str, list[float]]] = {}
        for i, image in enumerate(images):
            exact = None if records is None else recorded_maps(records, chosen[i][0], size)
            if exact is None:
                exact = exact_maps(model, image, common, args, f"{chosen[i][0]}|{size}")
            exact = exact[variant]
            reference = exact["saliency"]
            row = rows.setdefault("exact", {})
            for name, value in {
                "passes": exact["passes"],
                "seconds": exact["seconds"],
                "spearman": 1.0,
                **measure(model, image, reference, masks[i]),
            }.items():
                row.setdefault(name, []).append(value)
            for label, options in modes.items():
                start = time.perf_counter()
                result = medxai.cams.create(variant, model, **common, **options)(image, 1)
                seconds = time.perf_counter() - start
                rho = float(spearman(result.saliency, reference)[0])
                row = rows.setdefault(label, {})
                values = {
                    "passes": result.settings["masked_passes"] + 1,
                    "seconds": seconds,
                    "spearman": rho,
                    "max_abs": float((result.saliency - reference).abs().max()),
                }
                if args.measure is None or label in args.measure:
                    values.update(measure(model, image, result.saliency, masks[i]))
                estimate = (result.settings.get("error_estimate") or [None])[0]
                if estimate is not None:
                    values["est_1_minus_rho"] = 1.0 - estimate["spearman"]
                    values["est_max_abs"] = estimate["max_abs"]
                for name, value in values.items():
                    row.setdefault(name, []).append(value)
            print(f"  {variant} image {i + 1}/{len(images)} done", flush=True)
        print(f"\n{variant}, {len(images)} abnormal images\n")
        print(
            "| mode | passes / image | exact ÷ fast | Spearman mean (min) | ins−del | "
            "pointing game | IoU (Otsu) |"
        )
        print("|---|---|---|---|---|---|---|")
        exact_passes = np.mean(rows["exact"]["passes"])
        for label, row in rows.items():
            passes = np.mean(row["passes"])
            measured = [
                ci(row[key], label + key) if key in row else "–"
                for key in ("ins_del", "pointing", "iou")
            ]
            print(
                f"| {label} | {passes:.0f} | {exact_passes / passes:.1f}× | "
                f"{np.mean(row['spearman']):.3f} ({np.min(row['spearman']):.3f}) | "
                + " | ".join(measured)
                + " |"
            )
        print("\nerror estimate against the true error (clustered modes)\n")
        print(
            "| mode | true 1−ρ mean (max) | estimated 1−ρ mean (max) | bounded (1−ρ) | "
            "r(est, true) 1−ρ | true max abs mean | estimated max abs mean | r max abs |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for label, row in rows.items():
            if "est_1_minus_rho" not in row or len(row["est_1_minus_rho"]) != len(images):
                continue
            true = 1.0 - np.asarray(row["spearman"])
            est = np.asarray(row["est_1_minus_rho"])
            tmax, emax = np.asarray(row["max_abs"]), np.asarray(row["est_max_abs"])
            bounded = int(np.sum(est >= true))
            r1 = np.corrcoef(est, true)[0, 1] if np.std(est) and np.std(true) else math.nan
            r2 = np.corrcoef(emax, tmax)[0, 1] if np.std(emax) and np.std(tmax) else math.nan
            print(
                f"| {label} | {true.mean():.4f} ({true.max():.4f}) | {est.mean():.4f} "
                f"({est.max():.4f}) | {bounded}/{len(true)} | {r1:.2f} | {tmax.mean():.3f} | "
                f"{emax.mean():.3f} | {r2:.2f} |"
            )
        print("\nraw:", json.dumps({k: {m: [round(v, 4) for v in vs] for m, vs in r.items()}
                                    for k, r in rows.items()}))
    with open("/proc/loadavg") as f:
        print(f"\nload average at the end: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
