"""Fast mode (``channel_budget``) against exact PCAM± on a trained classifier.

    python benchmarks/cams_fast_mode.py --checkpoint PATH [--images 'DIR/*.png']
        [--limit 4] [--budgets 16 32 64 128]

The model comes from ``medxai.checkpoint.load_classifier`` (its input size, mean and std
are used). Images are read as grayscale, replicated to the model's channels, resized to
its input size and normalised; without ``--images`` the inputs are Gaussian noise. For
each budget the table gives passes, seconds per image, and the distance of the fast map
from the exact one (max/mean abs diff, Spearman), averaged over the images. Without
``--checkpoint`` a randomly initialised ResNet-18 is used, which only checks the script.
"""

from __future__ import annotations

import argparse
import glob

import numpy as np
import torch
from _cams_common import distances, machine, timed

import medxai


def load_model(args: argparse.Namespace):
    """(model, input size, mean, std)."""
    if args.checkpoint is None:
        from torchvision.models import resnet18

        print("no --checkpoint: random ResNet-18, a smoke run only\n")
        return resnet18(weights=None).eval(), args.size, (0.0,) * 3, (1.0,) * 3
    from medxai.checkpoint import load_classifier

    loaded = load_classifier(args.checkpoint)
    return loaded.model, loaded.input_size, loaded.mean, loaded.std


def load_inputs(args, size: int, mean, std, channels: int) -> torch.Tensor:
    if not args.images:
        return torch.randn(
            args.limit, channels, size, size, generator=torch.Generator().manual_seed(0)
        )
    from PIL import Image

    batch = []
    for path in sorted(glob.glob(args.images))[: args.limit]:
        gray = np.asarray(Image.open(path).convert("L").resize((size, size)), np.float32) / 255
        image = torch.from_numpy(gray)[None].repeat(channels, 1, 1)
        m = torch.tensor(mean[:channels])[:, None, None]
        s = torch.tensor(std[:channels])[:, None, None]
        batch.append((image - m) / s)
    return torch.stack(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--images", default=None)
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--size", type=int, default=224, help="input size without checkpoint")
    parser.add_argument("--budgets", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    model, size, mean, std = load_model(args)
    channels = next(m.in_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    x = load_inputs(args, size, mean, std, channels)
    print(f"machine: {machine()}\n")
    options = {"batch_size": args.batch_size, "input_size": (size, size)}
    exact = medxai.cams.create("pcam±", model, **options)
    rows: dict[str, list[tuple[float, ...]]] = {}
    for i in range(len(x)):
        image = x[i : i + 1]
        seconds, reference = timed(lambda im=image: exact(im))
        rows.setdefault("exact", []).append(
            (reference.settings["masked_passes"] + 1, seconds, 0.0, 0.0, 1.0)
        )
        for budget in args.budgets:
            fast = medxai.cams.create("pcam±", model, channel_budget=budget, **options)
            seconds, result = timed(lambda f=fast, im=image: f(im))
            mx, mean_diff, rho = distances(result.saliency, reference.saliency)
            rows.setdefault(f"budget {budget}", []).append(
                (result.settings["masked_passes"] + 1, seconds, mx, mean_diff, rho)
            )
    print(f"PCAM± fast mode vs exact, {len(x)} images at {size}²\n")
    print("| mode | passes | s / image | max abs diff | mean abs diff | Spearman |")
    print("|---|---|---|---|---|---|")
    for label, values in rows.items():
        p, s, mx, mn, rho = (float(np.mean(v)) for v in zip(*values))
        print(f"| {label} | {p:.0f} | {s:.1f} | {mx:.3f} | {mn:.4f} | {rho:.3f} |")


if __name__ == "__main__":
    main()
