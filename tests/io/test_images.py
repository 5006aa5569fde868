"""PNG/JPEG reading and study folders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import png_header_only, write_dicom
from PIL import Image

from medxai.data.transforms import read_radiograph_png
from medxai.errors import InputError
from medxai.io import MAX_PIXELS, load_radiograph, scan_study
from medxai.io.files import open_input
from medxai.io.images import natural_key


def save_png(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array).save(path)
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
    with pytest.raises(InputError, match=r"missing\.png: file not found"):
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


# ---------------------------------------------------------------------------- hostile folders


def _good_study(folder: Path) -> Path:
    folder.mkdir()
    save_png(folder / "image1.png", np.full((8, 8), 100, dtype=np.uint8))
    return folder


def test_symlink_loop_is_skipped_and_the_study_is_read(tmp_path):
    study = _good_study(tmp_path / "study")
    (study / "loop1.dcm").symlink_to("loop2.dcm")
    (study / "loop2.dcm").symlink_to("loop1.dcm")
    scan = scan_study(study)
    assert [i.name for i in scan.images] == ["image1.png"]
    assert scan.skipped == [
        (study / "loop1.dcm", "symbolic link loop"),
        (study / "loop2.dcm", "symbolic link loop"),
    ]


def test_symlink_to_a_device_is_refused_without_reading(tmp_path):
    study = _good_study(tmp_path / "study")
    (study / "image.dcm").symlink_to("/dev/zero")  # pydicom would read zeros for ever
    (study / "image2.png").symlink_to("/dev/zero")
    scan = scan_study(study)
    assert [i.name for i in scan.images] == ["image1.png"]
    reason = "symbolic link to a character device, not a regular file (refused)"
    assert scan.skipped == [(study / "image2.png", reason), (study / "image.dcm", reason)]


def test_fifo_is_refused_without_blocking(tmp_path):
    study = _good_study(tmp_path / "study")
    os.mkfifo(study / "image3.png")  # opening it for reading would wait for a writer
    scan = scan_study(study)
    assert scan.skipped == [
        (study / "image3.png", "a named pipe (FIFO), not a regular file (refused)")
    ]


def test_symlinks_are_followed_only_inside_the_study(tmp_path):
    study = _good_study(tmp_path / "study")
    outside = save_png(tmp_path / "elsewhere.png", np.full((4, 4), 9, dtype=np.uint8))
    (study / "image2.png").symlink_to(outside)
    (study / "image3.png").symlink_to("image1.png")  # inside: read like the file itself
    (study / "image4.png").symlink_to("gone.png")
    scan = scan_study(study)
    assert [i.name for i in scan.images] == ["image1.png", "image3.png"]
    skipped = dict(scan.skipped)
    assert skipped[study / "image2.png"] == (
        f"symbolic link to a file outside {study.resolve()} (refused)"
    )
    assert skipped[study / "image4.png"] == "dangling symbolic link (its target does not exist)"
    # a file on its own is read with its own folder as the root
    with pytest.raises(InputError, match=r"image2\.png: symbolic link to a file outside"):
        load_radiograph(study / "image2.png")
    (image,) = load_radiograph(study / "image2.png", root=tmp_path)
    assert image.pixels.shape == (4, 4)


def test_reads_stop_at_the_size_measured_when_opened(tmp_path):
    path = tmp_path / "grows.bin"
    path.write_bytes(b"0123456789")
    with open_input(path) as handle:
        with open(path, "ab") as writer:
            writer.write(b"more bytes written while the file is read")
        assert handle.read() == b"0123456789"
        handle.seek(4)
        assert handle.read(3) == b"456"


def test_a_400_megapixel_png_in_a_study_is_skipped(tmp_path):
    study = _good_study(tmp_path / "study")
    png_header_only(study / "image2.png", 20_000, 20_000)
    scan = scan_study(study)
    assert [i.name for i in scan.images] == ["image1.png"]
    assert scan.skipped == [(
        study / "image2.png",
        "image of 400,000,000 pixels exceeds the 100,000,000-pixel limit "
        "(possible decompression bomb)",
    )]


def assert_both_readers_refuse(path: Path, message: str) -> None:
    """The report's reader and the training reader both refuse ``path`` with ``message``."""
    for read in (load_radiograph, read_radiograph_png):
        with pytest.raises(InputError) as info:
            read(path)
        assert str(info.value) == message


def test_png_too_small_for_its_header_is_refused_before_decoding(tmp_path):
    # 84 M pixels announced (under MAX_PIXELS) in 80 bytes: deflate cannot inflate
    # 80 bytes to the 16.8 MB of rows that even a 1-bit image of that size needs.
    path = png_header_only(tmp_path / "tall.png", 20, 4_194_328)
    message = (
        f"{path}: truncated PNG: {path.stat().st_size:,} bytes cannot hold the "
        "20×4194328 pixels its header announces"
    )
    assert_both_readers_refuse(path, message)


def jpeg_announcing(path: Path, width: int, height: int, pixels: np.ndarray) -> Path:
    """A complete JPEG of ``pixels`` whose frame header (SOF0) announces width × height."""
    Image.fromarray(pixels).save(path, format="JPEG", quality=75)
    data = bytearray(path.read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    path.write_bytes(bytes(data))
    return path


def test_jpeg_too_small_for_its_header_is_refused_before_decoding(tmp_path):
    # 100 M pixels announced (at MAX_PIXELS) in 331 bytes; decoding it took 15 s and 400 MB.
    path = jpeg_announcing(tmp_path / "big.jpg", 10_000, 10_000, np.full((8, 8), 128, np.uint8))
    size = path.stat().st_size
    assert size < 400 and 512 * size < 10_000 * 10_000
    message = (
        f"{path}: truncated JPEG: {size:,} bytes cannot hold the 10000×10000 pixels its "
        "header announces (a complete JPEG has at least 1 byte per 512 pixels)"
    )
    assert_both_readers_refuse(path, message)


def test_a_flat_jpeg_is_above_the_floor(tmp_path):
    # The most compressible image there is (one gray value, optimised progressive coding:
    # 0.033 bit per pixel, 239 pixels per byte) is still read: the floor is 1/64 bit per
    # pixel (512 pixels per byte).
    path = tmp_path / "flat.jpg"
    Image.new("L", (1024, 1024), 90).save(path, format="JPEG", optimize=True, progressive=True)
    assert 200 * path.stat().st_size < 1024 * 1024  # under 0.04 bit per pixel
    (image,) = load_radiograph(path)
    assert image.pixels.shape == (1024, 1024)
    assert np.allclose(image.pixels, 90 / 255, atol=1 / 255)


def test_only_png_and_jpeg_decoders_see_input_files(tmp_path):
    # a TIFF (or EPS, PSD…) named .png never reaches Pillow's other plugins
    path = tmp_path / "image1.png"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(path, format="TIFF")
    with pytest.raises(InputError, match=r"image1\.png: not a readable PNG image$"):
        load_radiograph(path)
    with pytest.raises(InputError, match=r"image1\.png: not a readable image$"):
        read_radiograph_png(path)
