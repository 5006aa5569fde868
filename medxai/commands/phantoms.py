"""``medxai phantoms OUT``: write a synthetic MURA-shaped data set (:mod:`medxai.data.phantoms`)."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from medxai.data.phantoms import BODY_PARTS, PhantomConfig, generate

#: Valid studies per train study when ``--valid-studies`` is not given.
VALID_RATIO = 1 / 3


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``phantoms`` sub-command."""
    d = PhantomConfig()
    p = subparsers.add_parser(
        "phantoms",
        help="write a synthetic MURA-v1.1-shaped data set with annotations and cast masks",
        description=(
            "Write synthetic radiographs in the MURA-v1.1 layout (both CSVs, no header), "
            "with fracture ellipses (annotations.json), cast masks (masks/) and each "
            "study's truth (phantom.json). Same options and seed give identical files."
        ),
    )
    p.add_argument("out", type=Path, metavar="OUT", help="dataset root to create")
    p.add_argument("--studies", type=int, default=d.train_studies, metavar="N",
                   help=f"train studies (default {d.train_studies}); valid gets "
                        "ceil(N/3) unless --valid-studies is given")
    p.add_argument("--valid-studies", type=int, default=None, metavar="N",
                   help="valid studies (default ceil(--studies / 3))")
    p.add_argument("--seed", type=int, default=d.seed, metavar="S", help="random seed")
    p.add_argument("--size", type=int, default=d.size, metavar="PX",
                   help=f"image side in pixels (default {d.size})")
    p.add_argument("--body-parts", nargs="+", default=list(d.body_parts), choices=BODY_PARTS,
                   metavar="PART", help=f"body parts to draw (default: {' '.join(BODY_PARTS)})")
    p.add_argument("--subtlety", type=float, default=d.subtlety, metavar="F",
                   help=f"fracture subtlety, 0 obvious .. 1 hairline (default {d.subtlety})")
    p.add_argument("--p-cast-abnormal", type=float, default=d.p_cast_abnormal, metavar="P",
                   help=f"P(cast | abnormal) (default {d.p_cast_abnormal})")
    p.add_argument("--p-cast-normal", type=float, default=d.p_cast_normal, metavar="P",
                   help=f"P(cast | normal) (default {d.p_cast_normal})")
    p.add_argument("--p-hardware", type=float, default=d.p_hardware, metavar="P",
                   help=f"P(metal hardware), any label (default {d.p_hardware})")
    p.add_argument("--p-marker", type=float, default=d.p_marker, metavar="P",
                   help=f"P(laterality marker) (default {d.p_marker})")
    p.add_argument("--abnormal-fraction", type=float, default=d.abnormal_fraction, metavar="F",
                   help=f"share of abnormal studies per split (default {d.abnormal_fraction})")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    valid = args.valid_studies
    if valid is None:
        valid = math.ceil(args.studies * VALID_RATIO)
    config = PhantomConfig(
        train_studies=args.studies,
        valid_studies=valid,
        size=args.size,
        body_parts=tuple(args.body_parts),
        subtlety=args.subtlety,
        p_cast_abnormal=args.p_cast_abnormal,
        p_cast_normal=args.p_cast_normal,
        p_hardware=args.p_hardware,
        p_marker=args.p_marker,
        abnormal_fraction=args.abnormal_fraction,
        seed=args.seed,
    )
    start = time.perf_counter()
    out = generate(args.out, config, force=args.force)
    seconds = time.perf_counter() - start
    print(f"wrote {args.studies} train + {valid} valid phantom studies to {out} "
          f"in {seconds:.1f} s")
    return 0
