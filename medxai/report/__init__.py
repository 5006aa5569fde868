"""Study reports: one study folder → ``report.html``, ``report.pdf``, ``summary.json`` and PNGs.

>>> from medxai.report import ReportOptions, build_report
>>> result = build_report(ReportOptions(study="study1", checkpoint="model.ckpt"))
>>> result.summary["verdict"]["text"]
'abnormal — 0.83 (83%)'

The report reads files through :mod:`medxai.io`, explains with :mod:`medxai.cams`,
measures with :mod:`medxai.metrics` and draws with :mod:`medxai.viz`; it knows nothing of
hooks.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public names and the module that defines each; imported on first use so that the
#: command line can read :class:`ReportOptions` without loading PyTorch and matplotlib.
_EXPORTS = {
    "ReportOptions": "medxai.report.options",
    "ReportResult": "medxai.report.builder",
    "build_report": "medxai.report.builder",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'medxai.report' has no attribute {name!r}")
