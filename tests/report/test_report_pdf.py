"""``report.pdf``: ``report.html`` printed by headless Chromium; the figures' dark matte.

The tests that print need Chromium: they are skipped with a reason when it is absent,
except under CI (the ``CI`` environment variable set), where its absence fails them.
"""

from __future__ import annotations

import io
import re
import stat
import time
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image
from report_helpers import require_browser, write_png

from medxai.cli import main
from medxai.errors import MedxaiError
from medxai.report.figures import MATTE_COLOR, MATTE_PT, add_mattes
from medxai.report.render_pdf import (
    BROWSER_ENV,
    NO_BROWSER,
    find_browser,
    render_pdf,
    report_pdf,
    with_info,
)
from medxai.viz.figures import ImagePanels, figure_png, overview_figure

pypdf = pytest.importorskip("pypdf")

#: A4 in PostScript points, as printed by Chromium (to the nearest point).
A4_PT = (595, 842)


def page_texts(pdf: Path | bytes) -> list[str]:
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_pdf_text_holds_the_verdict_and_every_image_name(png_report) -> None:
    require_browser()
    summary = png_report.summary
    texts = page_texts(png_report.pdf)
    everything = "\n".join(texts)
    assert summary["verdict"]["text"] in texts[0]  # the verdict is on the first page
    names = [image["name"] for image in summary["images"]]
    assert names == ["image1.png", "image2.png"]
    for name in names:
        assert name in everything
    assert "image3.png" in texts[0]  # the skipped file's warning
    reader = pypdf.PdfReader(io.BytesIO(png_report.pdf.read_bytes()))
    assert reader.metadata.title == f"medxai report — {summary['study']['id']}"
    assert reader.metadata.creator.startswith("medxai ")


def test_pdf_pages_are_a4_and_keep_each_figure_with_its_caption(png_report) -> None:
    """Print stylesheet: A4; the summary first; each figure on a page of its own, under its
    image's heading (overview), the zoom heading or the sanity heading (reference maps),
    and above its caption."""
    require_browser()
    reader = pypdf.PdfReader(io.BytesIO(png_report.pdf.read_bytes()))
    for page in reader.pages:
        size = (round(float(page.mediabox.width)), round(float(page.mediabox.height)))
        assert size == A4_PT
    assert len(reader.pages[0].images) == 0
    figure_pages = [page for page in reader.pages if page.images]
    images = png_report.summary["images"]
    assert len(figure_pages) == sum(len(image["figures"]) for image in images)
    pages = zip(*[iter(figure_pages)] * 3)
    for image, (overview, zoom, references) in zip(images, pages, strict=True):
        assert len(overview.images) == len(zoom.images) == len(references.images) == 1
        overview_text, zoom_text = overview.extract_text(), zoom.extract_text()
        assert f"Image {image['index'] + 1}: {image['name']}" in overview_text
        assert "Original radiograph, then the CAM and PCAM± maps" in overview_text
        assert "Zoomed salient regions" in zoom_text
        assert "Region 1:" in zoom_text  # the zoom figure's caption
        references_text = references.extract_text()
        assert "Is each map specific to the decision?" in references_text
        assert "Reference maps: for each method" in references_text


def test_report_page_loads_nothing(png_report) -> None:
    """Every source in the page is a ``data:`` URI, and its policy forbids any other."""
    page = png_report.html.read_text(encoding="utf-8")
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
    assert "url(" not in page and "@import" not in page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy and "default-src 'none'" in policy.group(1)
    assert "img-src data:" in policy.group(1)


def fake_browser(folder: Path, script: str) -> Path:
    path = folder / "fake-chromium"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


#: Headless, and nothing that reaches the network: what Chromium must be run with here.
ISOLATION_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: A stand-in browser that records its arguments and prints a one-line "PDF".
PRINTING = """for a in "$@"; do echo "$a" >> "$(dirname "$0")/args"; done
for a in "$@"; do case "$a" in --print-to-pdf=*) echo "%PDF-1.4 x" > "${a#*=}";; esac; done"""


