"""Demo classifiers: the shipped demo config trained on a phantom set, once per setting.

``medxai demo`` and the audit notebooks need small classifiers trained from random weights
on phantoms, on a CPU, in minutes. :func:`train_demo_model` is the one way to make them:
it trains ``configs/demo_phantoms.yaml`` (:data:`~training.cli.DEMO_CONFIG`) on a data
folder with the caller's LightningCLI options on top, and keeps the checkpoint in a cache
entry named by everything that determines it::

    key = first 16 hex digits of SHA-256(sorted JSON of {version: CACHE_VERSION,
          config: the demo config's text, options, keep, data: data_fingerprint(root)})

A second call with the same key returns the cached checkpoint without training; a changed
option, config file or data file gives a new key. The entry ``cache_dir/model-<key>/`` is
built in a temporary sibling folder and renamed into place when complete
(:func:`medxai.atomic.staged_dir`), so an interrupted run leaves nothing half-written.
It holds ``model.ckpt`` (the kept checkpoint, an ordinary medxai checkpoint), the run's
``metrics.csv`` and resolved ``config.yaml``, and ``training.json`` (what the key was
computed from, plus the data folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from medxai.atomic import staged_dir
from medxai.errors import MedxaiError
from training.cli import DEMO_CONFIG, run_training

#: Bumped when the meaning of a cache entry changes.
CACHE_VERSION = 1
#: File name of the kept checkpoint inside a cache entry.
CHECKPOINT_NAME = "model.ckpt"
#: What a cached model folder written before folders carried their file list
#: (:data:`medxai.atomic.MANIFEST`) may hold for a new training run to replace it.
CACHE_LAYOUT = re.compile(r"model\.ckpt|metrics\.csv|config\.yaml|training\.json")
#: Which checkpoint an entry keeps: the epoch with the highest ``val/study_kappa`` (else
#: the last), or the last epoch's.
Keep = Literal["best", "last"]


def data_fingerprint(root: str | os.PathLike[str]) -> str:
    """SHA-256 over every file under ``root``: its path relative to ``root`` and its bytes,
    in sorted path order (a renamed, added, removed or changed file changes it)."""
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def cli_value(value: Any) -> str:
    """An option's value as LightningCLI reads it: ``true``/``false``/``null`` for
    booleans and ``None``, ``str`` otherwise."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def demo_arguments(
    data_root: Path, runs: Path, options: Mapping[str, Any] | None = None
) -> list[str]:
    """The ``train.py`` command line: the demo config, the data folder, the run folder, then
    ``--key value`` for each of ``options`` (LightningCLI keys, e.g. ``"trainer.max_epochs"``),
    which override the config."""
    args = [
        "--config", str(DEMO_CONFIG),
        "--data.root", str(data_root),
        "--trainer.logger.init_args.save_dir", str(runs),
    ]
    for key, value in (options or {}).items():
        args += [f"--{key}", cli_value(value)]
    return args


def demo_model_key(
    data_root: str | os.PathLike[str], options: Mapping[str, Any] | None, keep: Keep
) -> dict[str, Any]:
    """What a cache entry's key is computed from (see the module docstring)."""
    if not DEMO_CONFIG.is_file():
        raise MedxaiError(f"{DEMO_CONFIG}: demo config not found; reinstall medxai")
    return {
        "version": CACHE_VERSION,
        "config": DEMO_CONFIG.read_text(encoding="utf-8"),
        "options": {key: cli_value(value) for key, value in (options or {}).items()},
        "keep": keep,
        "data": data_fingerprint(data_root),
    }


def cache_key(inputs: Mapping[str, Any]) -> str:
    """First 16 hex digits of SHA-256 over the sorted JSON of ``inputs``."""
    text = json.dumps(inputs, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def train_demo_model(
    data_root: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str],
    options: Mapping[str, Any] | None = None,
    keep: Keep = "best",
) -> Path:
    """The checkpoint of the demo config trained on ``data_root`` with ``options``: trained
    on the first call, then read from ``cache_dir/model-<key>/model.ckpt``.

    Raises :class:`~medxai.errors.MedxaiError` for user errors (missing data, no
    checkpoint written); an invalid option exits via ``SystemExit`` as the parser does.
    """
    if keep not in ("best", "last"):
        raise ValueError(f"keep must be 'best' or 'last', not {keep!r}")
    data_root = Path(data_root).resolve()
    if not data_root.is_dir():
        raise MedxaiError(f"{data_root}: data folder not found")
    inputs = demo_model_key(data_root, options, keep)
    target = Path(cache_dir) / f"model-{cache_key(inputs)}"
    checkpoint = target / CHECKPOINT_NAME
    if checkpoint.is_file():
        print(f"[demo] reusing the model trained in {target}", file=sys.stderr)
        return checkpoint
    print(f"[demo] training {DEMO_CONFIG.name} on the CPU into {target}", file=sys.stderr)
    target.parent.mkdir(parents=True, exist_ok=True)
    replace = target.exists()
    with staged_dir(target, force=replace, marker="training.json", layout=CACHE_LAYOUT) as tmp:
        best = run_training(demo_arguments(data_root, tmp / "runs", options))
        if not best.is_file():
            raise MedxaiError(f"{target}: training wrote no checkpoint")
        last = best.parent / "last.ckpt"
        kept = last if keep == "last" and last.is_file() else best
        shutil.copyfile(kept, tmp / CHECKPOINT_NAME)
        run = best.parent.parent  # <save_dir>/<name>/version_<n>/checkpoints/<file>
        for name in ("metrics.csv", "config.yaml"):
            if (run / name).is_file():
                shutil.copyfile(run / name, tmp / name)
        shutil.rmtree(tmp / "runs", ignore_errors=True)
        record = {**inputs, "config": str(DEMO_CONFIG), "data_root": str(data_root),
                  "kept": kept.name}
        (tmp / "training.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return checkpoint
