"""``report.pdf``: ``report.html`` printed by headless Chromium.

The PDF is the HTML page printed through its ``@media print`` stylesheet, so the two
cannot drift apart: there is one layout, in ``templates/report.html``.

Why Chromium rather than a Python HTML-to-PDF library (WeasyPrint was measured on the
same three-image report, on an idle 2-core CPU):

- *Output*: Chromium is the engine the report is checked in (the browser test) and the
  one most readers open it with, so the PDF shows what they see on screen, whatever
  later changes the page gets. WeasyPrint 70 implements a subset of
  CSS: it ignores the page's ``repeat(auto-fit, …)`` grid (the summary cards came out
  stacked, pushing the localisation table to page 2) and printed the same as Chromium
  only once the print stylesheet fixed three columns.
- *Install*: Chromium adds no Python dependency; it is an optional system program
  (≈290 MB, already needed for the browser test). WeasyPrint is ≈18 MB of Python
  packages and also needs the Pango system library, which pip cannot install.
- *Speed*: equal within noise: Chromium ≈1.7 s per report (≈0.75 s of it starting the
  browser), WeasyPrint ≈1.4 s plus 0.6 s to import.

Without Chromium the report is still written, without ``report.pdf``, and the command
says so on one line (:data:`NO_BROWSER`); so it is when the browser fails or takes over
:data:`PRINT_TIMEOUT_S`, the note then naming the browser and its last message.
``MEDXAI_CHROMIUM`` names the browser to use (e.g. Google Chrome); otherwise the first
of :data:`BROWSER_NAMES` on ``PATH``.

The browser runs with a fresh profile in a temporary folder beside the output, without
network features, and prints a copy of the page written there; the report itself is still
published atomically by :mod:`medxai.report.writer`. The page loads nothing (figures
are ``data:`` URIs and its Content-Security-Policy forbids any other source).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from html import unescape
from pathlib import Path

from medxai import __version__
from medxai.atomic import PARTIAL, owner_tag
from medxai.errors import MedxaiError

#: Environment variable naming the Chromium/Chrome executable to print with.
BROWSER_ENV = "MEDXAI_CHROMIUM"
#: Executables looked up on ``PATH``, in order, when :data:`BROWSER_ENV` is unset.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Headless, sandbox off (containers), no GPU, nothing that talks to the network.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
#: Seconds a print may take before the browser is stopped (and the PDF left out).
PRINT_TIMEOUT_S = 120.0
#: The one-line note when no browser is found (the report is written without the PDF).
NO_BROWSER = (
    f"report.pdf not written: no Chromium found (install chromium, or set {BROWSER_ENV} "
    "to a Chromium or Chrome executable); report.html holds the same report"
)


def find_browser() -> Path | None:
    """The browser that prints the PDF, or ``None`` when there is none.

    Raises:
        MedxaiError: :data:`BROWSER_ENV` is set but names no executable file.
    """
    named = os.environ.get(BROWSER_ENV)
    if named:
        path = Path(named).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise MedxaiError(f"{BROWSER_ENV}={named}: not an executable file")
        return path
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def report_pdf(html: str, browser: Path | None, near: Path) -> tuple[bytes | None, str | None]:
    """``(PDF bytes, None)``, or ``(None, a one-line note)`` when no PDF could be printed.

    A missing or failing browser costs the PDF only: the rest of the report is written.
    """
    if browser is None:
        return None, NO_BROWSER
    try:
        return render_pdf(html, browser, near), None
    except MedxaiError as exc:
        return None, f"report.pdf not written: {exc}"


def render_pdf(
    html: str, browser: Path, near: Path, timeout_s: float = PRINT_TIMEOUT_S
) -> bytes:
    """The PDF bytes of the page ``html``, printed by ``browser``.

    The browser works in a temporary sibling of ``near`` (the output the PDF belongs to),
    named by :mod:`medxai.atomic`'s rule, so that a killed run's folder is cleaned by the
    next write; a confined browser (a snap) cannot see the system's temporary folder. The
    PDF's document information holds the page's ``<title>`` and medxai's version (the
    browser's own would name the browser as the creator).

    Raises:
        MedxaiError: the browser failed, timed out, or printed no PDF (one line, with
            the browser's last message).
    """
    try:
        folder = tempfile.mkdtemp(
            prefix=f".{near.name}.{owner_tag()}.", suffix=PARTIAL, dir=near.parent
        )
    except OSError as exc:
        raise MedxaiError(f"{near.parent}: cannot write here ({exc.strerror or exc})") from exc
    try:
        tmp = Path(folder).resolve()  # the browser needs absolute paths and a file:// URI
        page, pdf = tmp / "report.html", tmp / "report.pdf"
        try:
            page.write_text(html, encoding="utf-8")
        except OSError as exc:
            raise MedxaiError(f"{page}: cannot write ({exc.strerror or exc})") from exc
        command = [
            str(browser),
            *BROWSER_FLAGS,
            f"--user-data-dir={tmp / 'profile'}",
            "--no-pdf-header-footer",  # no date, title or URL printed in the margins
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        code, log = _run(command, timeout_s)
        if code is None:
            raise MedxaiError(f"{browser}: printing report.pdf took over {timeout_s:.0f} s")
        if code != 0 or not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF"):
            raise MedxaiError(f"{browser}: printing report.pdf failed ({_last_line(log, code)})")
        data = pdf.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    info = {"Title": unescape(title.group(1).strip()) if title else ""}
    return with_info(data, {**info, "Creator": f"medxai {__version__}", "Producer": "Chromium"})


def _run(command: list[str], timeout_s: float) -> tuple[int | None, str]:
    """Run ``command`` in its own process group; ``(exit code or None on timeout, stderr)``.

    On timeout the whole group (browser and its helper processes) is killed.
    """
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise MedxaiError(f"{command[0]}: cannot start ({exc.strerror or exc})") from exc
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):  # POSIX: the group; elsewhere the browser itself
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.communicate()
        return None, ""
    return process.returncode, (out + err).decode("utf-8", "replace")


def _last_line(log: str, code: int) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return f"exit code {code}" + (f": {lines[-1][:200]}" if lines else "")


def pdf_string(text: str) -> bytes:
    """``text`` as a PDF literal string: ASCII as is, anything else as UTF-16BE with a BOM.

    ``\\``, ``(`` and ``)`` are escaped, and so are CR and LF, which a reader would
    otherwise normalise.
    """
    raw = text.encode("ascii") if text.isascii() else b"\xfe\xff" + text.encode("utf-16-be")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    escaped = escaped.replace(b"\r", b"\\r").replace(b"\n", b"\\n")
    return b"(" + escaped + b")"


#: The last trailer of a PDF with a classic cross-reference table.
_TRAILER = re.compile(rb"trailer\s*<<(?P<dict>.*?)>>\s*startxref\s+(?P<xref>\d+)\s+%%EOF\s*$", re.S)


def with_info(pdf: bytes, info: dict[str, str]) -> bytes:
    """``pdf`` with its document information replaced by ``info``, by an incremental update.

    The original bytes stay as they are; a new information dictionary, a cross-reference
    section for it and a trailer pointing back to the previous one are appended (PDF 1.7,
    7.5.6). A PDF whose last trailer this cannot read is returned unchanged.
    """
    match = _TRAILER.match(pdf, max(pdf.rfind(b"trailer"), 0))
    if match is None:
        return pdf
    fields = match.group("dict")
    size = re.search(rb"/Size\s+(\d+)", fields)
    root = re.search(rb"/Root\s+(\d+\s+\d+\s+R)", fields)
    if size is None or root is None:
        return pdf
    number = int(size.group(1))
    body = b"".join(b"/" + key.encode("ascii") + b" " + pdf_string(v) for key, v in info.items())
    head = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    obj_offset = len(head)
    obj = b"%d 0 obj\n<<%s>>\nendobj\n" % (number, body)
    xref_offset = obj_offset + len(obj)
    tail = (
        b"xref\n%d 1\n%010d 00000 n \ntrailer\n<</Size %d /Root %s /Info %d 0 R /Prev %s>>\n"
        b"startxref\n%d\n%%%%EOF\n"
        % (number, obj_offset, number + 1, root.group(1), number, match.group("xref"), xref_offset)
    )
    return head + obj + tail
