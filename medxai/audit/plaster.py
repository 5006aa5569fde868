"""The plaster-cast shortcut audit of one model, from images to a verdict.

For images with truth (:class:`~medxai.audit.samples.AuditImage`), :func:`audit_cast`

1. predicts ``p(x)`` for every image, and the AUROC overall and per subgroup (cast / no
   cast) with bootstrap CIs (:mod:`medxai.audit.subgroups`);
2. for every image with a cast mask, predicts ``p(x_cf)`` on its counterfactual without
   the cast (a callable: :func:`~medxai.audit.counterfactual.render_without_cast` for
   phantoms, :func:`~medxai.audit.counterfactual.inpaint_cast` for any radiograph);
3. explains the "abnormal" class with each saliency method and measures the mass on the
   cast and the cast's area share (:func:`~medxai.audit.cast.cast_mass`), the map
   resized bilinearly to the mask's (the image's own) size;
4. applies :func:`~medxai.audit.verdict.shortcut_verdict` to the **abnormal images with
   a cast**.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from medxai.audit.cast import cast_mass
from medxai.audit.counterfactual import inpaint_cast, render_without_cast
from medxai.audit.samples import AuditImage, explain, inputs_of, predict
from medxai.audit.subgroups import SubgroupAuroc, subgroup_aurocs
from medxai.audit.verdict import ShortcutRule, ShortcutVerdict, shortcut_verdict
from medxai.data.transforms import to_model_input
from medxai.metrics.geometry import map_at

__all__ = [
    "CastAudit",
    "audit_cast",
    "inpainted_counterfactual",
    "predict_pixels",
    "rendered_counterfactual",
]

Counterfactual = Callable[[AuditImage], np.ndarray]


def rendered_counterfactual(image: AuditImage) -> np.ndarray:
    """The phantom re-rendered without its cast, as float pixels in ``[0, 1]``."""
    return render_without_cast(image.path.parent, image.path.name).astype(np.float32) / 255.0


def inpainted_counterfactual(image: AuditImage) -> np.ndarray:
    """The cast region filled with the surrounding soft tissue (needs ``image.cast``)."""
    if image.cast is None:
        raise ValueError(f"{image.path} has no cast mask")
    return inpaint_cast(image.pixels, image.cast)


def predict_pixels(
    model: nn.Module,
    pixels: Sequence[np.ndarray],
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
    batch_size: int = 32,
) -> np.ndarray:
    """Probabilities of ``model`` for gray ``H×W`` images in ``[0, 1]`` (model transform)."""
    if not pixels:
        return np.zeros(0)
    x = torch.stack([to_model_input(np.asarray(p, np.float32), size, mean, std) for p in pixels])
    return predict(model, x, batch_size)


@dataclass
class CastAudit:
    """Everything the audit measured for one model (arrays are per image, in order).

    ``p_cf`` is NaN for images without a cast, ``mass`` and ``area`` for images without a
    map; ``maps`` holds the saliency maps (``S×S``) keyed by method then image index.
    """

    name: str
    labels: np.ndarray
    has_cast: np.ndarray
    p: np.ndarray
    p_cf: np.ndarray
    mass: dict[str, np.ndarray]
    area: np.ndarray
    subgroups: list[SubgroupAuroc]
    verdict: ShortcutVerdict
    counterfactuals: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    maps: dict[str, dict[int, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def drop(self) -> np.ndarray:
        """``p − p_cf`` per image (NaN without a cast)."""
        return self.p - self.p_cf

    @property
    def audited(self) -> np.ndarray:
        """The images the verdict is about: abnormal, with a cast."""
        return self.has_cast & (self.labels == 1)

    def cell_means(self) -> dict[str, dict[str, float]]:
        """Mean ``p`` per (cast, label) cell, and its image count."""
        out = {}
        for cast_name, cast in (("cast", self.has_cast), ("no cast", ~self.has_cast)):
            for label_name, label in (("abnormal", 1), ("normal", 0)):
                member = cast & (self.labels == label)
                out[f"{cast_name}, {label_name}"] = {
                    "n": int(member.sum()),
                    "mean_p": float(self.p[member].mean()) if member.any() else math.nan,
                }
        return out

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers: verdict, subgroup AUROCs, cell means, mean drop by label."""
        normal_cast = self.has_cast & (self.labels == 0)
        return {
            "model": self.name,
            "verdict": self.verdict.to_dict(),
            "subgroup_auroc": {
                s.name: {"auroc": s.auroc.mean, "low": s.auroc.low, "high": s.auroc.high,
                         "n_positive": s.n_positive, "n_negative": s.n_negative}
                for s in self.subgroups
            },
            "mean_p": self.cell_means(),
            "mean_drop_normal_cast": float(np.mean(self.drop[normal_cast]))
            if normal_cast.any()
            else math.nan,
        }


def audit_cast(
    name: str,
    model: nn.Module,
    images: Sequence[AuditImage],
    explainers: Mapping[str, Any],
    counterfactual: Counterfactual,
    *,
    size: int,
    mean: Sequence[float],
    std: Sequence[float],
    rule: ShortcutRule | None = None,
    resamples: int = 2000,
    seed: int = 0,
    batch_size: int = 32,
    abnormal_only: bool = True,
) -> CastAudit:
    """Run the audit (module doc) of ``model`` on ``images``.

    Saliency maps are made for the abnormal images with a cast (those the verdict is
    about), or for every image with a cast when ``abnormal_only`` is false.

    ``explainers`` maps a method name to a built explainer (``medxai.cams.create``).
    ``size``, ``mean`` and ``std`` are the model's input transform (for the
    counterfactual images).
    """
    labels = np.array([im.label for im in images], dtype=int)
    has_cast = np.array([im.has_cast for im in images], dtype=bool)
    p = predict(model, inputs_of(images), batch_size)
    subgroups = subgroup_aurocs(
        p, labels, {"all": np.ones(len(images), bool), "cast": has_cast, "no cast": ~has_cast},
        resamples=resamples, seed=seed,
    )
    cast_idx = [i for i, im in enumerate(images) if im.has_cast]
    p_cf = np.full(len(images), math.nan)
    area = np.full(len(images), math.nan)
    mass = {m: np.full(len(images), math.nan) for m in explainers}
    cfs: dict[int, np.ndarray] = {}
    maps: dict[str, dict[int, np.ndarray]] = {m: {} for m in explainers}
    if cast_idx:
        cfs = {i: counterfactual(images[i]) for i in cast_idx}
        p_cf[cast_idx] = predict_pixels(model, [cfs[i] for i in cast_idx], size, mean, std,
                                        batch_size)
        explained = [i for i in cast_idx if labels[i] == 1 or not abnormal_only]
        x_cast = inputs_of([images[i] for i in explained])
        for method, explainer in explainers.items():
            saliency = explain(explainer, x_cast, targets=1) if explained else []
            for k, i in enumerate(explained):
                cast = images[i].cast
                assert cast is not None
                full = map_at(torch.from_numpy(saliency[k]), *cast.shape)
                measured = cast_mass(full, cast)
                mass[method][i] = measured.mass
                area[i] = measured.area
                maps[method][i] = saliency[k]
    audited = has_cast & (labels == 1)
    verdict = shortcut_verdict(
        (p - p_cf)[audited], {m: (v - area)[audited] for m, v in mass.items()}, rule, seed=seed
    )
    return CastAudit(
        name=name, labels=labels, has_cast=has_cast, p=p, p_cf=p_cf, mass=mass, area=area,
        subgroups=subgroups, verdict=verdict, counterfactuals=cfs, maps=maps,
    )
