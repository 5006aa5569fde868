"""A model sees the same pixels in training and in a report: one decoder serves both.

Each image is read twice, by the training dataset (validation transform) and by the
report (the study scan, then :func:`to_model_input` with the classifier's size, mean and
std, as ``medxai.report.pipeline.analyse_study`` calls it), and the two model inputs must
be equal bit for bit; a recording model checks that ``analyse_study`` itself feeds the
model that tensor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from medxai.data.dataset import MuraDataset
from medxai.data.records import ImageRecord
from medxai.data.transforms import read_radiograph_png, to_model_input
from medxai.report.inputs import read_study

SIZE = 32
MEAN = (0.5, 0.4, 0.3)
STD = (0.2, 0.25, 0.3)
HEIGHT, WIDTH = 24, 40  # not square, so that a rotation shows in the shape


def _gray8() -> np.ndarray:
    rng = np.random.default_rng(3)
    array = rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)
    array[:, :8] = 255  # a bright left edge, to follow the EXIF rotation
    return array


def _rgb() -> np.ndarray:
    rng = np.random.default_rng(4)
    return rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def _rotated(image: Image.Image, path: Path, **options: object) -> None:
    exif = image.getexif()
    exif[0x0112] = 6  # displayed turned 90° clockwise
    image.save(path, exif=exif, **options)


def _write_images(folder: Path) -> dict[str, tuple[int, int]]:
    """The test images, and the ``(height, width)`` each shows."""
    folder.mkdir()
    gray, rgb = _gray8(), _rgb()
    sixteen = gray.astype(np.uint16) * 256 + 3
    Image.fromarray(gray).save(folder / "gray8.png")
    Image.fromarray(sixteen).save(folder / "gray16.png")
    Image.fromarray(rgb).save(folder / "rgb.png")
    Image.fromarray(np.dstack([rgb, gray])).save(folder / "rgba.png")
    Image.fromarray(gray).convert("LA").save(folder / "gray_alpha.png")
    Image.fromarray(rgb).quantize(37).save(folder / "palette.png")
    Image.fromarray(rgb).quantize(37).save(folder / "palette_transparent.png", transparency=5)
    Image.fromarray(gray > 127).save(folder / "bilevel.png")
    _rotated(Image.fromarray(gray), folder / "rotated8.png")
    _rotated(Image.fromarray(sixteen), folder / "rotated16.png")
    _rotated(Image.fromarray(rgb), folder / "rotated_rgb.jpg", quality=95)
    Image.fromarray(rgb).save(folder / "photo.jpg", quality=90)
    shapes = {path.name: (HEIGHT, WIDTH) for path in folder.iterdir()}
    for name in ("rotated8.png", "rotated16.png", "rotated_rgb.jpg"):
        shapes[name] = (WIDTH, HEIGHT)
    return shapes


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[int, int]]]:
    folder = tmp_path_factory.mktemp("same") / "study1_negative"
    return folder, _write_images(folder)


def test_training_and_report_inputs_are_identical(study) -> None:
    folder, shapes = study
    report_images = {image.name: image for image in read_study(folder).images}
    assert sorted(report_images) == sorted(shapes)
    names = sorted(shapes)
    records = [
        ImageRecord(
            path=folder / name, split="valid", body_part="XR_WRIST", patient="patient1",
            study_id="valid/XR_WRIST/patient1/study1_negative", label=0, root=folder,
        )
        for name in names
    ]
    dataset = MuraDataset(records, train=False, size=SIZE, mean=MEAN, std=STD)
    for index, name in enumerate(names):
        image = report_images[name]
        assert image.pixels.dtype == np.float32 and image.pixels.shape == shapes[name], name
        np.testing.assert_array_equal(image.pixels, read_radiograph_png(folder / name), name)
        trained = dataset[index][0]
        reported = to_model_input(image.pixels, SIZE, MEAN, STD)
        assert trained.shape == (3, SIZE, SIZE) and trained.dtype == torch.float32
        assert torch.equal(trained, reported), name


def test_the_decoded_values(study) -> None:
    folder, _ = study
    gray, rgb = _gray8(), _rgb()
    pixels = {image.name: image.pixels for image in read_study(folder).images}
    np.testing.assert_allclose(pixels["gray8.png"], gray / 255.0, atol=1e-7)
    np.testing.assert_allclose(pixels["gray_alpha.png"], gray / 255.0, atol=1e-7)
    np.testing.assert_allclose(pixels["gray16.png"], (gray * 256.0 + 3) / 65535.0, atol=1e-7)
    luma = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]) / 255.0
    np.testing.assert_allclose(pixels["rgb.png"], luma, atol=1e-6)
    np.testing.assert_allclose(pixels["rgba.png"], luma, atol=1e-6)  # alpha dropped
    np.testing.assert_array_equal(pixels["bilevel.png"], (gray > 127).astype(np.float32))
    palette = Image.fromarray(rgb).quantize(37).convert("RGB")
    expected = np.asarray(palette, dtype=np.float64) @ np.array([0.299, 0.587, 0.114]) / 255
    np.testing.assert_allclose(pixels["palette.png"], expected, atol=1e-6)
    np.testing.assert_array_equal(pixels["palette_transparent.png"], pixels["palette.png"])
    # EXIF orientation 6: the stored left edge is shown at the top, in both readers
    np.testing.assert_array_equal(pixels["rotated8.png"], np.rot90(gray, -1) / np.float32(255))
    np.testing.assert_array_equal(pixels["rotated16.png"], np.rot90(pixels["gray16.png"], -1))
    assert read_radiograph_png(folder / "rotated8.png").shape == (WIDTH, HEIGHT)


class _Recording(torch.nn.Module):
    """A tiny CAM-able classifier that keeps every batch it is given."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU())
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(4, 1)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def test_the_report_pipeline_feeds_the_model_the_training_input(study) -> None:
    from medxai.cams.presets import Mode, method_spec
    from medxai.checkpoint import LoadedClassifier
    from medxai.report.pipeline import analyse_study

    folder, _ = study
    names = ["gray16.png", "palette.png", "rotated8.png", "rotated_rgb.jpg"]
    images = [image for image in read_study(folder).images if image.name in names]
    model = _Recording().eval()
    classifier = LoadedClassifier(
        model=model, arch="recording", input_size=SIZE, mean=MEAN, std=STD,
        class_names=("normal", "abnormal"),
    )
    cam = method_spec("cam", "CAM", mode=Mode("exact"), device="cpu", input_size=SIZE)
    analyse_study(images, classifier, {}, [cam], torch.device("cpu"), progress=False)
    records = [
        ImageRecord(
            path=folder / image.name, split="valid", body_part="XR_WRIST", patient="patient1",
            study_id="valid/XR_WRIST/patient1/study1_negative", label=0, root=folder,
        )
        for image in images
    ]
    dataset = MuraDataset(records, train=False, size=SIZE, mean=MEAN, std=STD)
    for index, image in enumerate(images):
        trained = dataset[index][0]
        assert any(torch.equal(seen[0], trained) for seen in model.seen), image.name
