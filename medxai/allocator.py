"""Keep large freed tensors' memory in the process, so CPU inference stops re-faulting it.

glibc's ``malloc`` serves every block above its mmap threshold (at most 32 MiB by
default) with a fresh ``mmap`` and returns it with ``munmap`` when freed. A masked batch
of a ResNet-50 at 320 px allocates and frees hundreds of activation blocks of 10–400 MB
per forward pass, so every pass maps new pages and the kernel zero-fills each one on its
first touch: about 1.9 million page faults per 64 images, a fifth of the CPU time spent in
the kernel (docs/benchmarks.md, "CPU allocator").

:func:`keep_freed_memory` raises the mmap threshold to :data:`MMAP_THRESHOLD` and the
trim threshold to :data:`TRIM_THRESHOLD`, so those blocks come from the heap and freed
ones are reused by the next pass. The cost is memory: up to :data:`TRIM_THRESHOLD` of
freed memory stays with the process until it exits.

It acts only on glibc (Linux) and only once per process; elsewhere, or when the
environment variable :data:`OPT_OUT` is ``0``, it does nothing. The ``medxai`` command
line and ``train.py`` call it at start.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

#: Blocks up to this size come from the heap instead of their own ``mmap``.
MMAP_THRESHOLD = 1 << 30
#: Freed memory at the top of the heap is given back to the system above this size.
TRIM_THRESHOLD = 1 << 30
#: Set this environment variable to ``0`` to leave the allocator as it is.
OPT_OUT = "MEDXAI_KEEP_FREED_MEMORY"

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Apply the thresholds once per process; True when glibc accepted both."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get(OPT_OUT, "1") == "0":
        return _applied
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    except OSError:
        mallopt = None
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        return _applied
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _applied
