"""Phantom data sets and small demo classifiers, cached on disk by configuration hash.

The audit notebooks need trained models. Training one on phantoms takes minutes on a
CPU, so both are cached under one folder. A data set lives in ``phantoms-<key>``, named by
the first 16 hex digits of the SHA-256 of its configuration (as sorted JSON, with
:data:`CACHE_VERSION` and a hash of the phantom generator's source, so that a changed
generator never serves stale data); it is generated in a temporary sibling folder and
renamed into place when complete. A model is :func:`training.demo.train_demo_model`, the
one function that trains demo models (``medxai demo`` uses it too): the shipped demo
config with the :class:`DemoModelConfig`'s options on top, cached in ``model-<key>`` by
config, options and data. A second call with the same configuration returns the cached
path at once; a changed knob gives a new key.

A demo model is an ordinary medxai checkpoint (:func:`medxai.checkpoint.load_classifier`
reads it). The checkpoint kept is the last epoch's (the cosine schedule ends at a small
learning rate; on a small validation split the "best kappa" epoch is mostly noise).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medxai.data.phantoms import PhantomConfig, generate

#: Bumped when the meaning of a cached entry changes.
CACHE_VERSION = 1
#: Environment variable naming the default cache folder.
CACHE_ENV = "MEDXAI_NB_CACHE"


def default_cache_dir() -> Path:
    """``$MEDXAI_NB_CACHE``, else ``~/.cache/medxai/notebooks``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "medxai" / "notebooks"


def generator_fingerprint() -> str:
    """SHA-256 of the phantom generator's source files: a new generator, a new cache key."""
    import medxai.data.phantoms as phantoms

    digest = hashlib.sha256()
    for path in sorted(Path(phantoms.__file__).parent.glob("*.py")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()


def config_key(config: Any) -> str:
    """First 16 hex digits of SHA-256 over the sorted JSON of ``config`` (a dataclass),
    :data:`CACHE_VERSION` and :func:`generator_fingerprint`."""
    payload = {
        "version": CACHE_VERSION,
        "generator": generator_fingerprint(),
        "config": asdict(config),
    }
    text = json.dumps(payload, sort_keys=True, default=list)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class DemoModelConfig:
    """A small classifier trained from scratch on phantoms (CPU, minutes).

    ``phantoms`` says what the training data are (e.g. the planted cast shortcut);
    the other fields are training options (:func:`training_options`).
    """

    phantoms: PhantomConfig = field(default_factory=PhantomConfig)
    arch: str = "resnet18"
    size: int = 64
    epochs: int = 8
    batch_size: int = 32
    lr: float = 1e-3
    rotation: float = 10.0
    seed: int = 0


def phantom_dataset(config: PhantomConfig, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The phantom data set of ``config``, generated once under ``cache_dir/phantoms-<key>``."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / f"phantoms-{config_key(config)}"
    if not (target / "phantoms.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        generate(target, config, force=target.exists())
    return target


def training_options(config: DemoModelConfig) -> dict[str, Any]:
    """The LightningCLI options of ``config``, on top of the demo config (which gives the
    random initialisation, weight decay 1e-5, the CPU, one device and CSV logs)."""
    return {
        "seed_everything": config.seed,
        "model.arch": config.arch,
        "model.lr": config.lr,
        "model.loss_weighting": "global",
        "data.size": config.size,
        "data.rotation": config.rotation,
        "data.batch_size": config.batch_size,
        "data.num_workers": 0,
        "trainer.max_epochs": config.epochs,
        "trainer.enable_progress_bar": False,
        "trainer.enable_model_summary": False,
    }


def demo_checkpoint(
    config: DemoModelConfig, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Path of the checkpoint of ``config`` (its last epoch's): trained once, then read
    from the cache (:func:`training.demo.train_demo_model`)."""
    from training.demo import train_demo_model

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    data = phantom_dataset(config.phantoms, root)
    return train_demo_model(data, root, training_options(config), keep="last")


#: Scales of the notebooks' demo: ``"ci"`` runs in minutes on two CPU cores; ``"full"``
#: is closer to the 160 px phantoms of ``medxai demo`` (tens of minutes on a CPU).
SCALES: dict[str, dict[str, int]] = {
    "ci": {"train_studies": 120, "valid_studies": 40, "audit_studies": 48, "size": 64,
           "epochs": 5},
    "full": {"train_studies": 480, "valid_studies": 120, "audit_studies": 160, "size": 128,
             "epochs": 12},
}


def demo_models(scale: str = "ci") -> dict[str, DemoModelConfig]:
    """The two demo models of the plaster audit, by name.

    - ``"cast shortcut"``: trained on phantoms with ``P(cast | abnormal) = 0.9`` and
      ``P(cast | normal) = 0.05``: a cast nearly gives the label away;
    - ``"no shortcut"``: the same, with ``P(cast | ·) = 0.5`` for both labels.
    """
    s = SCALES[scale]
    models = {}
    for name, (p_abnormal, p_normal) in {
        "cast shortcut": (0.9, 0.05),
        "no shortcut": (0.5, 0.5),
    }.items():
        phantoms = PhantomConfig(
            train_studies=s["train_studies"], valid_studies=s["valid_studies"], size=s["size"],
            p_cast_abnormal=p_abnormal, p_cast_normal=p_normal, seed=1,
        )
        models[name] = DemoModelConfig(phantoms=phantoms, size=s["size"], epochs=s["epochs"])
    return models


def audit_phantoms(scale: str = "ci") -> PhantomConfig:
    """The audit set: new phantoms (another seed) whose casts carry no label signal
    (``P(cast | ·) = 0.5``), in the ``valid`` split only, so every model is audited on
    the same images and the cast subgroups hold both labels."""
    s = SCALES[scale]
    return PhantomConfig(
        train_studies=0, valid_studies=s["audit_studies"], size=s["size"],
        p_cast_abnormal=0.5, p_cast_normal=0.5, seed=7,
    )
