"""One study folder → one report folder (HTML, PDF, JSON, PNG figures)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medxai.report.figures import render_figures
from medxai.report.inputs import load_inputs, resolve_device
from medxai.report.options import ReportOptions
from medxai.report.pipeline import analyse_study, method_specs
from medxai.report.render_html import render_html
from medxai.report.render_pdf import render_pdf
from medxai.report.summary import build_summary, summary_json
from medxai.report.writer import check_output, write_report

#: File names inside a report folder.
HTML_NAME, PDF_NAME, JSON_NAME = "report.html", "report.pdf", "summary.json"


@dataclass
class ReportResult:
    """Where the report went and what it says."""

    out: Path
    summary: dict[str, Any]

    @property
    def html(self) -> Path:
        return self.out / HTML_NAME

    @property
    def pdf(self) -> Path:
        return self.out / PDF_NAME

    @property
    def json(self) -> Path:
        return self.out / JSON_NAME


def build_report(options: ReportOptions) -> ReportResult:
    """Explain a study and write its report; see :class:`ReportOptions`.

    The output location is checked first and the inputs are all read before any model
    runs, so bad input fails fast; the folder is written in a staging folder and renamed
    into place only once complete (:func:`medxai.atomic.staged_dir`).

    Raises:
        MedxaiError: bad input or an unusable output location, as one line naming the file.
    """
    out = options.output_dir()
    check_output(out, options.study, options.force)
    device = resolve_device(options.device)
    inputs = load_inputs(options.study, options.checkpoint, options.annotations, device)
    methods = method_specs(
        device,
        options.exact,
        options.channel_budget,
        options.batch_size,
        inputs.classifier.input_size,
    )
    analysis = analyse_study(
        inputs.images,
        inputs.classifier,
        inputs.annotations,
        methods,
        device,
        target=options.target,
        top_regions=options.top_regions,
        progress=options.progress,
    )
    rendered = render_figures(analysis)
    summary = build_summary(
        inputs,
        analysis,
        options.checkpoint,
        [figs.paths() for figs in rendered],
        options.show_identifiers,
        options.top_regions,
    )
    pngs = {path: png for figs in rendered for path, _, png in figs.items.values()}
    files = {
        HTML_NAME: render_html(summary, pngs).encode("utf-8"),
        PDF_NAME: render_pdf(summary, list(pngs.values()), summary["study"]["id"]),
        JSON_NAME: summary_json(summary).encode("utf-8"),
        **pngs,
    }
    write_report(out, files, options.force)
    return ReportResult(out=out, summary=summary)
