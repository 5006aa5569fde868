import math

import numpy as np
import pytest

from medxai.audit.subgroups import auroc, stratified_auroc_ci, subgroup_aurocs
from medxai.metrics.bootstrap import cell_rng


def brute_force_auroc(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    total = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return total / (len(pos) * len(neg))


def test_auroc_matches_pairwise_definition_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=40).astype(float)  # many ties
    labels = rng.random(40) < 0.4
    assert auroc(scores, labels) == pytest.approx(brute_force_auroc(scores, labels))


def test_auroc_extremes_and_single_class():
    assert auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert math.isnan(auroc([0.1, 0.2], [1, 1]))


def test_stratified_ci_keeps_both_classes():
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    labels = np.array([0, 0, 1, 1])
    est = stratified_auroc_ci(scores, labels, resamples=300, rng=cell_rng(0, "s"))
    assert est.mean == 0.75
    assert 0.0 <= est.low <= est.mean <= est.high <= 1.0


def test_subgroups_expose_a_cast_shortcut():
    # scores follow the cast, not the label: perfect overall, chance within each subgroup
    labels = np.array([1] * 9 + [0] * 1 + [1] * 1 + [0] * 9, dtype=bool)
    cast = np.array([True] * 10 + [False] * 10)
    scores = np.where(cast, 0.9, 0.1)
    rows = subgroup_aurocs(scores, labels, {"all": np.ones(20, bool), "cast": cast,
                                            "no cast": ~cast}, resamples=200)
    by_name = {r.name: r for r in rows}
    assert by_name["all"].auroc.mean == pytest.approx(0.9)
    assert by_name["cast"].auroc.mean == 0.5
    assert by_name["no cast"].auroc.mean == 0.5
    assert (by_name["cast"].n_positive, by_name["cast"].n_negative) == (9, 1)


def test_subgroup_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        subgroup_aurocs(np.ones(3), np.array([0, 1, 0]), {"g": np.ones(2, bool)})
