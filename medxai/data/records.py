"""What a MURA index holds: image records, problems, and counts per split and body part."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from medxai.data.layout import (
    BODY_PART_RE,
    BODY_PARTS,
    LABEL_NAMES,
    SPLITS,
    normalise_body_part,
)


@dataclass(frozen=True)
class ImageRecord:
    """One image of the index.

    ``path`` is absolute; ``study_id`` is the study folder relative to the dataset root
    (e.g. ``"train/XR_WRIST/patient00001/study1_positive"``), which identifies a study
    uniquely; ``label`` is 1 for abnormal, 0 for normal. ``root`` is the dataset folder
    the file must lie in when it is read (:mod:`medxai.io.files`; None: the image's own
    folder); it is not part of the record's identity.
    """

    path: Path
    split: str
    body_part: str
    patient: str
    study_id: str
    label: int
    root: Path | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Problem:
    """Something wrong in the dataset: ``path`` (relative to the root, or ``file.csv:line``)."""

    path: str
    problem: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "problem": self.problem}


def _empty_counts() -> dict[str, dict[str, int]]:
    return {"studies": {"normal": 0, "abnormal": 0}, "images": {"normal": 0, "abnormal": 0}}


@dataclass
class MuraIndex:
    """The images of a MURA-v1.1 copy that can be used, and the problems found in it."""

    root: Path
    images: list[ImageRecord]
    problems: list[Problem] = field(default_factory=list)

    def filter(
        self, split: str | None = None, body_parts: Iterable[str] | None = None
    ) -> MuraIndex:
        """The images (and the problems) of one split and/or some body parts.

        Body parts may be written ``"XR_WRIST"`` or ``"wrist"``. A split other than
        ``train``/``valid``, or a body part that is neither a MURA body part nor present in
        the index, raises :class:`ValueError`.
        """
        if split is not None and split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        wanted: set[str] | None = None
        if body_parts is not None:
            if isinstance(body_parts, str):
                body_parts = [body_parts]
            wanted = {normalise_body_part(b) for b in body_parts}
            known = set(BODY_PARTS) | {r.body_part for r in self.images}
            unknown = sorted(wanted - known)
            if unknown:
                raise ValueError(
                    f"unknown body part(s) {', '.join(unknown)}; expected some of "
                    f"{', '.join(sorted(known))}"
                )

        def keep(s: str, bp: str) -> bool:
            return (split is None or s == split) and (wanted is None or bp in wanted)

        images = [r for r in self.images if keep(r.split, r.body_part)]
        problems = [p for p in self.problems if _problem_matches(p, split, wanted)]
        return MuraIndex(self.root, images, problems)

    def studies(self) -> dict[str, list[ImageRecord]]:
        """``study_id`` to its images, in index order."""
        out: dict[str, list[ImageRecord]] = {}
        for record in self.images:
            out.setdefault(record.study_id, []).append(record)
        return out

    def counts(self) -> dict:
        """Studies and images per split, body part and label: the ``"splits"`` object of
        ``medxai data check --json``. Both splits are always present; body parts only
        when they have images; keys are sorted."""
        out: dict[str, dict[str, dict]] = {s: {} for s in SPLITS}
        seen: set[str] = set()
        for r in self.images:
            entry = out.setdefault(r.split, {}).setdefault(r.body_part, _empty_counts())
            name = LABEL_NAMES[r.label]
            entry["images"][name] += 1
            if r.study_id not in seen:
                seen.add(r.study_id)
                entry["studies"][name] += 1
        return {s: dict(sorted(parts.items())) for s, parts in out.items()}

    def to_json(self) -> dict:
        """The object ``medxai data check --json`` prints."""
        return {"splits": self.counts(), "problems": [p.to_dict() for p in self.problems]}


def _problem_matches(problem: Problem, split: str | None, wanted: set[str] | None) -> bool:
    """Whether a problem concerns the selected split and body parts (unplaceable ones stay)."""
    parts = problem.path.split("/")
    head = parts[0]
    if split is not None:
        if head in SPLITS and head != split:
            return False
        other = [s for s in SPLITS if s != split]
        if any(head.startswith(f"{s}_") for s in other):
            return False
    placed = len(parts) > 1 and head in SPLITS and BODY_PART_RE.fullmatch(parts[1])
    if wanted is not None and placed:
        return parts[1] in wanted
    return True
