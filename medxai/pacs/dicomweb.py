"""A DICOMweb server: QIDO-RS search, WADO-RS retrieval and STOW-RS storage, with every
network or HTTP problem turned into a one-line error naming the server.

Built on dicomweb-client with a :class:`requests.Session` (so HTTPS and proxies work as
usual), credentials from :mod:`medxai.pacs.credentials`, one timeout for every request
and no automatic retries (a failed command is rerun as a whole).

Which certificate authorities an HTTPS server's certificate must chain to: the PEM file
given as ``ca_bundle`` (``--ca-bundle``), else ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE``, else the public authorities of ``certifi`` (not the operating
system's store).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset

from medxai.errors import InputError, OutputError
from medxai.pacs.credentials import DEFAULT_TIMEOUT, WHERE, check_url, credentials

# DICOM JSON keys of the QIDO-RS attributes used here.
SOP_CLASS, SOP_INSTANCE, SERIES = "00080016", "00080018", "0020000E"


def json_value(entry: dict[str, Any], tag: str) -> str | None:
    """The first value of ``tag`` in a DICOM JSON object, as text."""
    values = entry.get(tag, {}).get("Value") or []
    return str(values[0]) if values else None


def _reason(exc: BaseException) -> str:
    """The short cause of a connection error (``[Errno 111] Connection refused``)."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if match:
        return match.group(0).strip()
    return type(exc).__name__


def _tls_reason(exc: BaseException) -> str:
    """The short cause of a TLS failure (``certificate verify failed: self-signed
    certificate``)."""
    match = re.search(r"certificate verify failed: [^(')\]]*", str(exc))
    return match.group(0).strip() if match else _reason(exc)


class _Session(requests.Session):
    """A session whose ``ca_bundle``, when given, wins over ``REQUESTS_CA_BUNDLE`` (a plain
    session lets the environment variable override its ``verify``)."""

    def __init__(self, ca_bundle: Path | None) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle

    def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        settings = super().merge_environment_settings(*args, **kwargs)
        if self.ca_bundle is not None:
            settings["verify"] = str(self.ca_bundle)
        return settings


@dataclass
class StoreResult:
    """What a STOW-RS request stored and what it did not (SOP Instance UID → reason)."""

    stored: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class DicomWebServer:
    """One DICOMweb service root, e.g. ``https://pacs.example.org/dicom-web``."""

    def __init__(
        self, url: str, timeout: float = DEFAULT_TIMEOUT, ca_bundle: Path | None = None
    ) -> None:
        self.url = check_url(url).rstrip("/")
        self.timeout = float(timeout)
        if ca_bundle is not None and not Path(ca_bundle).is_file():
            raise InputError(ca_bundle, "--ca-bundle: no such file (a PEM file of CA certificates)")
        session = _Session(None if ca_bundle is None else Path(ca_bundle))
        session.auth = credentials(self.url)
        self.client = DICOMwebClient(self.url, session=session, timeout=self.timeout)
        self.client.set_http_retry_params(retry=False)

    @contextlib.contextmanager
    def _request(self, what: str, error: type = InputError) -> Iterator[None]:
        """Turn the failures of one request into a one-line ``error`` naming the server."""
        try:
            yield
        except requests.exceptions.Timeout:
            raise error(self.url, f"no answer within {self.timeout:g} s ({what})") from None
        except requests.exceptions.SSLError as exc:
            raise error(
                self.url,
                f"TLS failure ({what}): {_tls_reason(exc)}; to trust the server's certificate "
                "authority, give its PEM file with --ca-bundle",
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise error(self.url, f"cannot reach the server ({what}): {_reason(exc)}") from None
        except requests.exceptions.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            reason = exc.response.reason if exc.response is not None else ""
            if status == 401:
                raise error(
                    self.url, f"access refused (HTTP 401 {reason}) for {what}: check {WHERE}"
                ) from None
            if status == 403:
                raise error(
                    self.url,
                    f"forbidden (HTTP 403 {reason}) for {what}: the server does not allow "
                    "this request to the user of the credentials given; ask its "
                    "administrator for the right",
                ) from None
            raise error(self.url, f"HTTP {status} {reason} for {what}") from None
        except requests.exceptions.RequestException as exc:
            raise error(self.url, f"{what} failed ({type(exc).__name__})") from None

    def instances(self, study: str, series: str | None = None) -> list[dict[str, Any]]:
        """QIDO-RS: the instances of ``study`` (optionally one ``series``) as DICOM JSON.

        Raises:
            InputError: the study (or series) is unknown to the server.
        """
        what = f"QIDO-RS search of study {study}" + (f" series {series}" if series else "")
        try:
            with self._request(what):
                found = self.client.search_for_instances(
                    study_instance_uid=study, series_instance_uid=series, get_remaining=True
                )
        except InputError as exc:
            if "HTTP 404" not in exc.problem:
                raise
            found = []
        if not found:
            unknown = f"series {series} of study {study}" if series else f"study {study}"
            raise InputError(self.url, f"{unknown} not found on the server")
        return list(found)

    def retrieve(self, study: str, series: str, instance: str) -> Dataset:
        """WADO-RS: one instance as a pydicom dataset."""
        with self._request(f"WADO-RS retrieval of instance {instance}"):
            return self.client.retrieve_instance(study, series, instance)

    def store(self, datasets: Sequence[Dataset], study: str | None = None) -> StoreResult:
        """STOW-RS: store ``datasets`` (into ``study``: the server refuses instances of
        another study); returns what was stored and what failed.

        A request that fails as a whole (unreachable, refused) raises an
        :class:`~medxai.errors.OutputError`; per-instance failures are returned.
        """
        what = f"STOW-RS of {len(datasets)} instance(s)"
        try:
            with self._request(what, OutputError):
                response = self.client.store_instances(list(datasets), study_instance_uid=study)
        except OutputError as exc:
            # 409 Conflict: some or all instances failed; the body says which
            response = _failure_response(exc.__context__)
            if response is None:
                raise
        return store_result(response, datasets)


def _failure_response(cause: BaseException | None) -> Dataset | None:
    """The DICOM JSON body of a failed STOW-RS (HTTP 409), when the server sent one."""
    if not isinstance(cause, requests.exceptions.HTTPError) or cause.response is None:
        return None
    if cause.response.status_code != 409:
        return None
    try:
        return Dataset.from_json(cause.response.json())
    except ValueError:
        return None


def store_result(response: Dataset, sent: Sequence[Dataset]) -> StoreResult:
    """Read a STOW-RS response: Referenced SOP Sequence (stored) and Failed SOP Sequence.

    An instance in neither is counted as not stored ("no status in the response").
    """
    result = StoreResult()
    for item in response.get("ReferencedSOPSequence") or []:
        result.stored.append(str(item.ReferencedSOPInstanceUID))
    for item in response.get("FailedSOPSequence") or []:
        code = item.get("FailureReason")
        result.failed[str(item.ReferencedSOPInstanceUID)] = (
            f"failure reason 0x{int(code):04X}" if code is not None else "failed"
        )
    for ds in sent:
        uid = str(ds.SOPInstanceUID)
        if uid not in result.stored and uid not in result.failed:
            result.failed[uid] = "no status in the response"
    return result
