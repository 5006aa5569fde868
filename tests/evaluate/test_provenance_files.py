"""The digests of run.json read every file under the file-access rule, within the data root."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from medxai.errors import InputError
from medxai.evaluate.provenance import ABSENT, image_digests


def _dataset(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "MURA-v1.1"
    study = root / "valid" / "XR_WRIST" / "patient1" / "study1_positive"
    (study / "masks").mkdir(parents=True)
    image = study / "image1.png"
    image.write_bytes(b"image bytes")
    return root, image


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_absent_ground_truth_and_links_inside_the_root(tmp_path):
    root, image = _dataset(tmp_path)
    key = "valid/XR_WRIST/patient1/study1_positive"
    records = [SimpleNamespace(path=image)]
    expected = _digest([
        f"image {key}/image1.png {_sha(b'image bytes')}\n",
        f"annotations {key}/annotations.json {ABSENT}\n",
        f"cast {key}/masks/image1_cast.png {ABSENT}\n",
    ])
    assert image_digests(records, root, localisation=True) == {f"{key}/image1.png": expected}
    # a cast mask linked to a file elsewhere in the data root is read like the file
    shared = root / "shared_cast.png"
    shared.write_bytes(b"mask bytes")
    (image.parent / "masks" / "image1_cast.png").symlink_to(shared)
    digests = image_digests(records, root, localisation=True)
    assert digests[f"{key}/image1.png"] == _digest([
        f"image {key}/image1.png {_sha(b'image bytes')}\n",
        f"annotations {key}/annotations.json {ABSENT}\n",
        f"cast shared_cast.png {_sha(b'mask bytes')}\n",  # the file really read
    ])


@pytest.mark.parametrize("role", ["annotations.json", "masks/image1_cast.png"])
def test_fifo_or_device_ground_truth_is_refused_in_one_line(tmp_path, role):
    root, image = _dataset(tmp_path)
    target = image.parent / role
    records = [SimpleNamespace(path=image)]
    os.mkfifo(target)
    signal.alarm(20)  # a blocking open would stop the test here rather than hang
    try:
        with pytest.raises(InputError) as info:
            image_digests(records, root, localisation=True)
    finally:
        signal.alarm(0)
    assert str(info.value) == f"{target}: a named pipe (FIFO), not a regular file (refused)"
    target.unlink()
    target.symlink_to("/dev/zero")
    with pytest.raises(InputError) as info:
        image_digests(records, root, localisation=True)
    assert str(info.value) == (
        f"{target}: symbolic link to a character device, not a regular file (refused)"
    )
    # without localisation only the image is read
    assert len(image_digests(records, root, localisation=False)) == 1
