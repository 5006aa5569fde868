"""User-facing errors.

Anything raised as :class:`MedxaiError` is a problem with the user's input, not a bug:
the command line prints ``str(error)`` on one line and exits non-zero, with no traceback.
"""

from __future__ import annotations

from os import PathLike


class MedxaiError(Exception):
    """A user error whose message is one line that names the file and the problem."""

    exit_code = 2

    def __str__(self) -> str:  # always one line, whatever the message holds
        return " ".join(super().__str__().split())


class _PathError(MedxaiError):
    """A problem with one path: the message is ``"<path>: <problem>"``."""

    def __init__(self, path: str | PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[type[_PathError], tuple[str, str]]:
        # Keep the type across processes (DataLoader workers, DDP ranks re-raise pickled errors).
        return (type(self), (self.path, self.problem))


class InputError(_PathError):
    """A file or folder that cannot be used: ``"<path>: <problem>"``."""


class OutputError(_PathError):
    """An output location that cannot be written, or that already holds a result."""


class OptionError(MedxaiError, ValueError):
    """A setting that is unknown or out of range, named by its command-line flag.

    The options objects (:class:`medxai.report.ReportOptions`,
    :class:`medxai.evaluate.EvaluationOptions`) are the one place that checks settings,
    for the command line and for Python callers alike; it is also a :class:`ValueError`
    for the latter.
    """


class DependencyError(MedxaiError):
    """An optional dependency is missing; the message names what to install."""
