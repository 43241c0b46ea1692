"""AEDAT 4.0 (iniVation DV) event streams, decoded by the optional ``aedat`` package.

An AEDAT 4.0 file multiplexes streams (events, frames, IMU, triggers) in compressed packets; only the
events stream is read (the first one, or the stream id you pass). Packets are decoded one at a time,
so memory holds one packet plus the events read so far. ``t`` is the camera's absolute time in µs
(Unix epoch), not shifted to 0.

The decoder is Rust: on damaged input it panics, and Rust's panic hook writes the panic (a full
backtrace under ``RUST_BACKTRACE=1``) to file descriptor 2 before the panic reaches Python. So the
decoder runs with descriptor 2 sent to a temporary file; the panic message becomes the one-line
:class:`~eventpipe.errors.CorruptRecordingError`, and output of a successful read is passed on. The
descriptor is process-wide: threads of one process decode AEDAT 4.0 files one at a time (a second
redirect would save the first one's file as "the" stderr), and another thread's stderr output during
a failed read is dropped with the panic.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.errors import ConfigError, CorruptRecordingError, FormatError, MissingDependencyError
from eventpipe.events import EVENT_DTYPE, Events
from eventpipe.readers._columns import join_events

MAGIC = b"#!AER-DAT4"
_STDERR_LOCK = threading.Lock()


def _is_decoder_failure(exc: BaseException) -> bool:
    """Errors the ``aedat`` extension raises on damaged input: Python errors, and Rust panics, which
    arrive as ``pyo3_runtime.PanicException`` (a ``BaseException``), e.g. on an out-of-range length."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


@contextmanager
def _stderr_held() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file; replay its bytes on success, drop them on an error."""
    with _STDERR_LOCK:
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no descriptor 2 (a detached process): nothing to keep clean
            yield
            return
        with tempfile.TemporaryFile() as held:
            os.dup2(held.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            held.seek(0)
            data = held.read()
            while data:
                data = data[os.write(2, data):]


def _reason(where: str, exc: BaseException) -> str:
    return f"{where}: {' '.join(str(exc).split())}"  # a panic message may span lines


def _decoder(path: Path) -> Any:
    try:
        import aedat
    except ImportError:
        raise MissingDependencyError(
            f"{path}: reading AEDAT 4.0 needs the 'aedat' package: pip install aedat "
            "(or pip install 'eventpipe[aedat4]')"
        ) from None
    try:
        return aedat.Decoder(str(path))
    except BaseException as exc:
        if not _is_decoder_failure(exc):
            raise
        raise CorruptRecordingError(path, None, _reason("AEDAT 4.0 header", exc)) from None


def event_streams(path: str | Path) -> dict[int, tuple[int, int]]:
    """The events streams of an AEDAT 4.0 file: ``{stream_id: (width, height)}`` in pixels."""
    path = Path(path)
    _check_magic(path)
    with _stderr_held():
        streams = _decoder(path).id_to_stream()
    return {int(i): (int(s["width"]), int(s["height"])) for i, s in sorted(streams.items()) if s["type"] == "events"}


def _check_magic(path: Path) -> None:
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise FormatError(f"{path}: not an AEDAT 4.0 file (it does not start with {MAGIC.decode()!r})")


def read_aedat4(path: str | Path, stream: int | None = None) -> Events:
    """Read the polarity events of an AEDAT 4.0 file.

    Parameters
    ----------
    path:
        The ``.aedat4`` file.
    stream:
        Id of the events stream to read; default: the lowest-numbered events stream.

    Returns
    -------
    Events sorted by ``t`` (absolute µs), ``x``, ``y`` in pixels, ``p`` 1 = ON.

    Raises
    ------
    MissingDependencyError
        The ``aedat`` package is not installed.
    FormatError
        Wrong magic (an empty file included), or no events stream.
    CorruptRecordingError
        The decoder fails or panics on the header or a packet (truncation, bad compression); the
        decoder does not report the byte offset, so the message carries its reason. Or a time is negative.
    """
    path = Path(path)
    _check_magic(path)
    with _stderr_held():
        parts = _decode(path, stream)
    return join_events(path, parts)


def _decode(path: Path, stream: int | None) -> list[Events]:
    """The events packets of ``stream`` (default: the lowest-numbered events stream), in file order."""
    decoder = _decoder(path)
    streams = {int(i): s for i, s in decoder.id_to_stream().items() if s["type"] == "events"}
    if not streams:
        raise FormatError(f"{path}: the AEDAT 4.0 file has no events stream")
    if stream is None:
        stream = min(streams)
    elif stream not in streams:
        raise ConfigError(f"Unknown value {stream!r} for argument stream. Valid values are {set(streams)}.")
    parts: list[Events] = []
    try:
        for packet in decoder:
            if packet["stream_id"] != stream or "events" not in packet:
                continue
            raw = packet["events"]
            part = np.empty(len(raw), dtype=EVENT_DTYPE)
            part["t"] = raw["t"]
            part["x"] = raw["x"]
            part["y"] = raw["y"]
            part["p"] = raw["on"]
            parts.append(part)
    except BaseException as exc:
        if not _is_decoder_failure(exc):
            raise
        raise CorruptRecordingError(path, None, _reason("AEDAT 4.0 packet", exc)) from None
    return parts
