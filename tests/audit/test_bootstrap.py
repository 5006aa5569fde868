import math

import numpy as np
import pytest

from medxai.metrics.bootstrap import bootstrap_ci, cell_rng, mean_ci


def test_bootstrap_ci_brackets_the_statistic_and_repeats():
    values = np.arange(20, dtype=float)
    a = bootstrap_ci(np.median, values, rng=cell_rng(0, "x"))
    b = bootstrap_ci(np.median, values, rng=cell_rng(0, "x"))
    assert a == b
    assert a.n == 20 and a.mean == pytest.approx(9.5)
    assert a.low <= a.mean <= a.high


def test_bootstrap_ci_resamples_arrays_together():
    x = np.arange(10, dtype=float)
    est = bootstrap_ci(lambda a, b: float(np.mean(a - b)), x, x.copy(), rng=cell_rng(1, "d"))
    assert est.mean == est.low == est.high == 0.0


def test_bootstrap_ci_drops_undefined_resamples():
    est = bootstrap_ci(lambda a: math.nan, np.ones(5), resamples=50, rng=cell_rng(0, "n"))
    assert math.isnan(est.low) and math.isnan(est.high)


def test_bootstrap_ci_rejects_ragged_input():
    with pytest.raises(ValueError):
        bootstrap_ci(np.mean, np.ones(3), np.ones(4), rng=cell_rng(0, "r"))


def test_mean_ci_ignores_nan_and_is_seeded():
    values = np.array([0.0, 1.0, np.nan, 1.0])
    est = mean_ci(values, seed=2, name="m")
    assert est.n == 3 and est.mean == pytest.approx(2 / 3)
    assert est == mean_ci(values, seed=2, name="m")
