"""The decoding boundary: every image decoder call goes through :func:`decoding`.

Decoders are native code fed untrusted bytes, and what they raise on damaged data
varies: ``OSError``, ``ValueError``, ``struct.error``, ``zlib.error``… and pyo3's
``PanicException``, which pylibjpeg-rle's Rust decoder raises on damaged RLE segments and
which derives from ``BaseException``, so ``except Exception`` misses it. Inside
:func:`decoding`, anything raised becomes ``InputError(path, problem)``; only
``KeyboardInterrupt`` and ``SystemExit`` pass, a :class:`~medxai.errors.MedxaiError`
passes unchanged, and ``MemoryError`` is reported as such. A study's reader then lists
the file as skipped and goes on with the others.

PNG and JPEG files are opened by :func:`pil_image`, which adds the file-access rule
(:mod:`medxai.io.files`) and the size policy (:mod:`medxai.io.radiograph`) to Pillow,
and refuses, from the header, a file too small to hold the pixels it announces
(:data:`DEFLATE_MAX_RATIO` for PNG, :data:`JPEG_MAX_PIXELS_PER_BYTE` for JPEG).

**Compressed DICOM pixel data** (JPEG, JPEG-LS, JPEG 2000, RLE) is decoded by
:func:`isolated`, in a worker process, so that a decoder that crashes the process
(segmentation fault, abort), hangs, or allocates without bound takes down only the
worker: the file is skipped with a one-line reason, and the next file gets a fresh
worker. The worker is a fresh interpreter started with :mod:`subprocess` once per
process (never a fork of a parent holding torch, threads or a GPU context, and never a
second run of the caller's main script) and then reused; its stderr, where native
decoders print their panics, is discarded. A task gets a time limit of
:data:`DECODE_SECONDS` plus :data:`DECODE_SECONDS_PER_MEGAPIXEL` per million pixels, and
an address-space limit of the worker's own size plus :func:`memory_allowance` of the
pixels to decode.

Measured cost (a shared, busy 2-core machine, median of 9 decodes, timing
``medxai.io.dicom.decode_pixels`` in the process against ``_decode``): a 2,000 × 2,500
12-bit RLE image, 44 ms in the process and 150 ms through the worker (5 MB in and 10 MB
out through pipes); a 64 × 64 JPEG 2000, 2.0 ms and 5.3 ms; a 2,000 × 2,500 JPEG 2000,
1.08 s and 1.15 s. Starting the worker, which imports pydicom's decoder plugins before
its first task, costs 0.8–1.4 s, once per process. A fresh process per
image would pay that start for every image, so the worker is kept. A report spends
seconds per image on its saliency maps, so 0.1 s per compressed image is the price of a
study that survives a crashing decoder. PNG, JPEG and uncompressed DICOM stay in the
process: Pillow's decoders and numpy raise exceptions on damaged data rather than
crash, the size policy bounds their memory and time before decoding, and a training
run reading thousands of PNGs a second would pay the transfer for nothing.
"""

from __future__ import annotations

import atexit
import io
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from medxai.errors import InputError, MedxaiError
from medxai.io.radiograph import MAX_PIXELS

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "DECODE_SECONDS",
    "DECODE_SECONDS_PER_MEGAPIXEL",
    "decoding",
    "describe",
    "isolated",
    "memory_allowance",
    "pil_image",
]

#: Time limit of one isolated decode: this many seconds plus
#: :data:`DECODE_SECONDS_PER_MEGAPIXEL` per million pixels (about 40 s for a 5-MP
#: radiograph; a healthy decode takes well under a second per megapixel).
DECODE_SECONDS = 30.0
DECODE_SECONDS_PER_MEGAPIXEL = 2.0

#: Seconds the worker may take to start (importing pydicom and its plugins).
WORKER_START_SECONDS = 120.0

_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit)

T = TypeVar("T")


