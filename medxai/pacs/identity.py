"""How medxai names itself in the DICOM objects it writes: equipment, series, labels."""

from __future__ import annotations

import re

from medxai import __version__

#: General Equipment module of every object medxai writes.
MANUFACTURER = "medxai"
MODEL_NAME = "medxai report"
SOFTWARE_VERSION = __version__
#: Device Serial Number is required by the SEG and PM IODs; a software device has none.
DEVICE_SERIAL = "0"

#: Series numbers of the new series (high, so they sort after the acquisition's series).
SERIES_NUMBER_MAPS = 9100  # + method index: one map series per method
SERIES_NUMBER_CAPTURE = 9200
SERIES_NUMBER_SR = 9300


def ascii_label(label: str) -> str:
    """A method label in DICOM's default character repertoire: ``PCAM±`` → ``PCAM+-``."""
    return label.replace("±", "+-").encode("ascii", "replace").decode("ascii")


def code_string(label: str, limit: int = 16) -> str:
    """A Code String value (A–Z, 0–9, space, ``_``): ``PCAM±`` → ``PCAMPM``."""
    text = label.upper().replace("±", "PM").replace("+", "P").replace("-", "M")
    return re.sub(r"[^A-Z0-9_ ]", "_", text)[:limit]
