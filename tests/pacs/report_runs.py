"""Running ``medxai report`` in-process for the PACS tests, keeping the analysis it made."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

import pytest

from medxai.cli import main
from medxai.report import builder

#: Cheap settings: PCAM± fast mode with 1 channel per layer, one zoomed region.
FAST_ARGS = ["--channel-budget", "1", "--regions", "1", "--no-progress"]


@dataclass
class Run:
    """One command's exit code, its output, and the analyses the report built."""

    code: int
    stdout: str
    stderr: str
    analyses: list[Any] = field(default_factory=list)

    @property
    def error(self) -> str:
        """The error line (the command's only stderr line on failure)."""
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


def run_report(argv: list[str]) -> Run:
    """``medxai report ARGV`` with the fast settings; records each StudyAnalysis."""
    analyses: list[Any] = []
    original = builder.analyse_study

    def recording(*args: Any, **kwargs: Any) -> Any:
        analysis = original(*args, **kwargs)
        analyses.append(analysis)
        return analysis

    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builder, "analyse_study", recording)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["report", *argv, *FAST_ARGS])
    return Run(code, stdout.getvalue(), stderr.getvalue(), analyses)
