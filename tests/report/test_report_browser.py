"""The HTML report in a real browser (headless Chromium), and escaping of hostile text.

Skipped with a reason when Chromium or chromedriver is absent, except under CI (the
``CI`` environment variable set), where their absence fails the test.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from report_helpers import load_dicom_factory, require_browser
from system_tools import skip_or_fail

from medxai.cli import main
from medxai.report.render_pdf import BROWSER_FLAGS, find_browser

CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: The flags that print report.pdf, and a window tall enough for the summary.
CHROME_FLAGS = (*BROWSER_FLAGS, "--window-size=1280,2400")
PATIENT_NAME = "<script>alert(1)</script>"
FOLDER_NAME = "study<script>alert(2)"


@pytest.fixture(scope="module")
def escaped_report(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoint: Path) -> Path:
    """A DICOM study whose folder name and PatientName hold markup, reported with
    ``--show-identifiers`` through the command line (progress bars on)."""
    factory = load_dicom_factory()
    root = tmp_path_factory.mktemp("hostile")
    study = root / FOLDER_NAME
    study.mkdir()
    pixels = np.tile(np.linspace(200, 3800, 48, dtype=np.uint16), (64, 1))
    patient = {**factory.PATIENT, "PatientName": PATIENT_NAME}
    factory.write_dicom(study / "image.dcm", pixels, bits_stored=12, patient=patient)
    out = root / "escaped_report"
    argv = [
        "report",
        str(study),
        "--checkpoint",
        str(tiny_checkpoint),
        "--out",
        str(out),
        "--channel-budget",
        "1",
        "--regions",
        "1",
        "--show-identifiers",
    ]
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert main(argv) == 0
    # a progress bar per image and method, then the verdict, on stderr
    log = stderr.getvalue()
    assert "image.dcm · CAM" in log and "image.dcm · PCAM±" in log and "2/2" in log
    assert "report written to" in log
    return out


def test_markup_is_escaped_in_the_html(escaped_report: Path) -> None:
    page = (escaped_report / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert html.escape(PATIENT_NAME, quote=False) in page
    assert html.escape(FOLDER_NAME, quote=False) in page
    summary = json.loads((escaped_report / "summary.json").read_text(encoding="utf-8"))
    assert summary["study"]["id"] == FOLDER_NAME
    assert summary["study"]["identifiers"]["PatientName"] == PATIENT_NAME
    assert summary["study"]["identifiers"]["PatientID"] == "PID-0001"


def test_markup_is_plain_text_in_the_pdf(escaped_report: Path) -> None:
    """The printed report shows the hostile strings as text, like the page."""
    pypdf = pytest.importorskip("pypdf")
    pdf = escaped_report / "report.pdf"
    require_browser()
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert PATIENT_NAME in text and FOLDER_NAME in text


def chromium():
    """A headless Chromium driver, or skip (fail under CI) when it is not installed."""
    browser = find_browser()
    missing = [] if browser else ["Chromium"]
    missing += [str(CHROMEDRIVER)] if not CHROMEDRIVER.exists() else []
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package")
    if missing:
        skip_or_fail(f"headless browser test needs {', '.join(missing)}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def check_page(driver, report: Path, shot: Path, expected_text: list[str]) -> None:
    """Open ``report``; every image decodes, no script runs, the page is not blank."""
    from selenium.common.exceptions import NoAlertPresentException

    driver.get(report.as_uri())
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 — raises when no alert was opened
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
    )
    assert images, "the report shows no image"
    assert all(complete and width > 0 for complete, width in images), images
    text = driver.execute_script("return document.body.innerText;")
    for expected in expected_text:
        assert expected in text
    assert driver.execute_script("return document.scripts.length;") == 0
    driver.save_screenshot(str(shot))
    with Image.open(io.BytesIO(shot.read_bytes())) as png:
        pixels = np.asarray(png.convert("L"), dtype=np.float32)
    assert pixels.std() > 10.0, "the screenshot is blank"


@pytest.mark.browser
def test_reports_render_in_headless_chromium(png_report, escaped_report: Path, tmp_path) -> None:
    driver = chromium()
    try:
        check_page(
            driver,
            png_report.html,
            tmp_path / "png_report.png",
            [
                png_report.summary["verdict"]["text"],
                "Pointing game hit",
                "image1.png",
                "Is each map specific to the decision?",
                "⚠ check",  # the untrained model's PCAM± map is flagged
                png_report.summary["images"][0]["methods"]["PCAM±"]["flags"][0],
            ],
        )
        flags = driver.execute_script(
            "return Array.from(document.querySelectorAll('.sanity-flag'))"
            ".map(e => [e.offsetWidth, e.offsetHeight, getComputedStyle(e).color]);"
        )
        assert flags and all(w > 0 and h > 0 for w, h, _ in flags), flags
        assert all(color == "rgb(138, 75, 0)" for _, _, color in flags), flags
        check_page(
            driver,
            escaped_report / "report.html",
            tmp_path / "escaped_report.png",
            [PATIENT_NAME, FOLDER_NAME],
        )
        assert "medxai report" in driver.title and FOLDER_NAME in driver.title
    finally:
        driver.quit()
    keep = os.environ.get("MEDXAI_KEEP_SCREENSHOTS")
    if keep:
        for shot in tmp_path.glob("*.png"):
            shutil.copy(shot, Path(keep) / shot.name)
