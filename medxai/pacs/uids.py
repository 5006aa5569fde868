"""UIDs of the objects medxai writes.

Every new Series and SOP Instance UID is ``2.25.<n>``, where ``n`` is the decimal value
of a random (version 4) UUID: the UUID-derived root of ISO/IEC 9834-8, which DICOM
PS3.5 §B.2 allows without registering an organisation root. 122 random bits make a
collision negligible, and the UID carries nothing about the patient, the host or the time.
"""

from __future__ import annotations

import re
import uuid

#: The UID root of every UID medxai creates (ISO/IEC 9834-8 UUID-derived UIDs).
UID_ROOT = "2.25."
#: A DICOM UID (PS3.5 §9.1): numeric components without leading zeros, joined by dots.
UID_PATTERN = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def is_uid(text: str) -> bool:
    """Whether ``text`` is a valid DICOM UID (the pattern, at most 64 characters)."""
    return len(text) <= 64 and UID_PATTERN.fullmatch(text) is not None


def new_uid() -> str:
    """A fresh UID under :data:`UID_ROOT` (at most 2 + 1 + 39 = 42 characters)."""
    return f"{UID_ROOT}{uuid.uuid4().int}"


def device_uid() -> str:
    """The Device Observer UID of medxai in its reports: the same for every run, derived
    from a name-based (version 5) UUID of ``medxai``."""
    return f"{UID_ROOT}{uuid.uuid5(uuid.NAMESPACE_URL, 'medxai').int}"
