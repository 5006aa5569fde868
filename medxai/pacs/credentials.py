"""How medxai connects to a DICOMweb server: the URL it accepts, the request timeout, and
the credentials, which come from the environment or a netrc file, never from the command
line, and are never written to an output or a log.

In order:

1. ``MEDXAI_DICOMWEB_TOKEN``: an ``Authorization: Bearer`` token;
2. ``MEDXAI_DICOMWEB_USER`` and ``MEDXAI_DICOMWEB_PASSWORD``: HTTP basic authentication
   (both or neither);
3. the netrc file (``$NETRC``, else ``~/.netrc``) entry of the server's host;
4. none.

A URL with a user name or password in it is refused: it would end up on the command line
and in the shell history.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth
from requests.utils import get_netrc_auth

from medxai.errors import InputError, MedxaiError

#: Seconds to wait for a DICOMweb server to connect and to answer each request.
DEFAULT_TIMEOUT = 30.0

TOKEN_VAR = "MEDXAI_DICOMWEB_TOKEN"
USER_VAR = "MEDXAI_DICOMWEB_USER"
PASSWORD_VAR = "MEDXAI_DICOMWEB_PASSWORD"
#: How the user is told where credentials go.
WHERE = f"{USER_VAR}/{PASSWORD_VAR}, {TOKEN_VAR} or a netrc entry"


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` on every request (the token is never printed)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<hidden>)"


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL without credentials, else an :class:`InputError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(redact(url), "not an http:// or https:// DICOMweb URL")
    if parts.username or parts.password:
        raise InputError(
            redact(url),
            f"credentials in the URL are refused (they would reach the command line and "
            f"logs); use {WHERE}",
        )
    return url


def redact(url: str) -> str:
    """``url`` without any user name or password."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def credentials(url: str, environ: Mapping[str, str] | None = None) -> AuthBase | None:
    """The authentication for ``url`` (see the module's rules)."""
    env = os.environ if environ is None else environ
    if env.get(TOKEN_VAR):
        return BearerAuth(env[TOKEN_VAR])
    user, password = env.get(USER_VAR), env.get(PASSWORD_VAR)
    if bool(user) != bool(password):
        missing = PASSWORD_VAR if user else USER_VAR
        raise MedxaiError(f"{missing} is not set: set both {USER_VAR} and {PASSWORD_VAR}")
    if user and password:
        return HTTPBasicAuth(user, password)
    netrc = get_netrc_auth(url)
    return HTTPBasicAuth(*netrc) if netrc else None
