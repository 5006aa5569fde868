"""Build a :class:`~medxai.data.records.MuraIndex` from a MURA-v1.1 folder.

Sources and how they are reconciled:

- **Which images.** A split's ``*_image_paths.csv`` is the list of its images. Paths in
  it are resolved against the real root by their last five components
  (``split/body_part/patient/study/image``), so a renamed or moved copy still works.
  Listed images missing on disk are problems and left out; images on disk that the CSV
  does not list are problems and left out. Without a usable CSV (missing, or refused by
  :mod:`medxai.data.mura_csv`: a FIFO, a folder, a link out of the root, oversized, not
  UTF-8, wrong columns; one problem naming the file and the reason), the
  split's folders are scanned: ``{split}/XR_*/patientN/studyK_{positive,negative}/imageM.png``;
  other files and folders (``masks/``, ``annotations.json``…) are ignored.
- **Labels.** An image's label is its study folder's suffix (``_positive`` = 1). Each
  study is checked against ``*_labeled_studies.csv``. When the two disagree, the study is
  **left out of the index** and the disagreement is a problem: neither source is picked
  silently. A study missing from that CSV keeps its folder label and is a problem; a
  missing or refused label CSV leaves every study its folder label (one problem).
- **Readability** (opt-in): ``"header"`` opens each file and verifies the PNG chunk
  structure and checksums without decoding pixels; ``"full"`` (or ``True``) decodes
  every image with the loader's own reader. Both open files under the access rule of
  :mod:`medxai.io.files` with this root, apply the size policy
  (:data:`~medxai.io.radiograph.MAX_PIXELS`), and run inside the decoding boundary of
  :mod:`medxai.io.decode`. Unreadable images are problems and left out.
- **Links.** An ``image<N>.png`` that is a symbolic link is indexed like a file; the
  access rule decides when it is read (a loop, or a link to a device or out of the root,
  is unreadable).

Problem paths are relative to the root (``train/XR_WRIST/...``), or ``file.csv:line``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from medxai.data.layout import (
    BODY_PART_RE,
    IMAGE_RE,
    LABEL_NAMES,
    PATIENT_RE,
    SPLITS,
    STUDY_RE,
    ImageParts,
    StudyParts,
    image_from_listed,
    image_paths_csv,
    labeled_studies_csv,
    study_from_listed,
)
from medxai.data.mura_csv import CsvRow, read_image_paths, read_labeled_studies
from medxai.data.records import ImageRecord, MuraIndex, Problem
from medxai.data.transforms import read_radiograph_png
from medxai.errors import InputError
from medxai.io.decode import pil_image
from medxai.io.images import natural_key

Readability = bool | Literal["none", "header", "full"]


def build_index(
    root: str | os.PathLike[str],
    *,
    check_readable: Readability = False,
    workers: int | None = None,
) -> MuraIndex:
    """Index a MURA-v1.1 folder (see the module docstring for the rules).

    ``check_readable``: ``False``/``"none"`` (default, no file is opened), ``"header"``
    (cheap structural check) or ``True``/``"full"`` (full decode); ``workers`` threads do
    it (default: the number of CPUs). Raises :class:`~medxai.errors.InputError` when
    ``root`` is missing, not a folder, not MURA-shaped, or neither its folders nor its
    CSVs hold any image (images that are listed but all missing give an empty index
    with problems instead).
    """
    mode = _readability_mode(check_readable)
    base = _check_root(root)
    problems: list[Problem] = []

    on_disk: dict[str, ImageParts] = {}
    for split in SPLITS:
        on_disk.update(_scan_split(base, split, problems))

    candidates, seen_studies = _collect_images(base, on_disk, problems)
    labels = _read_labels(base, problems)
    excluded = _reconcile_labels(candidates, labels, seen_studies, problems)
    kept = [p for p in candidates.values() if p.study.study_id not in excluded]
    if mode != "none":
        kept = _drop_unreadable(base, kept, mode, workers, problems)
    problems.extend(_shared_patients(kept))

    if not on_disk and not seen_studies:
        raise InputError(base, "no images found (no image<N>.png in study folders or CSVs)")
    kept.sort(key=lambda p: natural_key(p.rel))
    problems.sort(key=lambda p: (natural_key(p.path), p.problem))
    return MuraIndex(base, [_record(base, p) for p in kept], problems)


def _readability_mode(value: Readability) -> str:
    if value is True:
        return "full"
    if value is False or value is None:
        return "none"
    if value in ("none", "header", "full"):
        return str(value)
    raise ValueError(f"check_readable must be a bool, 'none', 'header' or 'full', got {value!r}")


def _record(root: Path, parts: ImageParts) -> ImageRecord:
    study = parts.study
    return ImageRecord(
        path=root / parts.rel,
        split=study.split,
        body_part=study.body_part,
        patient=study.patient,
        study_id=study.study_id,
        label=study.label,
        root=root,
    )


# ---------------------------------------------------------------------------- the root


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether ``entry`` is a folder or a link to one (a link loop is neither)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _subdirs(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return [e for e in entries if not e.name.startswith(".") and _is_dir(e)]
    except PermissionError as exc:
        raise InputError(folder, "permission denied") from exc


def _listing(root: Path, folder: str, problems: list[Problem]) -> list[os.DirEntry]:
    """Entries of ``folder`` (not hidden); an unreadable folder is a problem, not an error."""
    try:
        with os.scandir(folder) as entries:
            return [e for e in entries if not e.name.startswith(".")]
    except OSError as exc:
        rel = Path(folder).relative_to(root).as_posix()
        problems.append(Problem(rel, f"cannot list folder ({exc.strerror or exc}); skipped"))
        return []


def _looks_like_mura(folder: Path) -> bool:
    for split in SPLITS:
        if _csv_present(folder / image_paths_csv(split)):
            return True
        if _csv_present(folder / labeled_studies_csv(split)):
            return True
        split_dir = folder / split
        if split_dir.is_dir() and any(BODY_PART_RE.fullmatch(e.name) for e in _subdirs(split_dir)):
            return True
    return False


def _check_root(root: str | os.PathLike[str]) -> Path:
    path = Path(root).expanduser()
    if not path.exists():
        raise InputError(path, "no such folder")
    if not path.is_dir():
        raise InputError(path, "not a folder; give the MURA-v1.1 dataset folder")
    if not _looks_like_mura(path):
        nested = [Path(e.path) for e in _subdirs(path) if _looks_like_mura(Path(e.path))]
        hint = f"; did you mean {nested[0]}?" if nested else ""
        raise InputError(
            path,
            "not a MURA-v1.1 folder (expected train/ or valid/ holding XR_* folders, "
            f"or *_image_paths.csv){hint}",
        )
    return path.absolute()


# ---------------------------------------------------------------------------- images


def _csv_present(path: Path) -> bool:
    """Whether the CSV ``path`` is there in any form (a FIFO, a folder or a dangling link
    too: reading it then says what is wrong, rather than calling it missing)."""
    return os.path.lexists(path)


def _read_csv(
    reader: Callable[[Path, Path], list[CsvRow]],
    root: Path,
    path: Path,
    fallback: str,
    problems: list[Problem],
) -> list[CsvRow] | None:
    """The rows of a CSV, or None and one problem naming it (the reason, then ``fallback``:
    what is used instead) when :mod:`medxai.data.mura_csv` refuses it."""
    try:
        return reader(path, root)
    except InputError as exc:
        problems.append(Problem(path.name, f"{exc.problem}; {fallback}"))
        return None


def _scan_split(root: Path, split: str, problems: list[Problem]) -> dict[str, ImageParts]:
    """Every ``image<N>.png`` under ``root/split`` in MURA-shaped folders."""
    found: dict[str, ImageParts] = {}
    split_dir = root / split
    if not split_dir.is_dir():
        return found
    for body_part in _listing(root, str(split_dir), problems):
        if not BODY_PART_RE.fullmatch(body_part.name) or not _is_dir(body_part):
            continue
        for patient in _listing(root, body_part.path, problems):
            if not PATIENT_RE.fullmatch(patient.name) or not _is_dir(patient):
                continue
            for study in _listing(root, patient.path, problems):
                if not _is_dir(study):
                    continue
                if not STUDY_RE.fullmatch(study.name):
                    if study.name.startswith("study"):
                        rel = f"{split}/{body_part.name}/{patient.name}/{study.name}"
                        problems.append(Problem(
                            rel, "study folder name lacks the _positive/_negative suffix; skipped"
                        ))
                    continue
                parts = StudyParts(split, body_part.name, patient.name, study.name)
                for entry in _listing(root, study.path, problems):
                    if IMAGE_RE.fullmatch(entry.name) and (entry.is_symlink() or entry.is_file()):
                        image = ImageParts(parts, entry.name)
                        found[image.rel] = image
    return found


def _collect_images(
    root: Path, on_disk: dict[str, ImageParts], problems: list[Problem]
) -> tuple[dict[str, ImageParts], set[str]]:
    """The images to index, from the CSVs where present, else from the folder scan.

    Also returns every study id seen anywhere (listed or on disk).
    """
    candidates: dict[str, ImageParts] = {}
    seen_studies = {p.study.study_id for p in on_disk.values()}
    listed_splits: list[str] = []
    unusable: set[str] = set()  # splits whose list is there but refused (already a problem)
    listed: set[str] = set()
    for split in SPLITS:
        csv_path = root / image_paths_csv(split)
        if not _csv_present(csv_path):
            continue
        fallback = f"images found by scanning {split}/"
        rows = _read_csv(read_image_paths, root, csv_path, fallback, problems)
        if rows is None:
            unusable.add(split)
            continue
        listed_splits.append(split)
        for row in rows:
            where = f"{csv_path.name}:{row.line}"
            parts = image_from_listed(row.fields[0])
            if parts is None:
                problems.append(Problem(where, f"not a MURA image path: {row.fields[0]!r}"))
                continue
            rel = parts.rel
            seen_studies.add(parts.study.study_id)
            if parts.study.split != split:
                problems.append(Problem(
                    rel, f"listed in {csv_path.name} but lies under {parts.study.split}/"
                ))
            if rel in listed:
                problems.append(Problem(rel, f"listed more than once (again at {where})"))
                continue
            listed.add(rel)
            if rel not in on_disk:
                problems.append(Problem(rel, f"listed at {where} but missing on disk"))
                continue
            candidates[rel] = parts

    for split in SPLITS:
        split_images = {r: p for r, p in on_disk.items() if p.study.split == split}
        csv_name = image_paths_csv(split)
        if split in listed_splits:
            for rel in split_images.keys() - candidates.keys():
                problems.append(Problem(rel, f"on disk but not listed in {csv_name}; left out"))
        elif split_images:
            if split not in unusable:
                problems.append(Problem(csv_name, f"missing; images found by scanning {split}/"))
            candidates.update(split_images)
    return candidates, seen_studies


# ---------------------------------------------------------------------------- labels


class _CsvLabels:
    """Study labels from ``*_labeled_studies.csv``: ``study_id -> (label, "file:line")``."""

    def __init__(self) -> None:
        self.labels: dict[str, tuple[int, str]] = {}
        self.conflicted: set[str] = set()
        self.invalid: set[str] = set()
        self.present: set[str] = set()  # splits whose CSV exists


def _read_labels(root: Path, problems: list[Problem]) -> _CsvLabels:
    out = _CsvLabels()
    for split in SPLITS:
        csv_path = root / labeled_studies_csv(split)
        fallback = "labels taken from the study folder names"
        if not _csv_present(csv_path):
            if _split_present(root, split):
                problems.append(Problem(csv_path.name, f"missing; {fallback}"))
            continue
        rows = _read_csv(read_labeled_studies, root, csv_path, fallback, problems)
        if rows is None:
            continue
        out.present.add(split)
        for row in rows:
            where = f"{csv_path.name}:{row.line}"
            study = study_from_listed(row.fields[0])
            if study is None:
                problems.append(Problem(where, f"not a MURA study path: {row.fields[0]!r}"))
                continue
            sid = study.study_id
            value = row.fields[1] if len(row.fields) > 1 else ""
            if value not in ("0", "1"):
                out.invalid.add(sid)
                problems.append(Problem(sid, f"label {value!r} at {where} is not 0 or 1"))
                continue
            label = int(value)
            previous = out.labels.get(sid)
            if previous is not None and previous[0] != label:
                out.conflicted.add(sid)
                problems.append(Problem(
                    sid, f"listed with label {previous[0]} at {previous[1]} and {label} at "
                    f"{where}; study left out"
                ))
            out.labels.setdefault(sid, (label, where))
    return out


def _split_present(root: Path, split: str) -> bool:
    return (root / split).is_dir() or _csv_present(root / image_paths_csv(split))


def _reconcile_labels(
    candidates: dict[str, ImageParts],
    csv: _CsvLabels,
    seen_studies: set[str],
    problems: list[Problem],
) -> set[str]:
    """Check folder labels against the CSV; returns the study ids to leave out."""
    studies: dict[str, StudyParts] = {p.study.study_id: p.study for p in candidates.values()}
    excluded: set[str] = set()
    for sid, study in studies.items():
        if study.split not in csv.present:
            continue
        if sid in csv.conflicted:
            excluded.add(sid)
            continue
        entry = csv.labels.get(sid)
        if entry is None:
            if sid not in csv.invalid:
                problems.append(Problem(
                    sid, f"not listed in {labeled_studies_csv(study.split)}; label taken from "
                    f"the folder name ({study.label}, {LABEL_NAMES[study.label]})"
                ))
            continue
        label, where = entry
        if label != study.label:
            excluded.add(sid)
            problems.append(Problem(
                sid, f"label disagreement: the folder name says {study.label} "
                f"({LABEL_NAMES[study.label]}) but {where} says {label} "
                f"({LABEL_NAMES[label]}); study left out"
            ))
    for sid, (_, where) in csv.labels.items():
        if sid not in seen_studies:
            problems.append(Problem(sid, f"listed at {where} but has no images"))
    return excluded


# ---------------------------------------------------------------------------- readability


def header_problem(path: Path, root: Path | None = None) -> str | None:
    """Why ``path`` is not a valid image (chunks and CRCs; no pixel decode), or None."""
    try:
        with pil_image(path, root) as image:
            image.verify()
    except InputError as exc:
        return exc.problem
    return None


def decode_problem(path: Path, root: Path | None = None) -> str | None:
    """Why ``path`` cannot be decoded by the loader's reader, or None."""
    try:
        read_radiograph_png(path, root)
    except InputError as exc:
        return exc.problem
    return None