def test_the_browser_works_beside_the_output_and_cleans_up(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    browser = fake_browser(tools, PRINTING)
    out = tmp_path / "reports" / "study_report"
    out.parent.mkdir()
    assert render_pdf("<title>t</title>", browser, out) == b"%PDF-1.4 x\n"
    args = (tools / "args").read_text().splitlines()
    assert set(ISOLATION_FLAGS) <= set(args)
    work = {Path(a.split("=", 1)[1]).parent for a in args if a.startswith("--print-to-pdf=")}
    profile = [Path(a.split("=", 1)[1]) for a in args if a.startswith("--user-data-dir=")]
    page = Path(args[-1].removeprefix("file://"))
    assert len(work) == 1 and profile == [next(iter(work)) / "profile"]
    assert page.parent in work and page.parent.parent == out.parent
    assert page.parent.name.startswith(".study_report.") and page.parent.name.endswith(".partial")
    assert list(out.parent.iterdir()) == []  # the work folder is gone


def test_a_relative_output_folder_prints_from_absolute_paths(
    tmp_path: Path, monkeypatch
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    browser = fake_browser(tools, PRINTING)
    monkeypatch.chdir(tmp_path)
    assert render_pdf("<title>t</title>", browser, Path("report")) == b"%PDF-1.4 x\n"
    args = (tools / "args").read_text().splitlines()
    assert args[-1].startswith("file:///")
    pdfs = [Path(a.split("=", 1)[1]) for a in args if a.startswith("--print-to-pdf=")]
    assert pdfs and all(path.is_absolute() for path in pdfs)


def test_a_failing_browser_is_one_clear_error(tmp_path: Path) -> None:
    browser = fake_browser(tmp_path, 'echo "noise" >&2; echo "cannot open display" >&2; exit 3')
    out = tmp_path / "report"
    with pytest.raises(MedxaiError) as caught:
        render_pdf("<title>t</title>", browser, out)
    message = str(caught.value)
    assert message == f"{browser}: printing report.pdf failed (exit code 3: cannot open display)"
    # in a report, it costs the PDF only, with that message as the note
    note = f"report.pdf not written: {message}"
    assert report_pdf("<title>t</title>", browser, out) == (None, note)
    assert report_pdf("<title>t</title>", None, out) == (None, NO_BROWSER)
    silent = fake_browser(tmp_path, "exit 0")  # exits cleanly but prints nothing
    with pytest.raises(MedxaiError, match=re.escape("printing report.pdf failed (exit code 0)")):
        render_pdf("<title>t</title>", silent, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-chromium"]


def test_a_hanging_browser_is_stopped(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    browser = fake_browser(tmp_path, f"(sleep 1; touch {marker}) & sleep 30")
    with pytest.raises(MedxaiError, match=r"printing report\.pdf took over 1 s$"):
        render_pdf("<title>t</title>", browser, tmp_path / "report", timeout_s=0.6)
    time.sleep(1.5)  # the whole process group was killed: the child never touches
    assert not marker.exists()


def test_browser_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    browser = fake_browser(tmp_path, "exit 0")
    monkeypatch.setenv(BROWSER_ENV, str(browser))
    assert find_browser() == browser
    monkeypatch.setenv(BROWSER_ENV, str(tmp_path / "missing"))
    with pytest.raises(MedxaiError, match=f"^{BROWSER_ENV}=.*missing: not an executable file$"):
        find_browser()
    monkeypatch.delenv(BROWSER_ENV)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_browser() is None


def test_document_information_is_replaced(tmp_path: Path) -> None:
    """An incremental update sets the title, whatever characters it holds."""
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": "old", "/Creator": "someone else"})
    buffer = io.BytesIO()
    writer.write(buffer)
    title = "medxai report — study (1) \\ <b>\r\nx"
    updated = with_info(buffer.getvalue(), {"Title": title, "Creator": "medxai"})
    assert updated.startswith(buffer.getvalue())  # the original bytes are kept
    reader = pypdf.PdfReader(io.BytesIO(updated), strict=True)
    assert reader.metadata.title == title
    assert reader.metadata.creator == "medxai"
    assert len(reader.pages) == 1
    assert with_info(b"%PDF-1.4 no trailer", {"Title": "x"}) == b"%PDF-1.4 no trailer"


def _one_image_study(tmp_path: Path) -> Path:
    """A study folder holding one 64×48 radiograph."""
    study = tmp_path / "study"
    study.mkdir()
    write_png(study / "image1.png", 64, 48)
    return study


@pytest.mark.slow
def test_without_a_browser_the_report_is_written_without_pdf(
    tmp_path: Path, tiny_checkpoint: Path, monkeypatch, capsys
) -> None:
    study = _one_image_study(tmp_path)
    monkeypatch.delenv(BROWSER_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "report"
    argv = ["report", str(study), "--checkpoint", str(tiny_checkpoint), "--out", str(out)]
    code = main([*argv, "--channel-budget", "1", "--regions", "0", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.splitlines().count(NO_BROWSER) == 1
    assert (out / "report.html").is_file() and (out / "summary.json").is_file()
    assert not (out / "report.pdf").exists()


def test_a_browser_that_is_not_executable_fails_before_any_work(
    tmp_path: Path, tiny_checkpoint: Path, monkeypatch, capsys
) -> None:
    study = _one_image_study(tmp_path)
    monkeypatch.setenv(BROWSER_ENV, str(study / "image1.png"))
    out = tmp_path / "report"
    code = main(["report", str(study), "--checkpoint", str(tiny_checkpoint), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert err.endswith(f": {BROWSER_ENV}={study / 'image1.png'}: not an executable file")
    assert len(err.splitlines()) == 1
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["study"]


def test_image_panels_sit_on_a_dark_matte() -> None:
    """A white-bordered image keeps its edges on the white page: dark pixels surround it."""
    image = np.ones((60, 40), np.float32)  # all white, like a MONOCHROME1 collimated border
    panels = ImagePanels(name="white.png", image=image, maps={"CAM": np.zeros_like(image)})
    fig = add_mattes(overview_figure(panels))
    dpi = 100
    with Image.open(io.BytesIO(figure_png(fig, dpi))) as png:
        pixels = np.asarray(png.convert("RGB"), dtype=np.float32) / 255.0
    height = pixels.shape[0]
    matte = np.array(to_rgb(MATTE_COLOR))
    width_px = MATTE_PT * dpi / 72.0
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 2
    for ax in image_axes:
        x0, y0, x1, y1 = ax.get_window_extent().extents
        top, bottom = height - y1, height - y0  # image rows
        inside = pixels[int(top) + 3, int((x0 + x1) / 2)]
        assert inside.min() > 0.95  # the white image itself, not covered
        rows = (top - width_px / 2, bottom + width_px / 2)  # halfway across the matte
        cols = (x0 - width_px / 2, x1 + width_px / 2)
        middle_row, middle_col = int((top + bottom) / 2), int((x0 + x1) / 2)
        for row in rows:
            np.testing.assert_allclose(pixels[int(row), middle_col], matte, atol=0.05)
        for col in cols:
            np.testing.assert_allclose(pixels[middle_row, int(col)], matte, atol=0.05)
    x0 = image_axes[0].get_window_extent().x0
    beyond = pixels[middle_row, int(x0 - 1.5 * width_px)]
    assert beyond.min() > 0.95  # the figure's white background beyond the matte
    assert pixels[0, 0].min() > 0.95 and pixels[-1, -1].min() > 0.95
