"""One study folder → one report folder (HTML, PDF, JSON, PNG figures)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medxai.pacs.outputs import dicom_outputs
from medxai.pacs.sources import read_sources
from medxai.report.figures import render_figures
from medxai.report.inputs import load_inputs, resolve_device
from medxai.report.options import ReportOptions
from medxai.report.pipeline import analyse_study, method_specs
from medxai.report.render_html import render_html
from medxai.report.render_pdf import find_browser, report_pdf
from medxai.report.summary import build_summary, summary_json
from medxai.report.writer import REPORT_MARKER, check_output, write_report

#: File names inside a report folder.
HTML_NAME, PDF_NAME, JSON_NAME = "report.html", "report.pdf", REPORT_MARKER


@dataclass
class ReportResult:
    """Where the report went and what it says."""

    out: Path
    summary: dict[str, Any]
    #: One-line notes for the user about the report as written (e.g. no PDF printed).
    notes: tuple[str, ...] = ()

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
    browser = find_browser()  # prints report.pdf; None: the report is written without it
    device = resolve_device(options.device)
    inputs = load_inputs(options.study, options.checkpoint, options.annotations, device)
    sources = read_sources(inputs.images) if options.dicom else None  # DICOM inputs only
    methods = method_specs(
        device,
        options.exact,
        options.channel_budget,
        options.batch_size,
        inputs.classifier.input_size,
        tolerance=options.tolerance,
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
    dicom = dicom_outputs(sources, analysis, summary) if sources is not None else None
    if dicom is not None:
        summary["dicom"] = dicom.objects
    pngs = {path: png for figs in rendered for path, _, png in figs.items.values()}
    html = render_html(summary, pngs)
    files = {HTML_NAME: html.encode("utf-8"), JSON_NAME: summary_json(summary).encode("utf-8")}
    pdf, pdf_note = report_pdf(html, browser, out)
    if pdf is not None:
        files[PDF_NAME] = pdf
    write_report(out, {**files, **pngs, **(dicom.files if dicom else {})}, options.force)
    return ReportResult(out=out, summary=summary, notes=(pdf_note,) if pdf_note else ())