def check_records_readable(
    records: Iterable[ImageRecord], workers: int | None = None
) -> None:
    """Refuse records whose files fail the ``"header"`` check, before any work starts.

    Raises :class:`~medxai.errors.InputError` naming the first such file, its problem,
    and how many more there are (``medxai data check`` lists them all).
    """
    records = list(records)
    threads = max(1, workers or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda r: header_problem(r.path, r.root), records))
    bad = [(r.path, problem) for r, problem in zip(records, results) if problem is not None]
    if bad:
        path, problem = bad[0]
        more = (
            f" ({len(bad) - 1} more unreadable image(s); medxai data check lists them)"
            if len(bad) > 1 else ""
        )
        raise InputError(path, problem + more)


def _drop_unreadable(
    root: Path, images: list[ImageParts], mode: str, workers: int | None, problems: list[Problem]
) -> list[ImageParts]:
    problem_of = header_problem if mode == "header" else decode_problem

    def check(path: Path) -> str | None:
        return problem_of(path, root)

    threads = max(1, workers or os.cpu_count() or 1)
    paths: Iterable[Path] = (root / p.rel for p in images)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(check, paths, chunksize=64))
    kept = []
    for parts, problem in zip(images, results):
        if problem is None:
            kept.append(parts)
        else:
            problems.append(Problem(parts.rel, problem))
    return kept


# ---------------------------------------------------------------------------- leakage


def _shared_patients(images: list[ImageParts]) -> list[Problem]:
    """One problem per patient who has images in both splits (MURA has none)."""
    where: dict[str, dict[str, str]] = {}
    for p in images:
        folder = f"{p.study.split}/{p.study.body_part}/{p.study.patient}"
        where.setdefault(p.study.patient, {}).setdefault(p.study.split, folder)
    out = []
    for splits in where.values():
        if len(splits) > 1:
            out.append(Problem(splits["valid"], f"patient also in train ({splits['train']})"))
    return out
