"""Study reports: one study folder → ``report.html``, ``report.pdf``, ``summary.json`` and PNGs.

>>> from medxai.report import ReportOptions, build_report
>>> result = build_report(ReportOptions(study="study1", checkpoint="model.ckpt"))
>>> result.summary["verdict"]["text"]
'abnormal — 0.83 (83%)'

The report reads files through :mod:`medxai.io`, explains with :mod:`medxai.cams`,
measures with :mod:`medxai.metrics` and draws with :mod:`medxai.viz`; it knows nothing of
hooks.
"""

from medxai.report.builder import ReportResult, build_report
from medxai.report.options import ReportOptions

__all__ = ["ReportOptions", "ReportResult", "build_report"]
