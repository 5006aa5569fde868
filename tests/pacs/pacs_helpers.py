"""Helpers for the PACS tests: a CR study, dciodvfy, a real Orthanc server.

External programs (Orthanc and its DICOMweb plugin, dciodvfy from dicom3tools) are
Debian packages that ``.ci/run`` installs: a test that needs one is skipped with the
reason when it is absent, except under CI (``CI`` set), where the absence fails it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import requests
from loaders import load_test_module
from pydicom.dataset import Dataset
from pydicom.uid import EnhancedCTImageStorage, XRayAngiographicImageStorage, generate_uid
from system_tools import skip_or_fail

ORTHANC = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
H, W = 64, 48
#: The annotated box of ``cr1.dcm`` (x0, y0, x1, y1).
BOX = (18, 10, 30, 40)
#: A value decoded from a FRACTIONAL Segmentation is within half a step (1/510) of the map.
FRACTIONAL_TOLERANCE = 0.5 / 255 + 1e-6


def require(paths: list[Path], what: str) -> None:
    """Skip (fail under CI) unless every path exists."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        skip_or_fail(f"{what} needs {', '.join(missing)} (Debian packages; .ci/run installs them)")


def dicom_factory() -> ModuleType:
    """``tests/io/dicom_factory.py``, the shared DICOM fixture builder."""
    return load_test_module("io/dicom_factory.py", "medxai_tests_dicom_factory_pacs")


def write_cr_study(folder: Path, study_uid: str | None = None) -> str:
    """Two CR MONOCHROME1 images of one study (a bright "bone", dense = low stored value),
    the first annotated; returns the Study Instance UID."""
    factory = dicom_factory()
    folder.mkdir(parents=True)
    uid = study_uid or generate_uid()
    cols = np.arange(W)[None, :]
    stored = 3400 - 2800 * np.exp(-(((cols - W / 2) / 7) ** 2)) + np.zeros((H, 1))
    stored = stored.astype(np.uint16)
    common = {"photometric": "MONOCHROME1", "bits_stored": 12, "study_uid": uid}
    factory.write_dicom(
        folder / "cr1.dcm", stored, window=(2000, 3600), pixel_spacing=(0.2, 0.2), **common
    )
    factory.write_dicom(folder / "cr2.dcm", np.ascontiguousarray(stored[:, ::-1]), **common)
    x0, y0, x1, y1 = BOX
    box = {"shape": "box", "x0": x0, "y0": y0, "x1": x1, "y1": y1, "label": "fracture"}
    (folder / "annotations.json").write_text(json.dumps({"images": {"cr1.dcm": [box]}}))
    return uid


#: Frames of the multi-frame fixtures.
FRAMES = 2


def _frames(count: int) -> np.ndarray:
    """``count`` different CR-like frames (a bright band moving across the image)."""
    cols = np.arange(W)[None, :]
    frames = [
        1800 - 1400 * np.exp(-(((cols - W / 3 - 6 * k) / 6) ** 2)) + np.zeros((H, 1))
        for k in range(count)
    ]
    return np.stack(frames).astype(np.uint16)


def write_multiframe_study(folder: Path) -> str:
    """One study of two multi-frame sources; returns the Study Instance UID.

    ``xa.dcm``: an X-Ray Angiographic image of :data:`FRAMES` frames without a Frame of
    Reference (a projection image); ``ct.dcm``: an Enhanced CT image of :data:`FRAMES`
    frames with patient geometry (shared orientation and pixel measures, a plane position
    per frame).
    """
    factory = dicom_factory()
    folder.mkdir(parents=True)
    uid = generate_uid()
    xa = factory.make_dicom(_frames(FRAMES), modality="XA", bits_stored=12, study_uid=uid)
    xa.SOPClassUID = xa.file_meta.MediaStorageSOPClassUID = XRayAngiographicImageStorage
    xa.save_as(folder / "xa.dcm", enforce_file_format=True)
    ct = factory.make_dicom(_frames(FRAMES)[::-1].copy(), modality="CT", study_uid=uid)
    ct.SOPClassUID = ct.file_meta.MediaStorageSOPClassUID = EnhancedCTImageStorage
    ct.FrameOfReferenceUID = generate_uid()
    orientation, measures, shared = Dataset(), Dataset(), Dataset()
    orientation.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    measures.PixelSpacing, measures.SliceThickness = [0.5, 0.5], 2.0
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = [orientation], [measures]
    ct.SharedFunctionalGroupsSequence = [shared]
    per_frame = []
    for k in range(FRAMES):
        position, content, item = Dataset(), Dataset(), Dataset()
        position.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
        content.DimensionIndexValues = [k + 1]
        item.PlanePositionSequence, item.FrameContentSequence = [position], [content]
        per_frame.append(item)
    ct.PerFrameFunctionalGroupsSequence = per_frame
    ct.save_as(folder / "ct.dcm", enforce_file_format=True)
    return uid


