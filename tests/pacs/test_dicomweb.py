"""``medxai report --dicomweb URL --study UID --store`` against a real Orthanc: QIDO-RS,
WADO-RS and STOW-RS end to end, credentials kept out of every output, and each fault as
a one-line error."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pacs_helpers import FRACTIONAL_TOLERANCE, free_port
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from report_runs import Run, run_report

from medxai.errors import InputError, OutputError
from medxai.pacs.credentials import PASSWORD_VAR, USER_VAR, BearerAuth
from medxai.pacs.dicomweb import DicomWebServer
from medxai.pacs.maps import decoded_values
from medxai.pacs.sr import study_probability
from medxai.pacs.stow import stow_report


def store_folder(server: DicomWebServer, folder: Path) -> list[Dataset]:
    """STOW every DICOM file of ``folder``; returns the datasets."""
    datasets = [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    result = server.store(datasets, str(datasets[0].StudyInstanceUID))
    assert not result.failed, result.failed
    return datasets


@contextlib.contextmanager
def all_logs() -> Iterator[list[str]]:
    """Every log record of every logger, at DEBUG, as text."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    root, handler = logging.getLogger(), Keep(logging.DEBUG)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(scope="module")
def pacs_report(orthanc, cr_study, tiny_checkpoint: Path, tmp_path_factory):
    """The fixture study stored in Orthanc, then reported on with --dicomweb and --store."""
    folder, study_uid = cr_study
    tmp = tmp_path_factory.mktemp("pacs_report")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(USER_VAR, orthanc.user)
        patch.setenv(PASSWORD_VAR, orthanc.password)
        netrc = tmp / "netrc"
        netrc.write_text("")
        patch.setenv("NETRC", str(netrc))
        server = DicomWebServer(orthanc.dicomweb)
        sources = store_folder(server, folder)
        # retrieved images are named <SOPInstanceUID>.dcm: the annotations use those names
        names = {"cr1.dcm": f"{sources[0].SOPInstanceUID}.dcm"}
        shapes = json.loads((folder / "annotations.json").read_text())["images"]
        annotations = tmp / "annotations.json"
        annotations.write_text(json.dumps({"images": {names[k]: v for k, v in shapes.items()}}))
        patch.chdir(tmp)  # the default report folder goes to the working folder
        with all_logs() as logs:
            run = run_report(
                [
                    "--dicomweb",
                    orthanc.dicomweb,
                    "--study",
                    study_uid,
                    "--store",
                    "--checkpoint",
                    str(tiny_checkpoint),
                    "--annotations",
                    str(annotations),
                ]
            )
        assert run.code == 0, run.stderr
        # without --show-identifiers the default folder is named by the study's label
        (out,) = tmp.glob("report-*")
        assert re.fullmatch(r"report-[0-9a-f]{12}", out.name)
        summary = json.loads((out / "summary.json").read_text())
        yield server, sources, run, summary, out, logs


@pytest.mark.slow
def test_study_holds_the_new_series(pacs_report, cr_study) -> None:
    server, sources, run, summary, _, _ = pacs_report
    _, study_uid = cr_study
    series = server.client.search_for_series(study_instance_uid=study_uid)
    found = {s["0020000E"]["Value"][0]: s["00080060"]["Value"][0] for s in series}
    expected = {str(ds.SeriesInstanceUID) for ds in sources}
    expected |= {entry["series_instance_uid"] for entry in summary["dicom"]}
    assert set(found) == expected
    assert sorted(found.values()).count("SEG") == 2 and "SR" in found.values()
    assert f"stored {len(summary['dicom'])} DICOM object(s) in study {study_uid}" in run.stderr
    # the report explained both images, with the annotations of the first
    annotated = {e["name"]: e["metrics"] is not None for e in summary["images"]}
    assert annotated == {
        f"{sources[0].SOPInstanceUID}.dcm": True,
        f"{sources[1].SOPInstanceUID}.dcm": False,
    }


