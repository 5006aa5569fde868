"""PNG/JPEG reading and study folders."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import write_dicom
from PIL import Image

from medxai.errors import InputError
from medxai.io import MAX_PIXELS, load_radiograph, scan_study
from medxai.io.images import natural_key


def save_png(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array).save(path)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header announces ``width × height`` but holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def test_gray_png_divides_by_255(tmp_path):
    array = np.arange(256, dtype=np.uint8).reshape(16, 16)
    (image,) = load_radiograph(save_png(tmp_path / "a.png", array))
    assert image.pixels.dtype == np.float32 and image.pixels.shape == (16, 16)
    np.testing.assert_allclose(image.pixels, array / 255.0, atol=1e-7)
    assert image.name == "a.png" and image.frame is None
    assert image.pixel_spacing_mm is None and image.identifiers == {} and image.study_uid is None


def test_sixteen_bit_png_divides_by_65535(tmp_path):
    array = (np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8)
    path = save_png(tmp_path / "b.png", array)
    assert Image.open(path).mode.startswith("I")
    (image,) = load_radiograph(path)
    np.testing.assert_allclose(image.pixels, array / 65535.0, atol=1e-6)


def test_rgb_png_becomes_luminance(tmp_path):
    array = np.zeros((4, 5, 3), dtype=np.uint8)
    array[..., 1] = 255
    (image,) = load_radiograph(save_png(tmp_path / "c.png", array))
    np.testing.assert_allclose(image.pixels, 0.587, atol=1e-6)


def test_rgba_png_drops_alpha(tmp_path):
    array = np.full((4, 5, 4), 200, dtype=np.uint8)
    array[..., 3] = 0
    (image,) = load_radiograph(save_png(tmp_path / "d.png", array))
    np.testing.assert_allclose(image.pixels, 200 / 255.0, atol=1e-6)


def test_jpeg_exif_orientation_is_applied(tmp_path):
    array = np.zeros((20, 40), dtype=np.uint8)
    array[:, :10] = 255  # bright left edge
    img = Image.fromarray(array)
    exif = img.getexif()
    exif[0x0112] = 6  # the camera was turned: rotate 90° clockwise to display
    path = tmp_path / "e.jpg"
    img.save(path, quality=95, exif=exif)
    (image,) = load_radiograph(path)
    assert image.pixels.shape == (40, 20)
    assert image.pixels[:10].mean() > 0.9 and image.pixels[20:].mean() < 0.1  # left → top


def test_png_decompression_bomb_refused(tmp_path):
    path = png_header_only(tmp_path / "bomb.png", 30_000, 30_000)  # beyond PIL's own limit
    with pytest.raises(InputError, match=(
        r"bomb\.png: image of 900,000,000 pixels exceeds the 100,000,000-pixel limit "
        r"\(possible decompression bomb\)"
    )):
        load_radiograph(path)


def test_png_over_the_explicit_limit_refused(tmp_path):
    width = 11_000
    height = MAX_PIXELS // width + 1  # just over MAX_PIXELS, under PIL's error threshold
    path = png_header_only(tmp_path / "big.png", width, height)
    with pytest.raises(InputError, match=r"exceeds the 100,000,000-pixel limit"):
        load_radiograph(path)


def test_corrupt_png(tmp_path):
    path = save_png(tmp_path / "x.png", np.zeros((64, 64), dtype=np.uint8) + 7)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(InputError, match=r"x\.png: unreadable PNG image \(OSError: "):
        load_radiograph(path)


def test_not_an_image(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InputError, match="not a PNG, JPEG or DICOM file"):
        load_radiograph(text)
    fake = tmp_path / "fake.png"
    fake.write_text("hello")
    with pytest.raises(InputError, match=r"fake\.png: not a readable PNG image"):
        load_radiograph(fake)
    with pytest.raises(InputError, match="missing.png: file not found"):
        load_radiograph(tmp_path / "missing.png")


def test_natural_key():
    names = ["image10.png", "image2.png", "Image1.png", "image1b.png"]
    assert sorted(names, key=natural_key) == [
        "Image1.png",
        "image1b.png",
        "image2.png",
        "image10.png",
    ]


def test_scan_study(tmp_path):
    for n in (10, 2, 1):
        save_png(tmp_path / f"image{n}.png", np.full((8, 8), n * 10, dtype=np.uint8))
    corrupt = tmp_path / "image3.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "annotations.json").write_text("{}")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / "sub").mkdir()
    write_dicom(tmp_path / "image4.dcm", np.stack([np.eye(8, dtype=np.uint16)] * 2))

    scan = scan_study(tmp_path)
    assert scan.folder == tmp_path
    assert [i.name for i in scan.images] == [
        "image1.png",
        "image2.png",
        "image4.dcm#frame1",
        "image4.dcm#frame2",
        "image10.png",
    ]
    assert [p for p, _ in scan.skipped] == [corrupt]
    assert "PNG" in scan.skipped[0][1]
    assert scan.ignored == sorted(
        [tmp_path / ".DS_Store", tmp_path / "notes.txt", tmp_path / "sub"],
        key=lambda p: natural_key(p.name),
    )
    assert scan.study_uid == scan.images[2].study_uid is not None


def test_scan_study_empty_and_unreadable(tmp_path):
    with pytest.raises(InputError, match=r": the folder is empty"):
        scan_study(tmp_path)
    with pytest.raises(InputError, match=r"no such folder"):
        scan_study(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"no PNG, JPEG or DICOM image \(1 other file"):
        scan_study(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(InputError) as info:
        scan_study(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path}: no readable image: broken.png: ")
    assert "\n" not in message


def test_scan_study_warns_about_mixed_studies(tmp_path):
    write_dicom(tmp_path / "a.dcm", np.eye(4, dtype=np.uint16), study_uid="1.2.3")
    write_dicom(tmp_path / "b.dcm", np.eye(4, dtype=np.uint16), study_uid="1.2.4")
    scan = scan_study(tmp_path)
    assert scan.study_uid is None
    assert any("2 DICOM studies" in w for w in scan.warnings)