def dciodvfy_errors(path: Path) -> list[str]:
    """dciodvfy's error lines for one file (skips, or fails under CI, without dciodvfy)."""
    exe = shutil.which("dciodvfy")
    require([Path(exe or "/usr/bin/dciodvfy")], "validation with dciodvfy")
    run = subprocess.run([exe or "dciodvfy", str(path)], capture_output=True, text=True)
    return [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Orthanc's authorisation rule (a Lua request filter; refused requests get HTTP 403):
#: ``medxai-reader`` may only read (GET), ``medxai-no-rights`` nothing, other users all.
AUTHORISATION_LUA = """
function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  if username == 'medxai-reader' then
    return method == 'GET'
  end
  return username ~= 'medxai-no-rights'
end
"""


@dataclass
class Orthanc:
    """A running Orthanc with DICOMweb, authentication and three test users: ``user``
    with every right, ``reader`` who may only read, ``no_rights`` who may do nothing."""

    url: str  # REST root
    dicomweb: str  # DICOMweb service root
    user: str
    password: str
    log: Path
    reader: tuple[str, str]
    no_rights: tuple[str, str]
    port: int


@contextlib.contextmanager
def running_orthanc(folder: Path, startup_s: float = 30.0) -> Iterator[Orthanc]:
    """Start Orthanc on a free loopback port with storage in ``folder``; stop it after."""
    require([ORTHANC, DICOMWEB_PLUGIN], "the DICOMweb tests")
    storage = folder / "storage"
    storage.mkdir(parents=True)
    port = free_port()
    user, password = "medxai-test", secrets.token_urlsafe(16)
    reader = ("medxai-reader", secrets.token_urlsafe(16))
    no_rights = ("medxai-no-rights", secrets.token_urlsafe(16))
    lua = folder / "authorisation.lua"
    lua.write_text(AUTHORISATION_LUA)
    config = {
        "Name": "medxai-test",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "HttpPort": port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {user: password, reader[0]: reader[1], no_rights[0]: no_rights[1]},
        "LuaScripts": [str(lua)],
        "DicomServerEnabled": False,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    log = folder / "orthanc.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(ORTHANC), str(folder / "orthanc.json")], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if process.poll() is not None:
                pytest.fail(f"Orthanc exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                if requests.get(f"{url}/system", auth=(user, password), timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Orthanc did not answer within {startup_s} s")
            time.sleep(0.1)
        yield Orthanc(url, f"{url}/dicom-web", user, password, log, reader, no_rights, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Certificate:
    """A self-signed certificate for 127.0.0.1 (its own authority) and its key."""

    cert: Path  # PEM certificate: the CA bundle a client trusts
    key: Path  # PEM private key


def self_signed_certificate(folder: Path) -> Certificate:
    """A fresh self-signed certificate for the loopback address, valid for a day."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medxai test server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _relay(client: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes (or 30 s of silence)."""
    sockets = [client, upstream]
    while True:
        ready = [client] if client.pending() else select.select(sockets, [], [], 30)[0]
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            (upstream if sock is client else client).sendall(data)


@contextlib.contextmanager
def tls_proxy(port: int, certificate: Certificate) -> Iterator[str]:
    """An HTTPS front for the HTTP server on loopback ``port``: TLS is terminated with
    ``certificate`` and the bytes relayed; yields ``https://127.0.0.1:<port>``.

    Orthanc's own HTTPS (``SslEnabled``) cannot be used: Debian 12's Orthanc 1.10.1 with
    libcivetweb 1.15 crashes (SIGSEGV in a civetweb worker) on the first TLS connection.
    A TLS-terminating front is also how Orthanc is usually deployed.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                with (
                    context.wrap_socket(self.request, server_side=True) as client,
                    socket.create_connection(("127.0.0.1", port)) as upstream,
                ):
                    _relay(client, upstream)
            except (ssl.SSLError, OSError):
                pass  # a client that refuses the certificate, or a closed connection

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"https://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()