@pytest.mark.slow
def test_wado_map_equals_the_report_map(pacs_report, cr_study) -> None:
    server, sources, run, summary, _, _ = pacs_report
    _, study_uid = cr_study
    (analysis,) = run.analyses
    entries = [e for e in summary["dicom"] if e.get("method") == "PCAM±" and "map_" in e["file"]]
    assert len(entries) == len(sources)
    for entry in entries:
        ds = server.retrieve(study_uid, entry["series_instance_uid"], entry["sop_instance_uid"])
        (item,) = [a for a in analysis.images if a.image.name == f"{entry['source']}.dcm"]
        values = decoded_values(ds)[0]
        np.testing.assert_allclose(values, item.maps["PCAM±"], atol=FRACTIONAL_TOLERANCE)
        assert float(np.ptp(item.maps["PCAM±"])) > 0.1


@pytest.mark.slow
def test_sr_probability_equals_the_summary(pacs_report, cr_study) -> None:
    server, _, _, summary, _, _ = pacs_report
    _, study_uid = cr_study
    (entry,) = [e for e in summary["dicom"] if e["object"] == "structured-report"]
    ds = server.retrieve(study_uid, entry["series_instance_uid"], entry["sop_instance_uid"])
    assert study_probability(ds) == pytest.approx(summary["verdict"]["probability"], rel=1e-12)


