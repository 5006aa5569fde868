"""Plain text into matplotlib: every string is drawn exactly as written.

Matplotlib reads a string holding two unescaped ``$`` as mathtext (and with ``usetex``,
as LaTeX). The report's figures carry strings medxai does not control: annotation
labels, image and file names, class and method names, dataset titles. A label such as
``$\\sqrt{2$ step`` then fails to parse and stops the figure at draw time, and one such
as ``$5 or $10`` is silently typeset as a formula.

So there is one text path: every figure medxai builds is built, and rendered, inside
:func:`plain_text`, a matplotlib rc context with ``text.parse_math`` and
``text.usetex`` off. Every text object created inside it (titles, axis and tick
labels, legend entries, table cells, free text) keeps its string verbatim, whoever
wrote the call, and the setting stays with the object when the figure is drawn later.
Use it as a decorator on figure-building and rendering functions::

    @plain_text()
    def my_figure(...) -> Figure: ...

:func:`short` shortens a user string that would otherwise take over a figure.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import matplotlib

#: The rc settings of :func:`plain_text`.
PLAIN_TEXT_RC: dict[str, Any] = {"text.parse_math": False, "text.usetex": False}


def plain_text() -> AbstractContextManager[Any]:
    """An rc context (also a decorator) in which matplotlib draws text as written."""
    return matplotlib.rc_context(PLAIN_TEXT_RC)


def short(text: str, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