def describe(exc: BaseException) -> str:
    """``"Type: message"`` on one line (the message is cut at 300 characters)."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def decoding(path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """The boundary around a decoder call: whatever it raises becomes an InputError.

    ``what`` names the data in the message, e.g. ``"DICOM file"``:
    ``"<path>: unreadable DICOM file (PanicException: index out of bounds…)"``.
    """
    try:
        yield
    except MedxaiError:
        raise
    except _PASS_THROUGH:
        raise
    except MemoryError:
        raise InputError(path, f"not enough memory to decode the {what}") from None
    except BaseException as exc:  # decoders raise anything, panics included
        raise InputError(path, f"unreadable {what} ({describe(exc)})") from None


#: The Pillow openers any reader uses (JPEG's also opens multi-picture MPO files): other
#: plugins (TIFF, EPS through Ghostscript, PSD…) are never handed an input file.
PIL_FORMATS: tuple[str, ...] = ("PNG", "JPEG")


@contextmanager
def pil_image(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    formats: tuple[str, ...] = PIL_FORMATS,
    what: str = "image",
) -> Iterator[Image.Image]:
    """Open ``path`` with Pillow, under the file-access rule and the size policy.

    The body of the ``with`` block (``load()``, conversions) runs inside
    :func:`decoding` too. ``formats`` (some of :data:`PIL_FORMATS`) are the Pillow
    plugins tried. Raises
    :class:`~medxai.errors.InputError` for a refused, unidentified, oversized
    (:func:`~medxai.io.radiograph.check_pixel_count`) or undecodable file.
    """
    from PIL import Image, UnidentifiedImageError

    from medxai.io.files import open_input
    from medxai.io.radiograph import check_pixel_count

    with open_input(path, root) as handle, decoding(path, what), warnings.catch_warnings():
        # The MAX_PIXELS check replaces Pillow's warning; Pillow's own error (at twice its
        # limit) is reported in the same words as the MAX_PIXELS check.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        file_bytes = handle.seek(0, io.SEEK_END)
        handle.seek(0)
        try:
            image = Image.open(handle, formats=[f for f in formats if f in PIL_FORMATS])
        except Image.DecompressionBombError as exc:
            found = re.search(r"\((\d+) pixels\)", str(exc))
            size = f" of {int(found.group(1)):,} pixels" if found else ""
            raise InputError(
                path,
                f"image{size} exceeds the {MAX_PIXELS:,}-pixel limit "
                "(possible decompression bomb)",
            ) from None
        except UnidentifiedImageError:
            raise InputError(path, f"not a readable {what}") from None
        with image:
            width, height = image.size
            check_pixel_count(Path(path), width, height)
            if image.format == "PNG":
                _check_png_ratio(Path(path), width, height, file_bytes)
            elif image.format in ("JPEG", "MPO"):
                _check_jpeg_ratio(Path(path), width, height, file_bytes)
            yield image


#: Deflate's largest compression ratio: no zlib stream inflates more than this per byte.
DEFLATE_MAX_RATIO = 1032


def _check_png_ratio(path: Path, width: int, height: int, file_bytes: int) -> None:
    """Refuse a PNG too small to hold the image its header announces.

    The image data are at least one byte per row (the filter type) plus one bit per pixel,
    and deflate compresses at most :data:`DEFLATE_MAX_RATIO` to 1: a smaller file is
    truncated, or a header that lies. Without this, an 87-byte file announcing
    20 × 4,194,328 pixels costs a full-size decode of nothing.
    """
    least = height * (1 + (width + 7) // 8)
    if file_bytes * DEFLATE_MAX_RATIO < least:
        raise InputError(
            path,
            f"truncated PNG: {file_bytes:,} bytes cannot hold the {width}×{height} pixels "
            "its header announces",
        )


#: Most pixels a JPEG file may announce per byte it holds: 512, i.e. at least 1/64 bit
#: per pixel. Huffman coding spends at least one bit per 8 × 8 block on its DC
#: coefficient, so no complete image of this kind is smaller. Measured with Pillow
#: (libjpeg-turbo) on 2,048 × 2,048 gray images, the lowest rates are far above it: a
#: flat image 0.094 bit per pixel (baseline) and 0.032 (optimised, progressive); smooth
#: phantom radiographs at quality 1 0.097 and 0.034, at quality 75 0.22 and 0.18; real
#: radiographs, which carry quantum noise, more. Only an arithmetic-coded, nearly blank
#: image could fall below, and it holds nothing to explain.
JPEG_MAX_PIXELS_PER_BYTE = 512


def _check_jpeg_ratio(path: Path, width: int, height: int, file_bytes: int) -> None:
    """Refuse a JPEG too small to hold the image its header announces (see
    :data:`JPEG_MAX_PIXELS_PER_BYTE`), before a pixel is decoded: without this, a
    331-byte file announcing 10,000 × 10,000 pixels costs a full-size decode of nothing
    (15 s and 400 MB)."""
    if width * height > JPEG_MAX_PIXELS_PER_BYTE * file_bytes:
        raise InputError(
            path,
            f"truncated JPEG: {file_bytes:,} bytes cannot hold the {width}×{height} pixels "
            f"its header announces (a complete JPEG has at least 1 byte per "
            f"{JPEG_MAX_PIXELS_PER_BYTE} pixels)",
        )


def memory_allowance(decoded_bytes: int, encoded_bytes: int) -> int:
    """Address space an isolated decode may add: four times the decoded pixels, twice
    the encoded data, and 1 GiB for the decoder's own tables, threads and their malloc
    arenas (address space, mostly never touched). A decoder that runs away asks for far
    more and gets a ``MemoryError`` or dies."""
    return 4 * decoded_bytes + 2 * encoded_bytes + 2**30


def time_limit(pixels: int) -> float:
    """Seconds an isolated decode of ``pixels`` pixels may take."""
    return DECODE_SECONDS + DECODE_SECONDS_PER_MEGAPIXEL * pixels / 1e6


# ---------------------------------------------------------------------------- the worker


def _address_space() -> int:
    """This process's current virtual size in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_memory(extra: int | None) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the time limit still applies
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if extra is None:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        return
    current = _address_space()
    if not current:
        return
    soft = current + extra
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _load_decoders() -> None:
    """Import pydicom's pixel decoder plugins once, before any task's memory limit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from pydicom.pixels import get_decoder
            from pydicom.uid import (
                JPEG2000,
                JPEGBaseline8Bit,
                JPEGLSLossless,
                RLELossless,
            )

            for uid in (JPEGBaseline8Bit, JPEGLSLossless, JPEG2000, RLELossless):
                get_decoder(uid).is_available  # noqa: B018 — imports the plugins
        except Exception:  # a missing plugin is reported by the task that needs it
            return


def serve(read_fd: int, write_fd: int) -> None:
    """The worker's loop: run ``(function, args, memory)`` tasks until the pipe closes.

    Each answer is ``("ok", result, warnings)`` or ``("error", InputError or text,
    warnings)``. The worker's stderr is discarded (native decoders print there); the
    answer carries the reason.
    """
    from multiprocessing.connection import Connection

    tasks, answers = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    _load_decoders()
    answers.send(("ready", None, []))
    while True:
        try:
            function, args, memory = tasks.recv()
        except (EOFError, OSError):
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _limit_memory(memory)
            try:
                answer: tuple[str, Any] = ("ok", function(*args))
            except MedxaiError as exc:
                answer = ("error", exc)
            except MemoryError:
                answer = ("error", "memory")
            except (KeyboardInterrupt, SystemExit):
                return
            except BaseException as exc:  # every failure, panics included
                answer = ("error", describe(exc))
            finally:
                _limit_memory(None)
        notes = [str(w.message) for w in caught]
        try:
            answers.send((*answer, notes))
        except Exception as exc:  # e.g. a result that cannot be pickled
            answers.send(("error", f"cannot return the result ({describe(exc)})", notes))


class _Worker:
    """One worker process (a fresh interpreter) and its two pipes.

    Started with :mod:`subprocess`, not :mod:`multiprocessing`, so that the caller's
    main script is never imported again in the worker.
    """

    def __init__(self) -> None:
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        task_read, task_write = os.pipe()
        answer_read, answer_write = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
        code = f"from medxai.io.decode import serve; serve({task_read}, {answer_write})"
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=(task_read, answer_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        finally:
            os.close(task_read)
            os.close(answer_write)
        self.owner = os.getpid()
        self.tasks = Connection(task_write, readable=False)
        self.answers = Connection(answer_read, writable=False)
        if not self.answers.poll(WORKER_START_SECONDS):
            self.stop()
            raise OSError(f"no answer within {WORKER_START_SECONDS:.0f} s")
        self.answers.recv()

    def usable(self) -> bool:
        """Alive, and started by this process (a forked child starts its own)."""
        return self.owner == os.getpid() and self.process.poll() is None

    def how_it_died(self) -> str:
        try:
            code = self.process.wait(5)
        except Exception:  # still running: it stopped answering
            return "no answer"
        if code < 0:
            import signal

            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.tasks.close()
        self.answers.close()


_lock = threading.Lock()
_worker: _Worker | None = None


def _stop_worker() -> None:
    global _worker
    if _worker is not None and _worker.owner == os.getpid():
        _worker.stop()
    _worker = None


atexit.register(_stop_worker)


def isolated(
    path: str | os.PathLike[str],
    what: str,
    function: Callable[..., T],
    *args: Any,
    pixels: int,
    memory: int,
) -> T:
    """``function(*args)`` in the decoding worker, within the limits (module notes).

    ``function`` must be importable by name (a module-level function) and its arguments
    and result picklable. ``pixels`` sets the time limit; ``memory`` is the address
    space the call may add. Warnings the function issues are issued again here. A crash,
    a time-out or the memory limit is an :class:`~medxai.errors.InputError` naming
    ``path``; the worker is replaced for the next call.
    """
    global _worker
    path = Path(path)
    seconds = time_limit(pixels)
    with _lock:
        if _worker is None or not _worker.usable():
            _stop_worker()
            try:
                _worker = _Worker()
            except (OSError, EOFError) as exc:
                raise InputError(
                    path, f"the {what} decoding worker could not start ({describe(exc)})"
                ) from None
        worker = _worker
        try:
            worker.tasks.send((function, args, memory))
            if not worker.answers.poll(seconds):
                _stop_worker()
                raise InputError(
                    path, f"decoding the {what} took longer than {seconds:.0f} s (stopped)"
                )
            status, value, notes = worker.answers.recv()
        except (EOFError, OSError):
            reason = worker.how_it_died()
            _stop_worker()
            raise InputError(
                path, f"the {what} decoder crashed ({reason}); the data may be damaged"
            ) from None
    for note in notes:
        warnings.warn(note, stacklevel=2)
    if status == "ok":
        return value
    if isinstance(value, MedxaiError):
        raise value
    if value == "memory":
        raise InputError(
            path, f"decoding the {what} needed more than {memory / 2**20:,.0f} MiB (stopped)"
        )
    raise InputError(path, f"unreadable {what} ({value})")
