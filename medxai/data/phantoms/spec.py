"""A study's sampled truth: everything :func:`~.render.render` needs, and nothing random.

:func:`draw_study` draws a :class:`StudySpec` from a generator seeded by
``(seed, split, index)`` only, so each study is independent of the others and of the order
in which they are written. The spec is plain data (JSON via :func:`dataclasses.asdict`)
and is saved as the study's ``phantom.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medxai.data.phantoms.anatomy import template
from medxai.data.phantoms.config import PhantomConfig

SPLITS: tuple[str, ...] = ("train", "valid")

#: View name → how far the bones sit apart across the limb.
VIEW_SPREAD: dict[str, float] = {"pa": 1.0, "oblique": 0.65, "lateral": 0.35}


@dataclass(frozen=True)
class ViewSpec:
    """One image of a study: projection, placement and detector settings."""

    name: str
    spread: float
    rotation_deg: float
    scale: float
    shift: tuple[float, float]
    exposure: float
    background: float
    gamma: float
    noise: float
    blur: float
    seed: int


@dataclass(frozen=True)
class FractureSpec:
    """A fracture across bone ``bone`` at ``t`` along its axis (0 = distal end).

    Lengths are fractions of the bone's local radius ``r``: ``gap`` (width of the lucent
    line), ``displacement`` (sideways step between the fragments), ``extent`` (how far the
    line runs across the bone: 1 = complete), ``fragment_size`` and ``fragment_offset``.
    ``line_angle_deg`` tilts the line from perpendicular to the bone axis; ``angulation_deg``
    bends the distal fragment; ``depth`` is how much bone the line removes (1 = all).
    The ``min_*_px`` floors (pixels of the rendered image) keep the gap, the step and the
    chip radius visible at low resolution; like the rest they shrink as subtlety grows.
    ``callus`` is the peak thickness of the periosteal cuff around the fracture and
    ``swelling`` the peak extra soft-tissue thickness over it, both in bone radii.
    """

    bone: str
    t: float
    line_angle_deg: float
    gap: float
    displacement: float
    angulation_deg: float
    extent: float
    depth: float
    start_side: int
    fragment: bool
    fragment_side: int
    fragment_size: float
    fragment_offset: float
    jag_amplitude: float
    jag_phase: float
    min_gap_px: float = 1.5
    min_step_px: float = 0.0
    min_chip_px: float = 0.7
    callus: float = 0.0
    swelling: float = 0.0


@dataclass(frozen=True)
class CastSpec:
    """A plaster sleeve along the limb from ``t0`` to ``t1`` of the cast axis."""

    t0: float
    t1: float
    wall: float
    padding: float
    density: float
    weave: float
    weave_period: float
    weave_angle_deg: float
    seed: int


@dataclass(frozen=True)
class HardwareSpec:
    """A metal plate beside ``bone`` from ``t0`` to ``t1`` with ``screws`` screws (0 = a wire)."""

    bone: str
    t0: float
    t1: float
    side: int
    screws: int


@dataclass(frozen=True)
class MarkerSpec:
    """A lead laterality letter in an image corner (0 top-left, then clockwise)."""

    letter: str
    corner: int
    height: float


@dataclass(frozen=True)
class StudySpec:
    """The truth of one phantom study."""

    body_part: str
    abnormal: bool
    size: int
    mirror: bool
    anatomy_seed: int
    views: tuple[ViewSpec, ...]
    fracture: FractureSpec | None
    cast: CastSpec | None
    hardware: HardwareSpec | None
    marker: MarkerSpec | None


def study_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of study ``index`` of ``split``: depends on nothing else."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLITS.index(split) + 1, index]))


def _lerp(a: float, b: float, s: float) -> float:
    return a + (b - a) * s


def sample_fracture(body_part: str, subtlety: float, rng: np.random.Generator) -> FractureSpec:
    """A fracture whose signs shrink as ``subtlety`` goes from 0 to 1 (±20 % per study)."""
    sites = template(body_part).fracture_sites
    names = sorted(sites)
    weights = np.array([3.0 if n in ("radius", "d3_pp") else 1.0 for n in names])
    bone = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    lo, hi = sites[bone]
    s = float(np.clip(subtlety + rng.uniform(-0.15, 0.15), 0.0, 1.0))

    def jit() -> float:
        return float(rng.uniform(0.8, 1.2))

    return FractureSpec(
        bone=bone,
        t=float(rng.uniform(lo, hi)),
        line_angle_deg=float(rng.uniform(-35, 35)),
        gap=_lerp(0.7, 0.2, s) * jit(),
        displacement=_lerp(0.9, 0.1, s) * jit() * float(rng.choice([-1.0, 1.0])),
        angulation_deg=_lerp(14.0, 2.0, s) * jit() * float(rng.choice([-1.0, 1.0])),
        extent=min(_lerp(1.3, 0.55, s) * jit(), 1.0),
        depth=min(_lerp(1.0, 0.6, s) * jit(), 1.0),
        start_side=int(rng.choice([-1, 1])),
        fragment=bool(rng.random() < _lerp(1.0, 0.4, s)),
        fragment_side=int(rng.choice([-1, 1])),
        fragment_size=_lerp(0.6, 0.3, s) * jit(),
        fragment_offset=_lerp(0.6, 0.12, s) * jit(),
        jag_amplitude=float(rng.uniform(0.1, 0.25)),
        jag_phase=float(rng.uniform(0, 2 * np.pi)),
        min_gap_px=_lerp(3.0, 1.0, s),
        min_step_px=_lerp(3.0, 0.5, s),
        min_chip_px=_lerp(1.6, 0.7, s),
        callus=_lerp(0.7, 0.15, s) * jit(),
        swelling=_lerp(1.2, 0.3, s) * jit(),
    )


def sample_views(count: int, rng: np.random.Generator) -> tuple[ViewSpec, ...]:
    names = ["pa", "lateral", "oblique"][:count]
    base_rot = float(rng.uniform(-12, 12))
    views = []
    for name in names:
        views.append(ViewSpec(
            name=name,
            spread=VIEW_SPREAD[name] * float(rng.uniform(0.95, 1.05)),
            rotation_deg=base_rot + float(rng.uniform(-10, 10)),
            scale=float(rng.uniform(0.9, 1.08)),
            shift=(float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.05, 0.05))),
            exposure=float(rng.uniform(0.85, 1.15)),
            background=float(rng.uniform(0.02, 0.1)),
            gamma=float(rng.uniform(0.85, 1.15)),
            noise=float(rng.uniform(0.012, 0.03)),
            blur=float(rng.uniform(0.45, 0.8)),
            seed=int(rng.integers(2**31)),
        ))
    return tuple(views)


def draw_study(
    config: PhantomConfig, split: str, index: int, body_part: str, abnormal: bool
) -> StudySpec:
    """Draw study ``index`` of ``split`` (body part and label come from the split's plan).

    The views are placed at random; :func:`~.study.sample_study` then moves any view whose
    fracture signs would leave the image.
    """
    rng = study_rng(config.seed, split, index)
    lo, hi = config.images_per_study
    n_images = int(rng.integers(lo, hi + 1))
    mirror = bool(rng.random() < 0.5)
    anatomy_seed = int(rng.integers(2**31))
    views = sample_views(n_images, rng)
    # drawn for normal studies too, so that every later draw is the same for both labels
    fracture = sample_fracture(body_part, config.subtlety, rng)
    p_cast = config.p_cast_abnormal if abnormal else config.p_cast_normal
    has_cast = bool(rng.random() < p_cast)
    t0 = float(rng.uniform(0.0, 0.2))
    cast = CastSpec(
        t0=t0,
        t1=float(rng.uniform(0.75, 1.0)),
        wall=float(rng.uniform(0.025, 0.045)),
        padding=float(rng.uniform(0.02, 0.05)),
        density=float(rng.uniform(1.2, 2.0)),
        weave=float(rng.uniform(0.0, 0.25)),
        weave_period=float(rng.uniform(0.02, 0.035)),
        weave_angle_deg=float(rng.uniform(20, 70)),
        seed=int(rng.integers(2**31)),
    )
    has_hardware = bool(rng.random() < config.p_hardware)
    anatomy = template(body_part)
    plate_bone = anatomy.long_bones[int(rng.integers(len(anatomy.long_bones)))]
    ht0 = float(rng.uniform(0.2, 0.45))
    hardware = HardwareSpec(
        bone=plate_bone, t0=ht0, t1=ht0 + float(rng.uniform(0.25, 0.4)),
        side=int(rng.choice([-1, 1])),
        screws=0 if body_part == "XR_FINGER" else int(rng.integers(3, 6)),
    )
    has_marker = bool(rng.random() < config.p_marker)
    marker = MarkerSpec(letter="L" if mirror else "R", corner=int(rng.integers(4)),
                        height=float(rng.uniform(0.06, 0.09)))
    return StudySpec(
        body_part=body_part,
        abnormal=abnormal,
        size=config.size,
        mirror=mirror,
        anatomy_seed=anatomy_seed,
        views=views,
        fracture=fracture if abnormal else None,
        cast=cast if has_cast else None,
        hardware=hardware if has_hardware else None,
        marker=marker if has_marker else None,
    )
