import numpy as np
import pytest
import torch

from medxai.cams.normalize import linear_percentiles, percentile_normalize


@pytest.mark.parametrize("n", [1, 2, 3, 10, 257, 4096])
def test_percentiles_equal_numpy_linear(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.normal(size=(5, n))
    values[0] = np.round(values[0])  # ties
    qs = [0.0, 0.1, 25.0, 50.0, 99.9, 100.0]
    ours = linear_percentiles(torch.from_numpy(values), qs).numpy()
    np.testing.assert_allclose(ours, np.percentile(values, qs, axis=-1).T, rtol=0, atol=1e-12)


def test_normalize_divides_by_high_percentile_not_range() -> None:
    a = torch.arange(1.0, 101.0).reshape(1, 1, 10, 10)
    lo, hi = np.percentile(a.numpy(), [0.1, 99.9])
    expected = np.clip((a.numpy() - lo) / hi, 0, 1)
    np.testing.assert_allclose(percentile_normalize(a).numpy(), expected, atol=1e-6)
    assert percentile_normalize(a).max() < 1.0  # (max - p_lo) / p_hi < 1 here


def test_constant_map_normalizes_to_zero() -> None:
    assert percentile_normalize(torch.full((2, 3, 4, 4), 7.0)).abs().max() == 0
