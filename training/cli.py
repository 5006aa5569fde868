"""``python train.py`` (or ``python -m training``): LightningCLI over :class:`MuraClassifier`
and :class:`MuraDataModule`.

No sub-command: the command line is parsed, the trainer is built and ``fit`` runs.
Defaults are the recipe of ``configs/mura_resnet50.yaml`` (ResNet-50 on ImageNet, 320 px,
rotation ±15°, Adam 6e-5 / 1e-5, cosine over 50 epochs, batch size 32), so::

    python train.py --data.root /data/MURA-v1.1
    python train.py --config configs/demo_phantoms.yaml --data.root ./phantoms
    python train.py --config configs/mura_resnet50.yaml --ckpt_path runs/.../last.ckpt

``--ckpt_path`` resumes a run (model, optimiser, scheduler, loops, callbacks) at the
epoch after the one the checkpoint closed. Checkpoints: the best by ``val/study_kappa``
(``checkpoint.*`` options, :class:`ModelCheckpoint`) and ``last.ckpt``, under the
logger's run folder, next to the resolved ``config.yaml`` that ``SaveConfigCallback``
writes. A user error (missing data, missing ImageNet weights) prints one line on stderr
and exits with status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

from medxai.allocator import keep_freed_memory
from medxai.errors import MedxaiError
from training.datamodule import MuraDataModule
from training.module import MONITOR, MuraClassifier


def shipped_config_dir() -> Path:
    """The folder of the shipped configs (``mura_resnet50.yaml``, ``mura_resnet50_ddp.yaml``,
    ``demo_phantoms.yaml``).

    The one copy is the checkout's top-level ``configs/``. A wheel carries it as
    ``training/configs/`` (the build maps the folder there: ``package-dir`` in
    ``pyproject.toml``), so an installed medxai finds it beside this module; a checkout or
    an editable install, where that folder does not exist, finds it one level up.
    """
    here = Path(__file__).resolve().parent
    packaged = here / "configs"
    return packaged if packaged.is_dir() else here.parent / "configs"


#: The shipped configs' folder (:func:`shipped_config_dir`).
CONFIG_DIR = shipped_config_dir()
#: The demo's config: ``run_training(["--config", str(DEMO_CONFIG), "--data.root", ...])``.
DEMO_CONFIG = CONFIG_DIR / "demo_phantoms.yaml"

#: Trainer defaults: the recipe on one device.
TRAINER_DEFAULTS: dict[str, Any] = {
    "max_epochs": 50,
    "devices": 1,
    "log_every_n_steps": 50,
    "logger": {
        "class_path": "pytorch_lightning.loggers.CSVLogger",
        "init_args": {"save_dir": "runs", "name": "mura_resnet50"},
    },
}

#: Defaults of the forced ``checkpoint`` (ModelCheckpoint) options.
CHECKPOINT_DEFAULTS: dict[str, Any] = {
    "checkpoint.monitor": MONITOR,
    "checkpoint.mode": "max",
    "checkpoint.save_last": True,
    "checkpoint.save_top_k": 1,
    "checkpoint.filename": "best-epoch{epoch:03d}",
    "checkpoint.auto_insert_metric_name": False,
}


class MedxaiTrainCLI(LightningCLI):
    """LightningCLI with a forced best/last ModelCheckpoint and a ``--ckpt_path`` option."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(CHECKPOINT_DEFAULTS)
        parser.add_argument(
            "--ckpt_path",
            type=str | None,
            default=None,
            help="resume from this checkpoint (e.g. .../checkpoints/last.ckpt)",
        )


def build_cli(args: Sequence[str] | None = None) -> MedxaiTrainCLI:
    """Parse ``args`` (default: ``sys.argv[1:]``) and instantiate model, data and trainer."""
    return MedxaiTrainCLI(
        MuraClassifier,
        MuraDataModule,
        run=False,
        args=list(args) if args is not None else None,
        trainer_defaults=TRAINER_DEFAULTS,
        seed_everything_default=0,
        save_config_callback=SaveConfigCallback,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={
            "description": (
                "Train a MURA abnormality classifier (medxai). "
                f"Shipped configs: {CONFIG_DIR}"
            )
        },
    )


def fit(cli: MedxaiTrainCLI) -> Path:
    """Run ``trainer.fit`` (resuming from ``--ckpt_path``); return the best checkpoint."""
    cli.trainer.fit(cli.model, datamodule=cli.datamodule, ckpt_path=cli.config.get("ckpt_path"))
    callback = cli.trainer.checkpoint_callback
    best = getattr(callback, "best_model_path", "") or getattr(callback, "last_model_path", "")
    return Path(best).resolve() if best else Path()


def run_training(args: Sequence[str]) -> Path:
    """Train as ``python train.py *args`` does and return the best checkpoint's path.

    The path (absolute) is that of the checkpoint with the highest ``val/study_kappa`` (or
    ``last.ckpt`` if no epoch produced a finite kappa). Raises
    :class:`~medxai.errors.MedxaiError` for user errors; an invalid option exits via
    ``SystemExit`` as the parser does.
    """
    return fit(build_cli(args))


def main(args: Sequence[str] | None = None) -> int:
    """Command-line entry: returns the exit status."""
    keep_freed_memory()
    try:
        best = fit(build_cli(args))
    except MedxaiError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("train.py: interrupted", file=sys.stderr)
        return 130
    print(f"best checkpoint: {best}")
    return 0
