"""Annotation files, cast masks and file digests are read under the file-access rule.

A FIFO, a link to ``/dev/zero`` or a link out of the folder where an annotation file, a
mask or a hashed file is expected gives one line naming it, never a hang, an endless
read, or a silent "no annotations".
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from guards import time_limit
from PIL import Image

from medxai.errors import InputError
from medxai.io.annotations import find_annotation_file, load_annotations
from medxai.io.files import file_sha256
from medxai.io.images import load_radiograph
from medxai.io.masks import cast_mask_for, cast_mask_path, image_size, study_annotations
from medxai.report.inputs import read_annotations

FIFO = "a named pipe (FIFO), not a regular file (refused)"
DEVICE = "symbolic link to a character device, not a regular file (refused)"


def _one_line(call, path: Path, problem: str) -> None:
    with time_limit(20, str(path)), pytest.raises(InputError) as info:
        call()
    assert str(info.value) == f"{path}: {problem}"


def _study(tmp_path: Path) -> Path:
    study = tmp_path / "study1_positive"
    (study / "masks").mkdir(parents=True)
    Image.fromarray(np.full((6, 8), 90, dtype=np.uint8)).save(study / "image1.png")
    return study


ANNOTATIONS = {"images": {"image1.png": [{"shape": "box", "x0": 1, "y0": 1, "x1": 4, "y1": 3}]}}


# ---------------------------------------------------------------------------- annotations


def test_fifo_annotation_file_is_refused_not_skipped(tmp_path):
    study = _study(tmp_path)
    fifo = study / "annotations.json"
    os.mkfifo(fifo)
    assert find_annotation_file(study) == fifo  # not "a study without annotations"
    _one_line(lambda: load_annotations(fifo), fifo, FIFO)
    _one_line(lambda: study_annotations(study), fifo, FIFO)
    _one_line(lambda: read_annotations(study, None, []), fifo, FIFO)
    _one_line(lambda: read_annotations(tmp_path, fifo, []), fifo, FIFO)  # --annotations


def test_device_and_outside_links_as_annotation_files(tmp_path):
    study = _study(tmp_path)
    zero = study / "annotations.json"
    zero.symlink_to("/dev/zero")  # an endless stream of NULs
    _one_line(lambda: load_annotations(zero), zero, DEVICE)
    zero.unlink()
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps(ANNOTATIONS))
    link = study / "annotations.json"
    link.symlink_to(outside)
    problem = f"symbolic link to a file outside {study.resolve()} (refused)"
    _one_line(lambda: load_annotations(link), link, problem)
    # within a root that holds the target (an evaluation's data root) it is read
    assert list(load_annotations(link, tmp_path)) == ["image1.png"]
    assert list(study_annotations(study, tmp_path)) == ["image1.png"]


def test_regular_annotation_file_still_reads(tmp_path):
    study = _study(tmp_path)
    (study / "annotations.json").write_text(json.dumps(ANNOTATIONS))
    shapes, path = read_annotations(study, None, load_radiograph(study / "image1.png"))
    assert path == study / "annotations.json" and len(shapes["image1.png"]) == 1
    with pytest.raises(InputError, match="annotation file not found"):
        load_annotations(study / "annotations.xml")


# ---------------------------------------------------------------------------- masks


def test_cast_mask_fifo_and_device_are_refused(tmp_path):
    study = _study(tmp_path)
    image = study / "image1.png"
    mask = cast_mask_path(image)
    assert cast_mask_for(image, 6, 8) is None  # nothing there: no cast mask
    os.mkfifo(mask)
    _one_line(lambda: cast_mask_for(image, 6, 8), mask, FIFO)
    mask.unlink()
    mask.symlink_to("/dev/zero")
    _one_line(lambda: cast_mask_for(image, 6, 8), mask, DEVICE)
    mask.unlink()
    mask.symlink_to("gone.png")
    _one_line(
        lambda: cast_mask_for(image, 6, 8), mask,
        "dangling symbolic link (its target does not exist)",
    )


def test_cast_mask_reads_and_checks_its_content(tmp_path):
    study = _study(tmp_path)
    image = study / "image1.png"
    mask = cast_mask_path(image)
    pixels = np.zeros((6, 8), dtype=np.uint8)
    pixels[2:4, 3:6] = 255
    Image.fromarray(pixels).save(mask)
    np.testing.assert_array_equal(cast_mask_for(image, 6, 8), pixels > 0)
    Image.fromarray(pixels).save(mask, format="TIFF")  # only Pillow's PNG opener sees it
    _one_line(lambda: cast_mask_for(image, 6, 8), mask, "not a readable mask")
    Image.fromarray(pixels).save(mask)
    mask.write_bytes(mask.read_bytes()[:50])  # cut inside the image data
    with pytest.raises(InputError, match=r"_cast\.png: unreadable mask \("):
        cast_mask_for(image, 6, 8)


def test_image_size_under_the_rule(tmp_path):
    study = _study(tmp_path)
    assert image_size(study / "image1.png") == (6, 8)
    fifo = study / "image2.png"
    os.mkfifo(fifo)
    _one_line(lambda: image_size(fifo), fifo, FIFO)


# ---------------------------------------------------------------------------- digests


def test_file_sha256_reads_regular_files_only(tmp_path):
    data = tmp_path / "model.ckpt"
    data.write_bytes(b"weights" * 1000)
    expected = hashlib.sha256(data.read_bytes()).hexdigest()
    assert file_sha256(data) == expected
    assert file_sha256(data, chunk=7) == expected
    # a named file (a checkpoint) may be a link to another folder: a digest shows nothing
    elsewhere = tmp_path / "runs"
    elsewhere.mkdir()
    link = elsewhere / "best.ckpt"
    link.symlink_to(data)
    assert file_sha256(link) == expected
    # unless a root is given (an evaluation's data root), as when the file is read
    problem = f"symbolic link to a file outside {elsewhere.resolve()} (refused)"
    _one_line(lambda: file_sha256(link, elsewhere), link, problem)
    zero = tmp_path / "zero.ckpt"
    zero.symlink_to("/dev/zero")
    _one_line(lambda: file_sha256(zero), zero, DEVICE)
    fifo = tmp_path / "pipe.ckpt"
    os.mkfifo(fifo)
    _one_line(lambda: file_sha256(fifo), fifo, FIFO)
