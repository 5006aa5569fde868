"""``--dicomweb https://…``: a real Orthanc behind a TLS front with a self-signed
certificate, trusted through ``--ca-bundle`` or ``REQUESTS_CA_BUNDLE``, and refused with
a one-line error when not trusted."""

from __future__ import annotations

from pathlib import Path

import certifi
import numpy as np
import pydicom
import pytest
from pacs_helpers import Certificate, Orthanc, self_signed_certificate, tls_proxy
from pydicom.uid import generate_uid
from report_runs import run_report

from medxai.pacs.dicomweb import DicomWebServer

CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(scope="module")
def https_orthanc(orthanc: Orthanc, tmp_path_factory: pytest.TempPathFactory):
    """The test Orthanc's DICOMweb root over HTTPS, and the certificate to trust."""
    certificate = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    with tls_proxy(orthanc.port, certificate) as root:
        yield f"{root}/dicom-web", certificate


@pytest.fixture
def no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def unknown_study_run(url: str, tiny_checkpoint: Path, tmp_path: Path, *extra: str):
    """A run on a study the server does not hold: it fails only after a successful,
    authenticated QIDO-RS search, so its message says whether the connection worked."""
    uid = generate_uid()
    out = tmp_path / "o"
    argv = ["--dicomweb", url, "--study", uid, "--checkpoint", str(tiny_checkpoint)]
    run = run_report([*argv, *extra, "--out", str(out)])
    assert run.code == 2 and run.stderr.count("\n") == 1, run.stderr
    assert not out.exists()
    return run, uid


@pytest.mark.usefixtures("credentials", "no_ca_variables")
def test_store_search_and_retrieve_over_https(https_orthanc, cr_study) -> None:
    url, certificate = https_orthanc
    folder, study = cr_study
    server = DicomWebServer(url, ca_bundle=certificate.cert)
    source = pydicom.dcmread(folder / "cr1.dcm")
    assert not server.store([source], study).failed
    listed = server.instances(study, str(source.SeriesInstanceUID))
    assert [e["00080018"]["Value"][0] for e in listed] == [source.SOPInstanceUID]
    back = server.retrieve(study, str(source.SeriesInstanceUID), str(source.SOPInstanceUID))
    np.testing.assert_array_equal(back.pixel_array, source.pixel_array)


@pytest.mark.usefixtures("credentials", "no_ca_variables")
@pytest.mark.parametrize(
    ("variable", "option"),
    [
        (None, True),  # --ca-bundle alone
        ("public", True),  # --ca-bundle wins over REQUESTS_CA_BUNDLE (public CAs only)
        ("server", False),  # REQUESTS_CA_BUNDLE alone
    ],
)
def test_the_server_certificate_is_trusted_through_the_documented_ways(
    https_orthanc,
    tiny_checkpoint: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str | None,
    option: bool,
) -> None:
    url, certificate = https_orthanc
    if variable is not None:
        bundle = certifi.where() if variable == "public" else str(certificate.cert)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    extra = ["--ca-bundle", str(certificate.cert)] if option else []
    run, uid = unknown_study_run(url, tiny_checkpoint, tmp_path, *extra)
    assert run.error.endswith(f" {url}: study {uid} not found on the server")


@pytest.mark.usefixtures("credentials", "no_ca_variables")
def test_untrusted_certificate(https_orthanc, tiny_checkpoint: Path, tmp_path: Path) -> None:
    url, _ = https_orthanc
    run, _ = unknown_study_run(url, tiny_checkpoint, tmp_path)
    assert f" {url}: TLS failure (QIDO-RS search of study " in run.error
    assert "certificate verify failed: self-signed certificate" in run.error
    assert "--ca-bundle" in run.error


@pytest.mark.usefixtures("no_ca_variables")
def test_missing_ca_bundle_file(tiny_checkpoint: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    argv = ["--dicomweb", "https://127.0.0.1:9/dicom-web", "--study", "1.2.3"]
    run = run_report([*argv, "--ca-bundle", str(missing), "--checkpoint", str(tiny_checkpoint)])
    assert run.code == 2 and run.stderr.count("\n") == 1
    assert f" {missing}: --ca-bundle: no such file" in run.error


def test_certificate_helper_is_self_signed(tmp_path: Path) -> None:
    from cryptography import x509

    certificate: Certificate = self_signed_certificate(tmp_path)
    cert = x509.load_pem_x509_certificate(certificate.cert.read_bytes())
    assert cert.issuer == cert.subject
