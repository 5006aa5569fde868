"""Fixtures of the PACS tests: a CR study folder, a running Orthanc, its credentials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pacs_helpers import Orthanc, running_orthanc, write_cr_study

from medxai.pacs.credentials import PASSWORD_VAR, TOKEN_VAR, USER_VAR


@pytest.fixture(scope="session")
def cr_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Two annotated CR MONOCHROME1 images of one study, and the Study Instance UID."""
    folder = tmp_path_factory.mktemp("pacs") / "cr_study"
    return folder, write_cr_study(folder)


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """Orthanc with DICOMweb on a free loopback port, authentication on, one test user."""
    with running_orthanc(tmp_path_factory.mktemp("orthanc")) as server:
        yield server


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credential variables and an empty netrc file."""
    for name in (TOKEN_VAR, USER_VAR, PASSWORD_VAR):
        monkeypatch.delenv(name, raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("")
    monkeypatch.setenv("NETRC", str(netrc))


@pytest.fixture
def credentials(orthanc: Orthanc, no_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test user's credentials in the environment."""
    monkeypatch.setenv(USER_VAR, orthanc.user)
    monkeypatch.setenv(PASSWORD_VAR, orthanc.password)
