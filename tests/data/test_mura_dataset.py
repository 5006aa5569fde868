"""MuraDataset items: shape, dtype, labels, eval equality and training rotation."""

from __future__ import annotations

from pathlib import Path

import mura_tree as mt
import pytest
import torch
from torch.utils.data import DataLoader

from medxai.data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    MuraDataset,
    build_index,
    read_radiograph_png,
    to_model_input,
)
from medxai.errors import InputError


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory):
    return build_index(mt.build_tree(tmp_path_factory.mktemp("d") / "copy")).images


def test_eval_item_matches_to_model_input(records) -> None:
    dataset = MuraDataset(records, train=False, size=48)
    assert len(dataset) == 22
    for i in (0, 1, 5, 21):  # 0, 1: the RGB and the 16-bit image
        image, label, study_id, body_part, path = dataset[i]
        record = records[i]
        assert image.shape == (3, 48, 48) and image.dtype == torch.float32
        assert (label, study_id, body_part, path) == (
            record.label, record.study_id, record.body_part, str(record.path)
        )
        expected = to_model_input(read_radiograph_png(path), 48)
        torch.testing.assert_close(image, expected, atol=1e-6, rtol=0)
    assert records[0].path.name == "image1.png" and records[0].body_part == "XR_ELBOW"


def test_default_size_is_320(records) -> None:
    image = MuraDataset(records[:1], train=False)[0][0]
    assert image.shape == (3, 320, 320)
    # ImageNet-normalised copies of one gray image: undoing it gives the same gray thrice
    std, mean = torch.tensor(IMAGENET_STD), torch.tensor(IMAGENET_MEAN)
    gray = image * std.view(3, 1, 1) + mean.view(3, 1, 1)
    torch.testing.assert_close(gray[1], gray[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(gray[2], gray[0], atol=1e-5, rtol=0)
    assert float(gray.min()) >= -1e-5 and float(gray.max()) <= 1 + 1e-5
    assert float(gray.max()) == pytest.approx(0.587, abs=1e-3)  # the RGB image's green rows


def test_train_rotation_varies(records) -> None:
    dataset = MuraDataset(records[2:3], train=True, size=48, rotation=15.0)
    torch.manual_seed(0)
    draws = [dataset[0][0] for _ in range(4)]
    assert any(not torch.equal(draws[0], d) for d in draws[1:])
    torch.manual_seed(0)
    assert torch.equal(dataset[0][0], draws[0])  # repeatable from the seed
    still = MuraDataset(records[2:3], train=True, size=48, rotation=0.0)[0][0]
    torch.testing.assert_close(still, MuraDataset(records[2:3], train=False, size=48)[0][0])


def test_labels_and_collate(records) -> None:
    dataset = MuraDataset(records, train=True, size=32)
    assert dataset.labels == [r.label for r in records]
    images, labels, study_ids, body_parts, paths = next(iter(DataLoader(dataset, batch_size=5)))
    assert images.shape == (5, 3, 32, 32)
    assert labels.tolist() == dataset.labels[:5]
    assert list(study_ids) == [r.study_id for r in records[:5]]
    assert len(body_parts) == len(paths) == 5


def test_missing_file_raises_input_error(tmp_path: Path, records) -> None:
    gone = [records[0].__class__(tmp_path / "gone.png", "train", "XR_HAND", "patient1", "x", 0)]
    with pytest.raises(InputError, match="file not found"):
        MuraDataset(gone, train=False)[0]
