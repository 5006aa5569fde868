"""AUROC per subgroup (e.g. cast / no cast) with stratified bootstrap CIs.

AUROC is the Mann–Whitney statistic: for ``P`` positive and ``N`` negative cases with
scores ``s``, ``AUROC = (1/PN) Σ_{i∈pos} Σ_{j∈neg} ([s_i > s_j] + ½[s_i = s_j])``,
computed from average ranks: ``(R_pos − P(P+1)/2) / (P·N)`` with ``R_pos`` the sum of
the positives' ranks among all scores. It is NaN when a class is absent.

The CI of a subgroup resamples its positives and its negatives separately, with
replacement and with their own sizes (a stratified bootstrap), so every resample holds
both classes; the bounds are the 2.5th and 97.5th percentiles of ``B`` resampled AUROCs.

A shortcut shows as a gap: a model that reads casts ranks cast studies above no-cast
studies regardless of the label, so its AUROC *within* each subgroup (where the cast no
longer separates the labels) falls well below its AUROC over all studies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from medxai.metrics.bootstrap import Estimate, cell_rng, percentile_interval

__all__ = ["SubgroupAuroc", "auroc", "stratified_auroc_ci", "subgroup_aurocs"]


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mann–Whitney AUROC of ``scores`` for binary ``labels`` (module doc); NaN if one class."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).astype(bool).ravel()
    if s.shape != y.shape:
        raise ValueError(f"scores {s.shape} and labels {y.shape} differ in length")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(s)  # average ranks for ties
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def stratified_auroc_ci(
    scores: np.ndarray,
    labels: np.ndarray,
    *,
    resamples: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator,
) -> Estimate:
    """AUROC with a stratified percentile bootstrap CI (module doc)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).astype(bool).ravel()
    value = auroc(s, y)
    pos, neg = s[y], s[~y]
    if math.isnan(value):
        return Estimate(len(s), value, math.nan, math.nan)
    both = np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)]
    values = np.empty(resamples)
    for b in range(resamples):
        p = pos[rng.integers(0, len(pos), len(pos))]
        q = neg[rng.integers(0, len(neg), len(neg))]
        values[b] = auroc(np.r_[p, q], both)
    return Estimate(len(s), value, *percentile_interval(values, level))


@dataclass(frozen=True)
class SubgroupAuroc:
    """AUROC of one subgroup: its cases, positives and negatives, and the estimate."""

    name: str
    n_positive: int
    n_negative: int
    auroc: Estimate
    mean_score_positive: float
    mean_score_negative: float


def subgroup_aurocs(
    scores: np.ndarray,
    labels: np.ndarray,
    groups: Mapping[str, np.ndarray],
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> list[SubgroupAuroc]:
    """AUROC with CI for every subgroup (a boolean membership array per name).

    Include ``"all": np.ones(n, bool)`` in ``groups`` to get the overall value too. Each
    subgroup's generator is seeded by ``seed`` and its name, so results repeat.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).astype(bool).ravel()
    out = []
    for name, member in groups.items():
        m = np.asarray(member).astype(bool).ravel()
        if m.shape != s.shape:
            raise ValueError(f"subgroup {name!r} has {m.size} entries for {s.size} scores")
        sy, ss = y[m], s[m]
        out.append(
            SubgroupAuroc(
                name=name,
                n_positive=int(sy.sum()),
                n_negative=int((~sy).sum()),
                auroc=stratified_auroc_ci(
                    ss, sy, resamples=resamples, rng=cell_rng(seed, f"auroc:{name}")
                ),
                mean_score_positive=float(ss[sy].mean()) if sy.any() else math.nan,
                mean_score_negative=float(ss[~sy].mean()) if (~sy).any() else math.nan,
            )
        )
    return out
