"""Tests that need a system package (Chromium, Orthanc, dciodvfy): skipped with a reason
when it is absent, except under CI (the ``CI`` environment variable set), where its
absence fails them."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test for ``reason``; fail it instead when CI is set."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required when CI is set)")
    pytest.skip(reason)
