"""MURA metrics against a hand-computed case (no sklearn)."""

from __future__ import annotations

import math

import pytest
import torch

from training.metrics import MuraMetrics, stable_key, study_scores

# (image path, study, body part, label, probability)
CASE = [
    ("s1/i1", "s1", "XR_WRIST", 1, 0.9),
    ("s1/i2", "s1", "XR_WRIST", 1, 0.3),  # s1: mean 0.6 -> abnormal (right)
    ("s2/i1", "s2", "XR_WRIST", 0, 0.2),  # s2: 0.2 -> normal (right)
    ("s3/i1", "s3", "XR_HAND", 1, 0.4),
    ("s3/i2", "s3", "XR_HAND", 1, 0.5),  # s3: 0.45 -> normal (wrong)
    ("s4/i1", "s4", "XR_HAND", 0, 0.7),  # s4: 0.7 -> abnormal (wrong)
    ("s5/i1", "s5", "XR_HAND", 0, 0.1),
    ("s5/i2", "s5", "XR_HAND", 0, 0.3),  # s5: 0.2 -> normal (right)
    ("s6/i1", "s6", "XR_WRIST", 1, 0.5),
    ("s6/i2", "s6", "XR_WRIST", 1, 0.6),  # s6: 0.55 -> abnormal (right)
]


def _update(metric: MuraMetrics, rows: list[tuple]) -> None:
    paths, studies, parts, labels, probs = zip(*rows)
    metric.update(torch.tensor(probs), torch.tensor(labels), paths, studies, parts)


def test_hand_computed_case_with_padding_duplicates() -> None:
    metric = MuraMetrics()
    _update(metric, CASE[:5])
    _update(metric, [*CASE[5:], CASE[0], CASE[5]])  # sampler padding repeats images
    out = metric.compute()
    # studies: labels 1,0,1,0,0,1; predictions 1,0,0,1,0,1 -> TP 2, FN 1, FP 1, TN 2
    # p_o = 4/6, p_e = 3/6*3/6 + 3/6*3/6 = 1/2, kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert out["study_kappa"] == pytest.approx(1 / 3, abs=1e-6)
    # study AUROC: positives .6 .45 .55 vs negatives .2 .7 .2 -> 6 of 9 pairs
    assert out["study_auroc"] == pytest.approx(6 / 9, abs=1e-6)
    # image AUROC: 18.5 of 24 pairs (one tie .3 = .3 counts 1/2)
    assert out["image_auroc"] == pytest.approx(18.5 / 24, abs=1e-6)
    assert out["kappa_XR_WRIST"] == pytest.approx(1.0)
    # hand: labels 1,0,0; predictions 0,1,0: p_o = 1/3, p_e = 5/9, kappa = -1/2
    assert out["kappa_XR_HAND"] == pytest.approx(-0.5, abs=1e-6)
    assert out["images"] == 10 and out["studies"] == 6
    assert "kappa_XR_ELBOW" not in out


def test_threshold_is_strictly_greater_than_one_half() -> None:
    metric = MuraMetrics()
    rows = [
        ("a", "a", "XR_HAND", 1, 0.5),  # mean exactly 0.5 -> normal
        ("b", "b", "XR_HAND", 1, 0.9),
        ("c", "c", "XR_HAND", 0, 0.1),
        ("d", "d", "XR_HAND", 0, 0.2),
    ]
    _update(metric, rows)
    # predictions 0,1,0,0: p_o = 3/4, p_e = 1/2*1/4 + 1/2*3/4 = 1/2, kappa = 1/2
    assert metric.compute()["study_kappa"] == pytest.approx(0.5, abs=1e-6)


def test_study_scores_groups_and_dedupes() -> None:
    probs = torch.tensor([0.2, 0.4, 0.2, 0.9])
    labels = torch.tensor([1, 1, 1, 0])
    images = torch.tensor([1, 2, 1, 3])
    studies = torch.tensor([10, 10, 10, 20])
    parts = torch.tensor([0, 0, 0, 1])
    s_probs, s_labels, s_parts = study_scores(probs, labels, images, studies, parts)
    assert s_probs.tolist() == pytest.approx([0.3, 0.9])
    assert s_labels.tolist() == [1, 0] and s_parts.tolist() == [0, 1]


def test_undefined_values_are_nan_and_keys_are_stable() -> None:
    metric = MuraMetrics()
    _update(metric, [("a", "a", "XR_HAND", 1, 0.9), ("b", "b", "XR_HAND", 1, 0.8)])
    out = metric.compute()
    assert math.isnan(out["study_auroc"]) and math.isnan(out["kappa_XR_HAND"])
    assert stable_key("train/XR_WRIST/patient00001/study1_positive") == stable_key(
        "train/XR_WRIST/patient00001/study1_positive"
    )
    with pytest.raises(ValueError, match="XR_KNEE"):
        _update(metric, [("k", "k", "XR_KNEE", 1, 0.9)])
