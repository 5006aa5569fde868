"""Record, once per image, everything fast mode's candidates need to be simulated offline.

    python benchmarks/cams_record.py --checkpoint CKPT \\
        --images 'PHANTOMS/valid/**/*positive/*.png' [--limit 8] --out FILE.pt

One exact PCAM± call per image (the images of ``benchmarks/cams_clustered.py``: annotated,
evenly spaced) with the engine's ``MaskedScorer`` captured. Saved per image: ``s0``, the
zero-mask score, every channel's ``sp``/``sm`` per target layer, the target layers'
activations, and the exact PCAM± map. ``benchmarks/cams_simulate.py`` reads the file and
replays fast-mode candidates without any new masked pass.
"""

from __future__ import annotations

import glob
from pathlib import Path

import torch
from _cams_common import checkpoint_parser
from cams_clustered import annotated, exact_call
from cams_fast_mode import load_model, pick

from medxai.data.transforms import read_radiograph_png, to_model_input


def record(model, image, common: dict) -> dict:
    """The scores, activations and exact map of one image."""
    result, scorer, acts, _ = exact_call(model, image, common)
    return {
        "s0": result.scores.float()[0],
        "zero_score": scorer.zero_score[0].float(),
        "sp": [s[0].float() for s in scorer.sp],
        "sm": [s[0].float() for s in scorer.sm],
        "activations": [a[0] for a in acts],
        "saliency": result.saliency[0, 0],
        "passes": 1 + scorer.passes,
    }


def main() -> None:
    parser = checkpoint_parser(__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    args.size = None
    torch.set_num_threads(args.threads)
    model, size, mean, std = load_model(args)
    chosen = pick(annotated(sorted(glob.glob(args.images, recursive=True))), args.limit)
    records = []
    for i, (path, _shapes) in enumerate(chosen):
        pixels = read_radiograph_png(path)
        image = to_model_input(pixels, size, mean, std)[None]
        rec = record(model, image, {"batch_size": 64, "input_size": (size, size)})
        rec["path"], rec["size"] = path, size
        records.append(rec)
        print(f"image {i + 1}/{len(chosen)}: {rec['passes']} passes", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(records, args.out)


if __name__ == "__main__":
    main()
