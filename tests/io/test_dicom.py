"""The DICOM display chain, compressed transfer syntaxes, frames, spacing and bad files."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_factory import PATIENT, damage_rle, make_dicom, write_dicom
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_modality_lut, apply_windowing
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

import medxai.io.decode as decode_module
import medxai.io.dicom as dicom_module
from medxai.errors import InputError
from medxai.io import MAX_PIXELS, load_radiograph, scan_study
from medxai.io.decode import isolated
from medxai.io.dicom_display import window

RAMP = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)  # 0..4095: all 12-bit values


def one(path: Path):
    images = load_radiograph(path)
    assert len(images) == 1
    return images[0]


def test_cr_monochrome1_window_polarity_and_range(tmp_path):
    # MONOCHROME1: low stored values are dense (shown white). Bone at 500, soft tissue 2000,
    # background (no attenuation) 3800.
    pixels = np.full((40, 50), 3800, dtype=np.uint16)
    pixels[10:30, 5:45] = 2000
    pixels[15:25, 20:30] = 500
    path = write_dicom(
        tmp_path / "cr.dcm", pixels, photometric="MONOCHROME1", bits_stored=12,
        window=(2048, 2000),
    )  # fmt: skip
    image = one(path)
    assert image.pixels.dtype == np.float32
    assert image.pixels.min() == 0.0 and image.pixels.max() == 1.0
    bone, tissue, background = image.pixels[20, 25], image.pixels[12, 8], image.pixels[0, 0]
    assert bone == 1.0  # below the window, clipped, then inverted: bright
    assert background == 0.0  # above the window: dark
    assert bone > tissue > background
    # LINEAR window, PS3.3 C.11.2.1.2.1: ((x - (c - .5)) / (w - 1) + .5), then inverted
    assert tissue == pytest.approx(1 - ((2000 - 2047.5) / 1999 + 0.5), abs=1e-6)


def test_window_matches_pydicom_normalised(tmp_path):
    for function in ("LINEAR", "LINEAR_EXACT", "SIGMOID"):
        ds = make_dicom(RAMP, bits_stored=12, window=(1800, 900), voi_lut_function=function)
        ours = window(RAMP, 1800, 900, function)
        theirs = apply_windowing(RAMP, ds) / 4095.0
        np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_whole_ramp_monotone_and_clipped(tmp_path):
    image = one(write_dicom(tmp_path / "r.dcm", RAMP, bits_stored=12, window=(2048, 1024)))
    flat = image.pixels.ravel()
    assert np.all(np.diff(flat) >= 0)
    assert flat[:1536].max() == 0.0 and flat[2560:].min() == 1.0


def test_rescale_applies_before_the_window(tmp_path):
    # modality values = 2·stored − 1000; the window is in modality units
    path = write_dicom(
        tmp_path / "ct.dcm", RAMP, bits_stored=12, rescale=(2.0, -1000.0), window=(0, 400),
        modality="CT", photometric="MONOCHROME2",
    )  # fmt: skip
    image = one(path)
    ds = pydicom.dcmread(path)
    expected = window(apply_modality_lut(ds.pixel_array, ds), 0, 400)
    np.testing.assert_allclose(image.pixels, expected.astype(np.float32))
    assert image.pixels[RAMP == 500].item() == pytest.approx(window(np.array([0.0]), 0, 400)[0])


def test_voi_lut_sequence_is_used_and_preferred(tmp_path):
    lut = [round(255 * (i / 255) ** 2) for i in range(256)]  # a curve no window can make
    path = write_dicom(
        tmp_path / "lut.dcm", RAMP, bits_stored=12, voi_lut=(lut, 1000, 8), window=(3000, 10),
    )  # fmt: skip
    image = one(path)
    index = np.clip(RAMP.astype(int) - 1000, 0, 255)
    np.testing.assert_allclose(image.pixels, np.asarray(lut)[index] / 255.0, atol=1e-6)


def test_voi_lut_bits_raised_when_data_exceed_descriptor(tmp_path):
    lut = list(range(0, 1024, 4))  # values up to 1020 with a descriptor claiming 8 bits
    image = one(write_dicom(tmp_path / "lut.dcm", RAMP, bits_stored=12, voi_lut=(lut, 0, 8)))
    assert image.pixels.max() == pytest.approx(1020 / 1023)


def test_voi_lut_with_more_entries_than_its_bit_depth(tmp_path):
    # 4096 entries of 8 bits: indices must not wrap at 256
    lut = [i // 16 for i in range(4096)]
    image = one(write_dicom(tmp_path / "lut.dcm", RAMP, bits_stored=12, voi_lut=(lut, 0, 8)))
    np.testing.assert_allclose(image.pixels, (RAMP // 16) / 255.0, atol=1e-6)


def test_voi_lut_stored_as_ow_bytes(tmp_path):
    lut = np.arange(0, 4096, dtype="<u2")[::-1]
    ds = make_dicom(RAMP, bits_stored=12, voi_lut=(lut.tolist(), 0, 12))
    ds.VOILUTSequence[0].add_new("LUTData", "OW", lut.tobytes())
    path = tmp_path / "ow.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert pydicom.dcmread(path).VOILUTSequence[0]["LUTData"].VR == "OW"
    np.testing.assert_allclose(one(path).pixels, (4095 - RAMP) / 4095.0, atol=1e-6)


def test_no_voi_uses_the_frame_range(tmp_path):
    pixels = (RAMP // 4 + 100).astype(np.uint16)  # 100..1123
    image = one(write_dicom(tmp_path / "plain.dcm", pixels, bits_stored=12))
    assert image.pixels.min() == 0.0 and image.pixels.max() == 1.0
    assert image.pixels[0, 0] == 0.0


@pytest.mark.parametrize(
    ("photometric", "shape", "inverted"),
    [
        ("MONOCHROME2", None, False),
        ("MONOCHROME2", "IDENTITY", False),
        ("MONOCHROME2", "INVERSE", True),
        ("MONOCHROME1", None, True),
        ("MONOCHROME1", "INVERSE", True),  # the same inversion stated twice: applied once
    ],
)
def test_presentation_lut_shape_inverts_once(tmp_path, photometric, shape, inverted):
    path = write_dicom(
        tmp_path / "p.dcm", RAMP, bits_stored=12, window=(2048, 4096), photometric=photometric,
        presentation_lut_shape=shape,
    )  # fmt: skip
    image = one(path)
    plain = window(RAMP, 2048, 4096).astype(np.float32)
    np.testing.assert_allclose(image.pixels, 1 - plain if inverted else plain, atol=1e-6)


def test_jpeg2000_lossless_matches_uncompressed(tmp_path):
    kwargs = {"bits_stored": 12, "window": (2048, 3000), "photometric": "MONOCHROME1"}
    plain = one(write_dicom(tmp_path / "plain.dcm", RAMP, **kwargs))
    j2k_path = write_dicom(tmp_path / "j2k.dcm", RAMP, transfer_syntax=JPEG2000Lossless, **kwargs)
    assert pydicom.dcmread(j2k_path).file_meta.TransferSyntaxUID == JPEG2000Lossless
    np.testing.assert_array_equal(one(j2k_path).pixels, plain.pixels)


def test_rle_two_frames(tmp_path):
    frames = np.stack([RAMP, RAMP[::-1]])
    path = write_dicom(
        tmp_path / "two.dcm", frames, bits_stored=12, window=(2048, 4096),
        transfer_syntax=RLELossless, pixel_spacing=(0.2, 0.1),
    )  # fmt: skip
    images = load_radiograph(path)
    assert [i.name for i in images] == ["two.dcm#frame1", "two.dcm#frame2"]
    assert [i.frame for i in images] == [0, 1]
    np.testing.assert_array_equal(images[1].pixels, images[0].pixels[::-1])
    assert all(i.pixel_spacing_mm == (0.2, 0.1) for i in images)


def test_enhanced_multiframe_functional_groups(tmp_path):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    def group(**sequences):
        item = Dataset()
        for name, attrs in sequences.items():
            inner = Dataset()
            for key, value in attrs.items():
                setattr(inner, key, value)
            setattr(item, name, Sequence([inner]))
        return item

    ds = make_dicom(np.stack([RAMP, RAMP]), bits_stored=12)
    ds.SharedFunctionalGroupsSequence = Sequence(
        [group(PixelMeasuresSequence={"PixelSpacing": [0.3, 0.4]})]
    )
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [
            group(FrameVOILUTSequence={"WindowCenter": 1000, "WindowWidth": 500}),
            group(FrameVOILUTSequence={"WindowCenter": 3000, "WindowWidth": 500}),
        ]
    )
    path = tmp_path / "enhanced.dcm"
    ds.save_as(path, enforce_file_format=True)
    first, second = load_radiograph(path)
    np.testing.assert_allclose(first.pixels, window(RAMP, 1000, 500), atol=1e-6)
    np.testing.assert_allclose(second.pixels, window(RAMP, 3000, 500), atol=1e-6)
    assert first.pixel_spacing_mm == second.pixel_spacing_mm == (0.3, 0.4)


def test_pixel_spacing_then_imager_pixel_spacing(tmp_path):
    both = one(write_dicom(
        tmp_path / "a.dcm", RAMP, pixel_spacing=(0.14, 0.15), imager_pixel_spacing=(0.2, 0.2),
    ))  # fmt: skip
    assert both.pixel_spacing_mm == (0.14, 0.15)
    imager = one(write_dicom(tmp_path / "b.dcm", RAMP, imager_pixel_spacing=(0.2, 0.25)))
    assert imager.pixel_spacing_mm == (0.2, 0.25)
    assert any("ImagerPixelSpacing" in w for w in imager.warnings)
    assert one(write_dicom(tmp_path / "c.dcm", RAMP)).pixel_spacing_mm is None


def test_identifiers_and_study_uid(tmp_path):
    image = one(write_dicom(tmp_path / "a.dcm", RAMP, study_uid="1.2.3.4"))
    assert image.study_uid == "1.2.3.4"
    for key, value in PATIENT.items():
        assert image.identifiers[key] == value
    assert image.identifiers["StudyInstanceUID"] == "1.2.3.4"


def test_rgb_dicom_becomes_luminance(tmp_path):
    rgb = np.zeros((4, 6, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    image = one(write_dicom(tmp_path / "rgb.dcm", rgb, photometric="RGB", modality="OT"))
    np.testing.assert_allclose(image.pixels, 0.299, atol=1e-6)


# --- bad files ---------------------------------------------------------------------------


def test_truncated_pixel_data(tmp_path):
    path = write_dicom(tmp_path / "t.dcm", RAMP, bits_stored=12)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(InputError, match=r"t\.dcm: truncated pixel data"):
        load_radiograph(path)


def test_no_pixel_data(tmp_path):
    ds = make_dicom(RAMP)
    del ds.PixelData
    path = tmp_path / "nopix.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(InputError, match=r"nopix\.dcm: no pixel data"):
        load_radiograph(path)


def test_missing_plugin_names_the_package(tmp_path, monkeypatch):
    path = write_dicom(tmp_path / "j2k.dcm", RAMP, transfer_syntax=JPEG2000Lossless)
    monkeypatch.setattr(dicom_module, "_decoder_available", lambda uid: False)
    with pytest.raises(InputError) as info:
        load_radiograph(path)
    assert "install pylibjpeg and pylibjpeg-openjpeg" in str(info.value)
    assert "JPEG 2000" in str(info.value)


def test_unknown_transfer_syntax(tmp_path):
    ds = make_dicom(RAMP)
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5.6"
    path = tmp_path / "odd.dcm"
    ds.save_as(path, implicit_vr=False, little_endian=True, enforce_file_format=True)
    with pytest.raises(InputError) as info:
        load_radiograph(path)
    message = str(info.value)
    assert "unsupported transfer syntax 1.2.3.4.5.6" in message and "python-gdcm" in message


def test_decompression_bomb_dimensions(tmp_path):
    ds = make_dicom(np.zeros((2, 2), dtype=np.uint8))
    ds.Rows = ds.Columns = 20_000  # 400 MP announced, 4 bytes present
    path = tmp_path / "bomb.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(InputError, match="pixel limit"):
        load_radiograph(path)
    ds.Rows = ds.Columns = 4_000
    ds.NumberOfFrames = MAX_PIXELS // 16_000_000 + 1
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(InputError, match="frame"):
        load_radiograph(path)


def test_not_dicom(tmp_path):
    path = tmp_path / "x.dcm"
    path.write_bytes(b"hello, this is not DICOM at all" * 10)
    with pytest.raises(InputError, match=r"x\.dcm: not a"):
        load_radiograph(path)


# --- pydicom's own test files ------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pydicom_cr_files():
    # Only files already on disk (pydicom's package data and its download cache): the
    # test never downloads.
    from pydicom.data.data_manager import DATA_ROOT
    from pydicom.data.download import get_data_dir

    roots = [Path(DATA_ROOT), Path(get_data_dir())]
    files = sorted({str(p) for root in roots if root.is_dir() for p in root.rglob("CR*.dcm")})
    if not files:
        pytest.skip("pydicom's CR test files are not on this machine")
    for name in files:
        ds = pydicom.dcmread(name)
        for image in load_radiograph(name):
            assert image.pixels.dtype == np.float32
            assert image.pixels.min() >= 0.0 and image.pixels.max() <= 1.0
            stored = ds.pixel_array.astype(float)
            corr = np.corrcoef(stored.ravel(), image.pixels.ravel())[0, 1]
            # MONOCHROME1 is inverted: bright = dense
            assert corr < 0 if ds.PhotometricInterpretation == "MONOCHROME1" else corr > 0


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "name", ["MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"]
)
def test_pydicom_compressed_files_match_uncompressed(name):
    reference = one(get_testdata_file("MR_small.dcm"))
    compressed = one(get_testdata_file(name))
    np.testing.assert_array_equal(compressed.pixels, reference.pixels)
    assert compressed.pixel_spacing_mm == reference.pixel_spacing_mm == (0.3125, 0.3125)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pydicom_ct_polarity_and_range():
    path = get_testdata_file("CT_small.dcm")
    image = one(path)
    ds = pydicom.dcmread(path)
    hu = apply_modality_lut(ds.pixel_array, ds)
    assert image.pixels.min() == 0.0 and image.pixels.max() == 1.0
    assert np.corrcoef(hu.ravel(), image.pixels.ravel())[0, 1] > 0.99  # dense = bright


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_pydicom_bad_files():
    with pytest.raises(InputError, match="truncated pixel data"):
        load_radiograph(get_testdata_file("MR_truncated.dcm"))
    with pytest.raises(InputError, match="no pixel data"):
        load_radiograph(get_testdata_file("rtplan.dcm"))


# --- hostile files: the decoding boundary and its worker ---------------------------------


def test_damaged_rle_is_skipped_and_the_study_is_read(tmp_path):
    # pylibjpeg-rle panics (pyo3 PanicException, a BaseException) on overrunning segments
    good = write_dicom(tmp_path / "a.dcm", RAMP, bits_stored=12)
    bad = damage_rle(
        write_dicom(tmp_path / "b.dcm", RAMP, transfer_syntax=RLELossless, bits_stored=12)
    )
    with pytest.raises(InputError) as info:
        load_radiograph(bad)
    assert str(info.value).startswith(
        f"{bad}: unreadable RLE Lossless pixel data (PanicException: index out of bounds"
    )
    scan = scan_study(tmp_path)
    assert [image.source for image in scan.images] == [good]
    assert [(path, problem.split(" (")[0]) for path, problem in scan.skipped] == [
        (bad, "unreadable RLE Lossless pixel data")
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_pixel_data_is_shown(tmp_path, dtype):
    values = np.linspace(-2.5, 7.5, 48, dtype=dtype).reshape(6, 8)
    values[0, 0] = np.nan
    values[5, 7] = np.inf
    path = write_dicom(tmp_path / "map.dcm", values, modality="MR")
    ds = pydicom.dcmread(path)
    assert "PixelData" not in ds and ds.BitsAllocated == 8 * np.dtype(dtype).itemsize
    image = one(path)
    finite = np.isfinite(values)
    lo, hi = values[finite].min(), values[finite].max()
    expected = np.where(finite, (values - lo) / (hi - lo), 0.0)  # min–max; non-finite black
    np.testing.assert_allclose(image.pixels, expected.astype(np.float32), atol=1e-6)
    assert "2 pixel value(s) are not finite (NaN or infinite) and are shown black" in image.warnings


def test_all_nan_float_pixel_data_is_refused(tmp_path):
    path = write_dicom(tmp_path / "nan.dcm", np.full((4, 4), np.nan, dtype=np.float32))
    with pytest.raises(InputError, match=r"nan\.dcm: cannot display .*no pixel value is finite"):
        load_radiograph(path)


def test_deflated_data_set_is_refused_beyond_the_input_limit(tmp_path, monkeypatch):
    ds = make_dicom(np.zeros((200, 200), dtype=np.uint16))  # 80 kB that deflate to ~100 B
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = tmp_path / "deflated.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert path.stat().st_size < 2_000
    assert one(path).pixels.shape == (200, 200)  # within the limit: read as usual
    monkeypatch.setattr(dicom_module, "MAX_INPUT_BYTES", 50_000)
    with pytest.raises(InputError, match=r"deflated\.dcm: the deflated data set inflates beyond"):
        load_radiograph(path)


@pytest.mark.slow
def test_worker_survives_crash_hang_and_memory_blowup(tmp_path, monkeypatch):
    # Functions are pickled by name, so standard ones stand in for a misbehaving decoder.
    path = tmp_path / "x.dcm"
    limit = {"pixels": 1, "memory": 64 * 2**20}
    crashed = r"x\.dcm: the test data decoder crashed \(killed by SIGABRT\)"
    with pytest.raises(InputError, match=crashed):
        isolated(path, "test data", os.abort, **limit)
    with pytest.raises(InputError, match=r"x\.dcm: decoding the test data needed more than 64 MiB"):
        isolated(path, "test data", bytearray, 2**32, **limit)
    monkeypatch.setattr(decode_module, "DECODE_SECONDS", 0.5)
    with pytest.raises(InputError, match=r"x\.dcm: decoding the test data took longer than 1 s"):
        isolated(path, "test data", time.sleep, 60, **limit)
    # and the next file decodes in a fresh worker, its warnings passed on
    with pytest.warns(UserWarning, match="from the worker"):
        assert isolated(path, "test data", warnings.warn, "from the worker", **limit) is None
    assert isolated(path, "test data", divmod, 7, 2, **limit) == (3, 1)
