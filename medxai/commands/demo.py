"""``medxai demo``: phantom radiographs → a short CPU training run → a review report.

The demo folder (default ``./medxai-demo``) holds ``phantoms/`` (the data set, reused
when a previous demo wrote it with the same settings), ``runs/`` (the trained model, one
``model-<key>`` folder per setting, reused when the config, the data, the seed and the
epochs are unchanged: :func:`training.demo.train_demo_model`) and ``report/`` (replaced on
every run: it is the demo's own output). The last line printed is the path of
``report.html``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from medxai.errors import MedxaiError

#: Where the demo writes when ``--out`` is not given.
DEFAULT_OUT = Path("medxai-demo")

#: The demo's phantom set: finger radiographs only, 600 train and 160 valid studies at
#: 160 px, no shortcut planted (P(cast) is 0.5 for both labels). Fingers because their
#: fracture signs cover about 2 % of a 128 px image, enough for a ResNet-18 trained from
#: random weights to learn them in the CPU budget; the signs of the forearm, hand and
#: wrist cover 0.2-0.7 % and are not learned in that time (docs/training.md).
DEMO_PHANTOMS = {"train_studies": 600, "valid_studies": 160, "body_parts": ("XR_FINGER",)}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="phantoms → short CPU training → a report (the README's first command)",
        description=(
            "Generate phantom radiographs, train the demo configuration "
            "(configs/demo_phantoms.yaml) on the CPU, and write a review report on one "
            "abnormal, annotated validation study. Phantoms and model are reused from DIR "
            "when their settings are unchanged. Prints the path of report.html."
        ),
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help=f"demo folder (default ./{DEFAULT_OUT})")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="phantom and training seed")
    p.add_argument("--max-epochs", type=int, default=None, metavar="N",
                   help="override the demo config's epochs (fewer: faster, less accurate)")
    p.set_defaults(func=run)


def _phantoms(out: Path, seed: int) -> Path:
    """The demo's phantom data set, generated unless an identical one is already there."""
    from medxai.data.phantoms import PhantomConfig, generate
    from medxai.data.phantoms.writer import FORMAT_VERSION

    config = PhantomConfig(seed=seed, **DEMO_PHANTOMS)
    root = out / "phantoms"
    recorded = root / "phantoms.json"
    if recorded.is_file():
        wanted = {"version": FORMAT_VERSION, "config": json.loads(json.dumps(asdict(config)))}
        try:
            meta = json.loads(recorded.read_text())
            same = {key: meta.get(key) for key in wanted} == wanted
        except (OSError, ValueError):
            same = False
        if same:
            print(f"[demo] reusing phantoms in {root}", file=sys.stderr)
            return root
    print(f"[demo] generating phantoms in {root}", file=sys.stderr)
    generate(root, config, force=True)
    return root


def _train(out: Path, data_root: Path, seed: int, max_epochs: int | None) -> Path:
    """The demo config trained on ``data_root`` (the best checkpoint's path), reused from
    ``out/runs`` when the config, the data and these settings are unchanged."""
    from training.demo import train_demo_model

    options: dict[str, int] = {"seed_everything": seed}
    if max_epochs is not None:
        options["trainer.max_epochs"] = max_epochs
    return train_demo_model(data_root, out / "runs", options, keep="best")


def validation_line(checkpoint: Path) -> str:
    """One line with the checkpoint's validation study AUROC and kappa (from its metadata:
    the metrics group of the checkpoint's own epoch, as the report shows them)."""
    from medxai.checkpoint import checkpoint_validation

    found = checkpoint_validation(checkpoint)
    values = found["metrics"] if found else {}
    if "val/study_auroc" not in values:
        return f"{checkpoint.name}: no validation metrics recorded"
    epoch = "?" if found["epoch"] is None else int(found["epoch"])
    return (
        f"{checkpoint.name}: validation study AUROC {values['val/study_auroc']:.3f}, "
        f"study kappa {values.get('val/study_kappa', float('nan')):.3f} "
        f"(epoch {epoch}, {int(values.get('studies', 0))} studies)"
    )


def pick_study(data_root: Path) -> Path:
    """The first abnormal validation study (in sorted order) whose images carry annotations."""
    for study in sorted((data_root / "valid").glob("XR_*/patient*/study*_positive")):
        path = study / "annotations.json"
        try:
            shapes = json.loads(path.read_text()).get("images", {})
        except (OSError, ValueError):
            continue
        if any(shapes.values()):
            return study
    raise MedxaiError(f"{data_root / 'valid'}: no abnormal study with annotations")


def run(args: argparse.Namespace) -> int:
    """Phantoms, training, then a report with exact PCAM± (a ResNet-18 at 128 px makes
    about 2,000 masked passes per image, seconds on a CPU; fast mode's approximation is
    for larger models, and on the demo model it is a poor one, docs/benchmarks.md)."""
    from medxai.report import ReportOptions, build_report

    start = time.perf_counter()
    out: Path = args.out.resolve()
    data_root = _phantoms(out, args.seed)
    checkpoint = _train(out, data_root, args.seed, args.max_epochs)
    print(f"[demo] {validation_line(checkpoint)}", file=sys.stderr)
    study = pick_study(data_root)
    print(f"[demo] reporting on {study.relative_to(data_root)}", file=sys.stderr)
    result = build_report(
        ReportOptions(study=study, checkpoint=checkpoint, out=out / "report", device="cpu",
                      exact=True, force=True)
    )
    for note in result.notes:
        print(f"[demo] {note}", file=sys.stderr)
    print(f"[demo] done in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(result.html)
    return 0
