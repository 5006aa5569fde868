"""The settings of one evaluation run, validated before anything is computed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medxai.cams.presets import Mode, command_line_mode
from medxai.errors import InputError, OptionError
from medxai.evaluate.catalog import canonical_metrics
from medxai.io.files import file_sha256

#: What ``--target`` accepts: the class each map explains.
TARGET_CHOICES: tuple[str, ...] = ("1", "0", "predicted")

#: Defaults of the command line.
DEFAULT_METHODS = "cam,pcam±"
DEFAULT_METRICS = "insertion,deletion,localisation,sanity"


def split_names(text: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """``"a,b , c"`` (or a list of such strings) as ``["a", "b", "c"]``."""
    if text is None:
        return []
    parts = [text] if isinstance(text, str) else list(text)
    return [name.strip() for part in parts for name in part.split(",") if name.strip()]


def parse_devices(devices: str | int | list[int]) -> int | str | list[int]:
    """``--devices`` as Lightning takes it: ``"auto"``, a count (``-1``: all), or a list of
    device indices; from text (``auto``, ``2``, ``0,1``) or an already parsed value."""
    if isinstance(devices, list):
        return [int(d) for d in devices]
    text = str(devices).strip()
    if text == "auto":
        return text
    try:
        if "," in text:
            return [int(t) for t in text.split(",") if t.strip()]
        return int(text)
    except ValueError:
        raise OptionError(
            f"--devices must be auto, a count or a list like 0,1; got {text!r}"
        ) from None


def canonical_methods(names: list[str]) -> list[str]:
    """Registered saliency method names for ``names`` (aliases resolved, duplicates dropped).

    Raises :class:`OptionError` naming the available methods for an unknown name.
    """
    from medxai import cams

    result: list[str] = []
    for raw in names:
        try:
            name = cams.canonical_name(raw)
        except ValueError:
            valid = ", ".join(cams.available()) or "none registered"
            raise OptionError(f"unknown method {raw!r}; valid methods: {valid}") from None
        if name not in result:
            result.append(name)
    if not result:
        raise OptionError(f"no method given; valid methods: {', '.join(cams.available())}")
    return result


@dataclass
class EvaluationOptions:
    """Everything one ``medxai evaluate`` run needs.

    The fields take the command line's text or parsed values; :meth:`validate` parses
    and checks them once: ``methods``, ``metrics`` and ``body_parts`` become lists of
    names (``"a,b"`` or a list), methods and metrics canonical ones, and ``devices``
    Lightning's value (:func:`parse_devices`). ``steps`` of ``None`` means the model's
    input side (one step per image row, as in the Poly-CAM paper); ``limit`` keeps the
    first ``N`` images of the selection in path order.
    """

    root: Path
    checkpoint: Path
    out: Path
    split: str = "valid"
    body_parts: str | list[str] | None = None
    methods: str | list[str] = DEFAULT_METHODS
    metrics: str | list[str] = DEFAULT_METRICS
    target: str = "1"
    limit: int | None = None
    batch_size: int = 8
    forward_batch: int = 64
    exact: bool = False
    channel_budget: int | None = None
    tolerance: float | None = None
    steps: int | None = None
    sensitivity_samples: int = 10
    sensitivity_radius: float = 0.02
    devices: str | int | list[int] = "1"
    num_nodes: int = 1
    strategy: str = "auto"
    accelerator: str = "auto"
    workers: int = 0
    seed: int = 0
    bootstrap: int = 2000
    force: bool = False
    progress: bool = True

    def validate(self) -> EvaluationOptions:
        """Resolve names and check values; raises :class:`OptionError` on the first problem."""
        self.root = Path(self.root)
        self.checkpoint = Path(self.checkpoint)
        self.out = Path(self.out)
        if not self.root.is_dir():
            raise InputError(self.root, "dataset folder not found")
        if not self.checkpoint.is_file():
            raise InputError(self.checkpoint, "checkpoint file not found")
        self.methods = canonical_methods(split_names(self.methods))
        self.metrics = canonical_metrics(split_names(self.metrics))
        self.body_parts = split_names(self.body_parts) or None
        if self.target not in TARGET_CHOICES:
            raise OptionError(
                f"unknown target {self.target!r}; valid targets: {', '.join(TARGET_CHOICES)}"
            )
        positive = {
            "batch_size": "--batch-size",
            "forward_batch": "--forward-batch-size",
            "num_nodes": "--num-nodes",
            "bootstrap": "--bootstrap",
            "sensitivity_samples": "--sensitivity-samples",
        }
        for name, flag in positive.items():
            if int(getattr(self, name)) < 1:
                raise OptionError(f"{flag} must be at least 1")
        for name in ("limit", "steps"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise OptionError(f"--{name.replace('_', '-')} must be at least 1")
        self.mode()
        self.devices = parse_devices(self.devices)
        if self.workers < 0:
            raise OptionError("--workers must be 0 or more")
        if self.sensitivity_radius <= 0:
            raise OptionError("--sensitivity-radius must be positive")
        return self

    def mode(self) -> Mode:
        """The saliency mode: exact with ``exact``, else Poly-CAM is fast on a CPU and
        exact on a GPU (:mod:`medxai.cams.presets`)."""
        return command_line_mode(
            exact=self.exact, channel_budget=self.channel_budget, tolerance=self.tolerance
        )

    def fingerprint(self, input_size: int) -> dict[str, Any]:
        """The settings that change the numbers of a row; a resumed run must match them.

        Methods, split, body parts and limit are not part of it: they choose *which* rows
        are made, and rows are keyed by (image, method).
        """
        return {
            "checkpoint_sha256": file_sha256(self.checkpoint),
            "metrics": sorted(self.metrics),
            "target": self.target,
            "steps": self.resolved_steps(input_size),
            "exact": self.exact,
            "channel_budget": self.channel_budget,
            "fast_options": self.mode().fast_options(),  # the resolved defaults too
            "sensitivity_samples": self.sensitivity_samples,
            "sensitivity_radius": self.sensitivity_radius,
            "seed": self.seed,
        }

    def resolved_steps(self, input_size: int) -> int:
        """Insertion/deletion steps: ``steps`` or, by default, the input side."""
        return int(self.steps) if self.steps is not None else int(input_size)

    def describe(self) -> dict[str, Any]:
        """All settings as JSON-ready values (for ``run.json``)."""
        data = asdict(self)
        for key in ("root", "checkpoint", "out"):
            data[key] = str(data[key])
        return data
