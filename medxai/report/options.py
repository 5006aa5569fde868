"""The options of one report, as a dataclass so that Python callers (``medxai demo``,
notebooks) and the command line build reports the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medxai.cams.presets import DEFAULT_BATCH_SIZE, Mode, command_line_mode
from medxai.errors import OptionError

#: Devices accepted by ``--device``.
DEVICES = ("auto", "cpu", "cuda")
#: Classes whose evidence the maps can show.
TARGETS = ("abnormal", "predicted")


@dataclass
class ReportOptions:
    """Everything :func:`medxai.report.build_report` needs, checked once on creation
    (:class:`~medxai.errors.OptionError` naming the command-line flag).

    Attributes:
        study: the study folder (PNG/JPEG/DICOM files; other files are listed and ignored).
        checkpoint: a checkpoint written by ``train.py``.
        annotations: native JSON or CVAT XML 1.1; ``None`` uses the study folder's
            ``annotations.json`` when there is one.
        out: the report folder; ``None`` means ``report-<hex>`` beside the study
            (``<study>_report`` with ``show_identifiers``; :meth:`output_dir`).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        exact: run PCAM± exactly on the CPU too (it is always exact on a GPU).
        channel_budget: PCAM±'s fast mode on the CPU: scored representatives per layer
            (``None``: :data:`medxai.cams.presets.DEFAULT_CHANNEL_BUDGET`).
        tolerance: PCAM±'s fast mode on the CPU: a channel is left unscored only when its
            mask is within this RMS distance of a scored channel's (``None``: bounded by
            the budget only; alone, no budget). Neither may be given with ``exact``.
        batch_size: masked inputs per forward pass inside PCAM±.
        top_regions: how many salient regions are zoomed per image.
        target: ``"abnormal"`` (maps show the evidence for abnormal) or ``"predicted"``
            (the evidence for each image's predicted class).
        force: replace an existing report.
        show_identifiers: add patient identifiers (name, ID, birth date) to the report.
        progress: show progress bars on stderr.
        dicom: also write DICOM objects into ``<out>/dicom/`` (map objects, Secondary
            Captures, a Comprehensive SR; DICOM inputs only, see ``docs/pacs.md``).
    """

    study: Path
    checkpoint: Path
    annotations: Path | None = None
    out: Path | None = None
    device: str = "auto"
    exact: bool = False
    channel_budget: int | None = None
    tolerance: float | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    top_regions: int = 3
    target: str = "abnormal"
    force: bool = False
    show_identifiers: bool = False
    progress: bool = True
    dicom: bool = False

    def __post_init__(self) -> None:
        self.study = Path(self.study)
        self.checkpoint = Path(self.checkpoint)
        self.annotations = None if self.annotations is None else Path(self.annotations)
        self.out = None if self.out is None else Path(self.out)
        if self.device not in DEVICES:
            raise OptionError(f"--device must be one of {', '.join(DEVICES)}; got {self.device!r}")
        if self.target not in TARGETS:
            raise OptionError(f"--target must be one of {', '.join(TARGETS)}; got {self.target!r}")
        if self.batch_size < 1:
            raise OptionError("--batch-size must be at least 1")
        if self.top_regions < 0:
            raise OptionError("--regions must be 0 or more")
        self.mode()  # checks --exact, --channel-budget and --tolerance

    def mode(self) -> Mode:
        """PCAM±'s mode: exact with ``exact``, else fast on a CPU and exact on a GPU."""
        return command_line_mode(
            exact=self.exact, channel_budget=self.channel_budget, tolerance=self.tolerance
        )

    def output_dir(self) -> Path:
        """``out``, or the default report folder beside the study
        (:func:`medxai.report.writer.default_output`: ``report-<hex>``, or
        ``<study>_report`` with ``show_identifiers``)."""
        if self.out is not None:
            return self.out
        from medxai.report.writer import default_output

        return default_output(self.study, self.show_identifiers)
