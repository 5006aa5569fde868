"""A time limit for tests that read hostile files: a case fails instead of hanging."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class Hang(TimeoutError):
    """A case ran past its time limit."""


@contextmanager
def time_limit(seconds: int, what: str = "the case") -> Iterator[None]:
    """Raise :class:`Hang` when the block runs longer than ``seconds`` (main thread only)."""

    def expired(signum: int, frame: object) -> None:
        raise Hang(f"{what}: no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
