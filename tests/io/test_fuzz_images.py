"""Fuzzing the image readers: mutated PNG, JPEG and DICOM (native, RLE, JPEG 2000) files.

Every outcome must be a decoded image (float32 H×W, finite, in [0, 1]) or a
:class:`~medxai.errors.MedxaiError`; any other exception, a NaN, or a read that takes
longer than :data:`CASE_SECONDS` fails the test, naming the seed file, the iteration and
where the mutated bytes were kept. Seeded: the same ``--fuzz-iterations N`` always tries
the same files (``N`` per seed file; the default keeps the test to a few seconds).
Half of the mutated PNGs get their chunk checksums repaired, so that the damage reaches
zlib and the PNG decoder.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import write_dicom
from guards import time_limit
from PIL import Image
from pydicom.uid import JPEG2000Lossless, RLELossless

from medxai.data.transforms import read_radiograph_png
from medxai.errors import MedxaiError
from medxai.io import load_radiograph

#: Longest a single read may take: a mutated header may announce an image near
#: MAX_PIXELS that is legitimately decoded (seconds on a loaded machine); far longer is a
#: hang. The decoding worker's own limit is longer still.
CASE_SECONDS = 60

SEED = 20_240_614

#: Bytes that often sit on boundaries: zero, all ones, sign bits.
INTERESTING = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE)


def _gradient(shape: tuple[int, int], top: int, dtype: type) -> np.ndarray:
    rows, cols = np.indices(shape)
    return ((rows * 7 + cols * 3) % (top + 1)).astype(dtype)


def _png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    image = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    image.save(path)
    return path


def _seed_files(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    grey = _gradient((24, 20), 255, np.uint8)
    ramp = _gradient((24, 20), 4095, np.uint16)
    square = _gradient((64, 64), 4095, np.uint16)  # JPEG 2000's default levels need 64 px
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="JPEG", quality=90)
    (folder / "grey.jpg").write_bytes(buffer.getvalue())
    return {
        "png8": _png(folder / "grey.png", grey),
        "png16": _png(folder / "deep.png", ramp),
        "png-rgb": _png(folder / "rgb.png", np.stack([grey, grey[::-1], 255 - grey], -1)),
        "jpeg": folder / "grey.jpg",
        "dicom": write_dicom(folder / "native.dcm", ramp, bits_stored=12, window=(2048, 3000)),
        "dicom-rle": write_dicom(
            folder / "rle.dcm", square, transfer_syntax=RLELossless, bits_stored=12
        ),
        "dicom-j2k": write_dicom(
            folder / "j2k.dcm", square, transfer_syntax=JPEG2000Lossless, bits_stored=12
        ),
    }


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to four edits: bit flips, boundary bytes, deletions, insertions, truncation.

    Half of the positions fall in the first kilobyte, where the headers are.
    """
    buffer = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        if not buffer:
            break
        span = len(buffer) if rng.random() < 0.5 else min(len(buffer), 1024)
        at = int(rng.integers(0, span))
        edit = rng.choice(["flip", "interesting", "delete", "insert", "truncate"],
                          p=[0.35, 0.3, 0.15, 0.15, 0.05])  # fmt: skip
        if edit == "flip":
            buffer[at] ^= 1 << int(rng.integers(0, 8))
        elif edit == "interesting":
            count = int(rng.integers(1, 5))
            values = bytes(int(rng.choice(INTERESTING)) for _ in range(count))
            buffer[at : at + count] = values
        elif edit == "delete":
            del buffer[at : at + int(rng.integers(1, 17))]
        elif edit == "insert":
            buffer[at:at] = rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8).tobytes()
        else:
            del buffer[at:]
    return bytes(buffer)


def fix_png_crcs(data: bytes) -> bytes:
    """``data`` with the CRC of every complete PNG chunk recomputed, so that mutations
    reach the decompressor and the decoder instead of stopping at a checksum."""
    buffer = bytearray(data)
    at = 8
    while at + 12 <= len(buffer):
        length = int.from_bytes(buffer[at : at + 4], "big")
        end = at + 8 + length
        if end + 4 > len(buffer):
            break
        crc = zlib.crc32(bytes(buffer[at + 4 : end])) & 0xFFFFFFFF
        buffer[end : end + 4] = crc.to_bytes(4, "big")
        at = end + 4
    return bytes(buffer)


def _check_pixels(pixels: np.ndarray) -> None:
    assert pixels.dtype == np.float32 and pixels.ndim == 2 and pixels.size > 0
    assert np.isfinite(pixels).all(), "non-finite pixels"
    assert pixels.min() >= 0.0 and pixels.max() <= 1.0


def _report_readers(path: Path) -> None:
    for image in load_radiograph(path):
        _check_pixels(image.pixels)


def _training_reader(path: Path) -> None:
    _check_pixels(read_radiograph_png(path))


def _outcome(reader: Callable[[Path], None], path: Path, what: str) -> str:
    """``"image"`` or ``"refused"``; anything else fails with ``what`` in the message."""
    try:
        with time_limit(CASE_SECONDS, what):
            reader(path)
    except MedxaiError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(f"{path}: "), what
        return "refused"
    except BaseException as exc:  # a panic, a NaN assertion, a hang: all are failures
        pytest.fail(f"{what}: {type(exc).__name__}: {exc}")
    return "image"


def test_mutated_images_decode_or_are_refused(tmp_path: Path, fuzz_iterations: int) -> None:
    seeds = _seed_files(tmp_path / "seeds")
    work = tmp_path / "mutated"
    work.mkdir()
    outcomes: dict[str, dict[str, int]] = {}
    for index, (name, seed_path) in enumerate(seeds.items()):
        rng = np.random.default_rng([SEED, index])
        original = seed_path.read_bytes()
        readers = [("load_radiograph", _report_readers)]
        if not name.startswith("dicom"):
            readers.append(("read_radiograph_png", _training_reader))
        counts = outcomes.setdefault(name, {"image": 0, "refused": 0})
        for iteration in range(fuzz_iterations):
            path = work / f"{name}-{iteration}{seed_path.suffix}"
            mutated = mutate(original, rng)
            if seed_path.suffix == ".png" and iteration % 2:
                mutated = fix_png_crcs(mutated)
            path.write_bytes(mutated)
            for reader_name, reader in readers:
                what = f"{reader_name} on {name} iteration {iteration} (bytes kept at {path})"
                counts[_outcome(reader, path, what)] += 1
            path.unlink()
    # Both outcomes occur for every kind of file: the mutations reach the decoders.
    for name, counts in outcomes.items():
        assert counts["refused"] > 0, (name, counts)
        assert counts["image"] > 0 or fuzz_iterations < 20, (name, counts)
