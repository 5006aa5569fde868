"""Writing a phantom data set in the MURA-v1.1 layout.

Files under ``OUT`` (the dataset root)::

    train_image_paths.csv       MURA-v1.1/train/XR_WRIST/patient00001/study1_positive/image1.png
    train_labeled_studies.csv   MURA-v1.1/train/XR_WRIST/patient00001/study1_positive/,1
    valid_image_paths.csv, valid_labeled_studies.csv
    train/XR_*/patientNNNNN/studyK_{positive,negative}/
        image1.png ... imageM.png   8-bit grayscale, M = 1..3 (PA, lateral, oblique views)
        annotations.json            native format; every image listed, [] when normal
        masks/imageM_cast.png       0/255 cast outline; only in studies with a cast
        phantom.json                the study's truth (its full sampled spec)
    valid/...
    phantoms.json               generator version, configuration, seed and counts

The CSVs have no header, like the public release. Train patients are numbered from
00001; valid patients continue after the last train patient. About one patient in
eight has a second study of the same body part (``study2``).

Determinism: each study is drawn from its own seed ``(seed, split, index)``; files are
written in sorted order, PNGs without timestamps and JSON with sorted keys, so the same
configuration gives byte-identical files.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from medxai.atomic import staged_dir
from medxai.data.phantoms.config import PhantomConfig
from medxai.data.phantoms.render import render
from medxai.data.phantoms.spec import SPLITS
from medxai.data.phantoms.study import sample_study

FORMAT_VERSION = 1
#: The description file every phantom set holds (``--force`` replaces only such a folder).
META_NAME = "phantoms.json"
#: What a phantom set written before folders carried their file list
#: (:data:`medxai.atomic.MANIFEST`) may hold, and nothing else, for ``--force`` to
#: replace it: the files listed above (relative paths; folders end in ``/``).
LAYOUT = re.compile(
    r"(train|valid)_(image_paths|labeled_studies)\.csv|phantoms\.json"
    r"|(train|valid)/((XR_[A-Z]+/)(patient[0-9]+/(study[0-9]+_(positive|negative)/"
    r"(image[0-9]+\.png|annotations\.json|phantom\.json|masks/(image[0-9]+_cast\.png)?)?)?)?)?"
)
PREFIX = "MURA-v1.1"
#: Probability that a patient has a second study of the same body part.
P_SECOND_STUDY = 0.12


@dataclass(frozen=True)
class PlannedStudy:
    """One row of a split's plan: which study, of whom, with which label."""

    index: int
    body_part: str
    abnormal: bool
    patient: int
    study: int

    @property
    def folder(self) -> str:
        kind = "positive" if self.abnormal else "negative"
        return f"{self.body_part}/patient{self.patient:05d}/study{self.study}_{kind}"


def plan_split(config: PhantomConfig, split: str, first_patient: int = 1) -> list[PlannedStudy]:
    """Body parts in turn, exactly ``round(abnormal_fraction·n)`` abnormal, patients numbered."""
    n = config.train_studies if split == "train" else config.valid_studies
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 101 + SPLITS.index(split)]))
    n_abnormal = round(config.abnormal_fraction * n)
    labels = np.zeros(n, dtype=bool)
    labels[:n_abnormal] = True
    labels = labels[rng.permutation(n)]
    parts = [config.body_parts[i % len(config.body_parts)] for i in range(n)]
    order = sorted(range(n), key=lambda i: (parts[i], i))
    second = rng.random(n) < P_SECOND_STUDY
    plan: list[PlannedStudy] = []
    patient = first_patient - 1
    for pos, i in enumerate(order):
        same = pos > 0 and second[i] and plan[-1].body_part == parts[i] and plan[-1].study == 1
        study = 2 if same else 1
        if not same:
            patient += 1
        plan.append(PlannedStudy(i, parts[i], bool(labels[i]), patient, study))
    return plan


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode="L").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_study(root: Path, split: str, item: PlannedStudy, config: PhantomConfig) -> list[str]:
    """Write one study folder under ``root``; returns its image paths relative to ``root``."""
    spec = sample_study(config, split, item.index, item.body_part, item.abnormal)
    rel = f"{split}/{item.folder}"
    folder = root / rel
    folder.mkdir(parents=True)
    annotations: dict[str, list[dict]] = {}
    images: list[str] = []
    for i in range(len(spec.views)):
        name = f"image{i + 1}.png"
        out = render(spec, i)
        (folder / name).write_bytes(_png(out.pixels))
        annotations[name] = out.annotations
        if spec.cast is not None:
            (folder / "masks").mkdir(exist_ok=True)
            mask = np.where(out.cast_mask, 255, 0).astype(np.uint8)
            (folder / "masks" / f"image{i + 1}_cast.png").write_bytes(_png(mask))
        images.append(f"{rel}/{name}")
    (folder / "annotations.json").write_bytes(_json({"images": annotations}))
    truth = {
        "study": f"{PREFIX}/{rel}/",
        "label": int(item.abnormal),
        "body_part": spec.body_part,
        "cast": spec.cast is not None,
        "hardware": spec.hardware is not None,
        "marker": spec.marker.letter if spec.marker is not None else None,
        "views": {f"image{i + 1}.png": v.name for i, v in enumerate(spec.views)},
        "spec": asdict(spec),
    }
    (folder / "phantom.json").write_bytes(_json(truth))
    return images


def write_dataset(root: Path, config: PhantomConfig) -> dict[str, dict[str, int]]:
    """Write every split into the existing empty folder ``root``; returns counts per split."""
    counts: dict[str, dict[str, int]] = {}
    first_patient = 1
    for split in SPLITS:
        plan = plan_split(config, split, first_patient)
        image_lines: list[str] = []
        study_lines: list[str] = []
        for item in plan:
            for path in write_study(root, split, item, config):
                image_lines.append(f"{PREFIX}/{path}")
            study_lines.append(f"{PREFIX}/{split}/{item.folder}/,{int(item.abnormal)}")
        (root / f"{split}_image_paths.csv").write_text("".join(f"{x}\n" for x in image_lines))
        (root / f"{split}_labeled_studies.csv").write_text("".join(f"{x}\n" for x in study_lines))
        counts[split] = {
            "studies": len(plan),
            "abnormal_studies": sum(p.abnormal for p in plan),
            "images": len(image_lines),
            "patients": len({p.patient for p in plan}),
        }
        if plan:
            first_patient = max(p.patient for p in plan) + 1
    meta = {
        "format": "medxai-phantoms",
        "version": FORMAT_VERSION,
        "seed": config.seed,
        "config": asdict(config),
        "counts": counts,
    }
    (root / META_NAME).write_bytes(_json(meta))
    return counts


def generate(out: Path | str, config: PhantomConfig, *, force: bool = False) -> Path:
    """Write a phantom data set rooted at ``out`` and return its path.

    The set is built in a temporary folder beside ``out`` and renamed into place when
    complete. An existing ``out`` raises :class:`~medxai.errors.OutputError` unless
    ``force`` is true and it is a phantom set holding nothing else than its own files
    (:func:`medxai.atomic.check_replaceable`), and is left untouched on any failure.
    """
    final = Path(out)
    with staged_dir(final, force=force, marker=META_NAME, layout=LAYOUT) as tmp:
        write_dataset(tmp, config)
    return final
