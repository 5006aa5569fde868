"""Fast mode's score prediction (medxai.cams.predict): scored channels keep their scores,
a RISE-like linear score is recovered from few scored masks, and the predictions are what
fast mode's maps are made of."""

from __future__ import annotations

import torch

from medxai.cams.predict import SIDE, fill_unscored, mask_features, predict_scores


def _features(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, SIDE * SIDE, generator=torch.Generator().manual_seed(seed))


def test_scored_points_keep_their_scores() -> None:
    train = _features(12, 0)
    values = torch.rand(12, 2, generator=torch.Generator().manual_seed(1))
    predicted = predict_scores(train, values, train)
    assert predicted.shape == (12, 2)
    # the kernel interpolates its training points up to its jitter
    assert torch.allclose(predicted, values, atol=0.02)


def _blobs(n: int, seed: int) -> torch.Tensor:
    """``n`` smooth masks on the feature grid: Gaussian blobs of random centre and width."""
    g = torch.Generator().manual_seed(seed)
    centre, width = torch.rand(n, 2, generator=g), 0.1 + 0.3 * torch.rand(n, 1, generator=g)
    axis = (torch.arange(SIDE) + 0.5) / SIDE
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([yy.flatten(), xx.flatten()], 1)
    d2 = ((grid[None] - centre[:, None]) ** 2).sum(-1)
    return torch.exp(-d2 / (2 * width**2))


def test_a_linear_score_of_the_mask_is_predicted_better_than_copied() -> None:
    """A planted score linear in the upsampled mask (RISE's model, ``s = c + <g, u>`` with
    ``g`` a blob of evidence): from 24 scored masks, the predictions at 200 others are
    closer than copying the nearest scored mask's score, and rank them almost exactly."""
    evidence = _blobs(1, 2)[0]
    train, query = _blobs(24, 3), _blobs(200, 4)

    def score(u: torch.Tensor) -> torch.Tensor:
        return 0.2 + 0.6 * (u @ evidence) / evidence.sum()

    predicted = predict_scores(train, score(train)[:, None], query)[:, 0]
    nearest = torch.cdist(query, train).argmin(1)
    copied = score(train)[nearest]
    truth = score(query)
    assert float((predicted - truth).abs().mean()) < 0.5 * float((copied - truth).abs().mean())
    assert float(torch.corrcoef(torch.stack([predicted, truth]))[0, 1]) > 0.97


def test_fill_unscored_keeps_scored_and_constant_channels() -> None:
    masks = [torch.rand(2, 5, 4, 4), torch.rand(2, 3, 2, 2)]
    features = [mask_features(m) for m in masks]
    assert features[0].shape == (2, 5, SIDE * SIDE)
    scored = [torch.tensor([[1, 0, 1, 0, 0], [0, 1, 0, 0, 1]], dtype=torch.bool),
              torch.tensor([[1, 0, 0], [0, 0, 1]], dtype=torch.bool)]  # fmt: skip
    live = [torch.ones(2, 5, dtype=torch.bool), torch.tensor([[1, 1, 0], [1, 1, 1]]).bool()]
    sp = [torch.rand(2, 5), torch.rand(2, 3)]
    (filled,) = fill_unscored(features, scored, live, [sp])
    for layer in range(2):
        keep = scored[layer] | ~live[layer]
        assert torch.equal(filled[layer][keep], sp[layer][keep])
        assert torch.isfinite(filled[layer]).all()
    # each image is predicted from its own scored channels only
    other = [s.clone() for s in sp]
    other[0][1] += 1.0  # image 1's scores change
    (again,) = fill_unscored(features, scored, live, [other])
    assert torch.equal(again[0][0], filled[0][0]) and torch.equal(again[1][0], filled[1][0])