@pytest.mark.slow
def test_credentials_reach_no_output_and_no_log(pacs_report, orthanc) -> None:
    _, _, run, _, out, logs = pacs_report
    assert any("127.0.0.1" in line for line in logs), "no HTTP request was logged"
    pair = f"{orthanc.user}:{orthanc.password}"
    secrets = [
        orthanc.password.encode(),
        pair.encode(),
        base64.b64encode(pair.encode()),
        orthanc.user.encode(),
    ]
    texts = {"stdout": run.stdout, "stderr": run.stderr, "logs": "\n".join(logs)}
    for name, text in texts.items():
        for secret in secrets:
            assert secret.decode() not in text, name
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".dcm" for p in files) and any(p.name == "report.html" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret not in data, path.name


def test_credentials_in_the_url_are_refused(tmp_path: Path, tiny_checkpoint: Path) -> None:
    url = "http://someone:hunter2@127.0.0.1:9/dicom-web"
    run = run_report(["--dicomweb", url, "--study", "1.2.3", "--checkpoint", str(tiny_checkpoint)])
    assert run.code == 2 and "credentials in the URL are refused" in run.error
    assert "hunter2" not in run.stderr and "someone" not in run.stderr


def test_bearer_token_is_sent_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from requests import Request

    auth = BearerAuth("tok-123")
    request = auth(Request("GET", "http://127.0.0.1/x").prepare())
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert "tok-123" not in repr(auth)


def report_fault(argv: list[str], tiny_checkpoint: Path, out: Path) -> Run:
    """A failing ``report --dicomweb`` run: exit 2, one stderr line, no report folder."""
    run = run_report([*argv, "--checkpoint", str(tiny_checkpoint), "--out", str(out)])
    assert run.code == 2, run.stderr
    assert not out.exists()
    return run


def test_unreachable_server(tmp_path: Path, tiny_checkpoint: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    run = report_fault(["--dicomweb", url, "--study", "1.2.3"], tiny_checkpoint, tmp_path / "o")
    assert run.stderr.count("\n") == 1
    assert url in run.error and "cannot reach the server" in run.error


@pytest.mark.usefixtures("no_credentials")
def test_unauthorised(orthanc, tmp_path: Path, tiny_checkpoint: Path) -> None:
    argv = ["--dicomweb", orthanc.dicomweb, "--study", "1.2.3"]
    run = report_fault(argv, tiny_checkpoint, tmp_path / "o")
    assert run.stderr.count("\n") == 1
    assert "access refused (HTTP 401" in run.error and USER_VAR in run.error


@pytest.mark.usefixtures("no_credentials")
def test_forbidden(
    orthanc, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_checkpoint: Path
) -> None:
    """Orthanc's authorisation filter answers 403 to a user without rights."""
    user, password = orthanc.no_rights
    monkeypatch.setenv(USER_VAR, user)
    monkeypatch.setenv(PASSWORD_VAR, password)
    argv = ["--dicomweb", orthanc.dicomweb, "--study", "1.2.3"]
    run = report_fault(argv, tiny_checkpoint, tmp_path / "o")
    assert run.stderr.count("\n") == 1
    assert f"{orthanc.dicomweb}: forbidden (HTTP 403 Forbidden) for QIDO-RS search" in run.error
    assert "ask its administrator for the right" in run.error and USER_VAR not in run.error
    assert password not in run.stderr and user not in run.stderr


@pytest.mark.usefixtures("no_credentials")
def test_store_forbidden_to_a_reader(
    orthanc, cr_study, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A user who may read but not store: STOW-RS fails as a whole with the 403 message,
    which says that nothing was stored and where the objects are kept."""
    user, password = orthanc.reader
    monkeypatch.setenv(USER_VAR, user)
    monkeypatch.setenv(PASSWORD_VAR, password)
    folder, _ = cr_study
    out = tmp_path / "report"
    (out / "dicom").mkdir(parents=True)
    ds = pydicom.dcmread(folder / "cr2.dcm")
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.save_as(out / "dicom" / "overlay_01.dcm", enforce_file_format=True)
    entry = {"file": "dicom/overlay_01.dcm", "sop_instance_uid": str(ds.SOPInstanceUID)}
    server = DicomWebServer(orthanc.dicomweb)
    with pytest.raises(OutputError) as caught:
        stow_report(server, out, [entry])
    assert str(caught.value) == (
        f"{orthanc.dicomweb}: forbidden (HTTP 403 Forbidden) for STOW-RS of 1 instance(s): "
        "the server does not allow this request to the user of the credentials given; ask "
        f"its administrator for the right; nothing was stored; all objects are kept in {out}"
    )
    with pytest.raises(InputError, match="not found on the server"):  # reading is allowed
        server.instances(generate_uid())
    assert password not in str(caught.value)


@pytest.mark.usefixtures("credentials")
def test_unknown_study(orthanc, tmp_path: Path, tiny_checkpoint: Path) -> None:
    uid = generate_uid()
    run = report_fault(
        ["--dicomweb", orthanc.dicomweb, "--study", uid], tiny_checkpoint, tmp_path / "o"
    )
    assert run.stderr.count("\n") == 1
    assert f"study {uid} not found on the server" in run.error


@pytest.mark.usefixtures("credentials")
def test_study_without_images(orthanc, tmp_path: Path, tiny_checkpoint: Path) -> None:
    study = generate_uid()
    sr = Dataset()
    sr.file_meta = FileMetaDataset()
    sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sr.SOPClassUID = sr.file_meta.MediaStorageSOPClassUID = pydicom.uid.BasicTextSRStorage
    sr.SOPInstanceUID = sr.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    sr.StudyInstanceUID, sr.SeriesInstanceUID = study, generate_uid()
    sr.Modality, sr.PatientID = "SR", "PID-SR"
    server = DicomWebServer(orthanc.dicomweb)
    assert not server.store([sr], study).failed
    run = report_fault(
        ["--dicomweb", orthanc.dicomweb, "--study", study], tiny_checkpoint, tmp_path / "o"
    )
    assert run.stderr.count("\n") == 1
    assert f"study {study} holds no image instance to explain (1 listed; " in run.error
    assert f"skipped instance {sr.SOPInstanceUID}: not an image (structured report" in run.error


@pytest.mark.usefixtures("credentials")
def test_unknown_series(orthanc, cr_study, tmp_path: Path, tiny_checkpoint: Path) -> None:
    folder, study = cr_study
    store_folder(DicomWebServer(orthanc.dicomweb), folder)
    series = generate_uid()
    argv = ["--dicomweb", orthanc.dicomweb, "--study", study, "--series", series]
    run = report_fault(argv, tiny_checkpoint, tmp_path / "o")
    assert f"series {series} of study {study} not found on the server" in run.error


@pytest.mark.usefixtures("no_credentials")
def test_netrc_credentials(
    orthanc, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_checkpoint: Path
) -> None:
    """A netrc entry for the host authenticates: the search runs (and finds nothing)."""
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {orthanc.user} password {orthanc.password}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    uid = generate_uid()
    argv = ["--dicomweb", orthanc.dicomweb, "--study", uid]
    run = report_fault(argv, tiny_checkpoint, tmp_path / "o")
    assert f"study {uid} not found on the server" in run.error
    assert orthanc.password not in run.stderr


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A loopback socket that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/dicom-web"


@pytest.mark.usefixtures("no_credentials")
def test_timeout(tmp_path: Path, tiny_checkpoint: Path) -> None:
    with silent_server() as url:
        argv = ["--dicomweb", url, "--study", "1.2.3", "--timeout", "0.5"]
        run = report_fault(argv, tiny_checkpoint, tmp_path / "o")
    assert run.stderr.count("\n") == 1
    assert url in run.error and "no answer within 0.5 s" in run.error


@pytest.mark.slow
def test_partial_stow_failure_says_what_was_stored(pacs_report, tmp_path: Path) -> None:
    """One object of another study among the report's: the server refuses it alone."""
    server, _, _, summary, out, _ = pacs_report
    copy = tmp_path / "report"
    shutil.copytree(out, copy)
    entries = [dict(e) for e in summary["dicom"]]
    for entry in entries:  # fresh instances, so nothing counts as already stored
        ds = pydicom.dcmread(copy / entry["file"])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        entry["sop_instance_uid"] = str(ds.SOPInstanceUID)
        if entry["object"] == "structured-report":
            ds.StudyInstanceUID = generate_uid()
            refused = entry["file"]
        ds.save_as(copy / entry["file"], enforce_file_format=True)
    entries.sort(key=lambda e: e["object"] == "structured-report")  # a stored one first
    with pytest.raises(OutputError) as caught:
        stow_report(server, copy, entries)  # the server's session holds the credentials
    message = str(caught.value)
    assert "\n" not in message
    assert f"stored {len(entries) - 1} of {len(entries)} DICOM object(s)" in message
    assert f"not stored: {refused} (" in message
    assert all(e["file"] in message for e in entries)
    assert str(copy) in message  # where every object is kept


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give a STUDY_DIR, or --dicomweb URL --study UID"),
        (["study", "--store"], "--store needs --dicomweb URL"),
        (["study", "--study", "1.2.3"], "--study needs --dicomweb URL"),
        (["study", "--dicomweb", "http://127.0.0.1:9/"], "not both"),
        (["--dicomweb", "http://127.0.0.1:9/"], "--dicomweb needs --study UID"),
        (["--dicomweb", "ftp://127.0.0.1/", "--study", "1.2"], "not an http:// or https://"),
        (["--dicomweb", "http://127.0.0.1:9/", "--study", "1.2", "--timeout", "0"], "> 0"),
        (["--dicomweb", "http://127.0.0.1:9/", "--study", "../x"], "is not a DICOM UID"),
        (["--dicomweb", "http://127.0.0.1:9/", "--study", "1.2", "--series", "a"], "--series 'a'"),
    ],
)
def test_option_combinations(argv: list[str], message: str, tiny_checkpoint: Path) -> None:
    run = run_report([*argv, "--checkpoint", str(tiny_checkpoint)])
    assert run.code == 2 and message in run.error
    assert run.stderr.count("\n") == 1
