"""Chunked decoding of binary recordings with bounded memory.

A fixed-size read buffer (a few MB) is refilled from the file and handed to a format's Numba kernel,
which decodes every complete record in it straight into the output event array and reports where it
stopped. Records cut by the buffer edge are carried over to the next read, so the kernels never see a
partial record and a multi-GB file never sits in memory. Only the decoded events grow with the file.

Kernel contract (see :class:`ChunkDecoder`): ``kernel(buf, out, pos, state) -> (consumed, pos, status,
arg)``, where ``out`` is the structured event array (written from ``pos``) and ``status`` is
:data:`NEED_INPUT` (``arg``: bytes the next record needs, 0 when unknown), :data:`NEED_OUTPUT`
(``arg``: free events the next record needs) or a format-specific corruption code ``>= 2``
(``consumed`` then points at the bad record). ``state`` is an int64 array the
kernel updates between calls; ``state[0]`` is the last timestamp written and ``state[1]`` becomes 1 when
a timestamp went backwards, so the driver knows whether to sort.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from eventpipe.errors import CorruptRecordingError
from eventpipe.events import EVENT_DTYPE, Events
from eventpipe.readers._columns import check_times
from eventpipe.readers._digest import FileHasher

CHUNK_BYTES = 8 << 20
"""Read-buffer size in bytes: large enough to amortise kernel calls, small next to any recording."""

NEED_INPUT = 0
NEED_OUTPUT = 1

_T_MIN = np.iinfo(np.int64).min
_NO_WORDS = np.zeros(0, dtype="<u4")


class ChunkDecoder:
    """A stateful decoder of one binary format, fed one buffer of bytes at a time.

    Parameters
    ----------
    kernel:
        The format's Numba kernel (module docstring has the contract).
    record:
        What one unit of the format is called in error messages ("packet", "40-bit event", ...).
    bytes_per_event:
        Payload bytes per event used to size the output up front: the fewest possible for formats
        without multi-event records (the output is then allocated once), a typical value otherwise
        (the output grows as needed).
    errors:
        Message template per corruption code; ``{arg}`` is replaced by the kernel's detail value.
    n_state:
        Length of the int64 state array (at least 2: last timestamp, unsorted flag).
    words:
        Also pass a little-endian ``uint32`` view of the buffer as the kernel's second argument
        (``kernel(buf, words, out, pos, state)``), or an empty one when the buffer start is not 4-byte
        aligned; kernels use it for aligned records, one word load instead of assembling four bytes.
    """

    def __init__(
        self,
        kernel: Callable[..., tuple[int, int, int, int]],
        *,
        record: str,
        bytes_per_event: int,
        errors: dict[int, str],
        n_state: int = 2,
        words: bool = False,
    ) -> None:
        self.kernel = kernel
        self.words = words
        self.record = record
        self.bytes_per_event = bytes_per_event
        self.errors = errors
        self.state = np.zeros(max(2, n_state), dtype=np.int64)
        self.state[0] = _T_MIN

    @property
    def unsorted(self) -> bool:
        """True when some decoded timestamp was smaller than the one before it."""
        return bool(self.state[1])

    def capacity(self, n_bytes: int) -> int:
        """Initial output capacity in events for ``n_bytes`` of payload."""
        return n_bytes // self.bytes_per_event + 1

    def decode(self, buf: np.ndarray, out: Events, pos: int) -> tuple[int, int, int, int]:
        """Decode complete records of ``buf`` into ``out[pos:]``; return ``(consumed, pos, status, arg)``."""
        if self.words:
            aligned = buf.ctypes.data % 4 == 0
            words = buf[: len(buf) // 4 * 4].view("<u4") if aligned else _NO_WORDS
            consumed, pos, status, arg = self.kernel(buf, words, out, pos, self.state)
        else:
            consumed, pos, status, arg = self.kernel(buf, out, pos, self.state)
        return int(consumed), int(pos), int(status), int(arg)

    def error(self, status: int, arg: int) -> str:
        """The message for corruption code ``status`` with its detail value ``arg``."""
        template = self.errors.get(status, f"invalid {self.record} (code {status})")
        return template.format(arg=arg)


def _resized(out: Events, n: int) -> Events:
    # In-place realloc: no copy for the common shrink, no doubled peak when growing.
    out.resize(n, refcheck=False)
    return out


def decode_file(
    path: str | Path, start: int, decoder: ChunkDecoder, *, chunk_bytes: int = CHUNK_BYTES
) -> Events:
    """Decode the bytes of ``path`` from offset ``start`` to its end with ``decoder``.

    Parameters
    ----------
    path:
        The recording.
    start:
        Byte offset of the first record (the end of the header).
    decoder:
        A fresh :class:`ChunkDecoder` for the format.
    chunk_bytes:
        Size of the read buffer in bytes; it only grows for a single record larger than it.

    Returns
    -------
    Events sorted by ``t`` (stable, so equal timestamps keep file order), all with ``t >= 0``. Inside
    :func:`eventpipe.readers._digest.record_digests` the file's SHA-256 is recorded too, hashed from
    the same reads (the header bytes before ``start`` included).

    Raises
    ------
    CorruptRecordingError
        A record is invalid, or the file ends inside a record; names the file and byte offset. Or a
        decoded time is negative; names the file and the event.
    """
    path = Path(path)
    size = path.stat().st_size
    payload = max(size - start, 0)
    out = np.empty(max(decoder.capacity(payload), 1), dtype=EVENT_DTYPE)
    pos = 0
    buf = np.empty(max(min(chunk_bytes, payload), 64), dtype=np.uint8)
    filled = 0
    base = start  # file offset of buf[0]
    hasher = FileHasher.if_recording(path)
    with path.open("rb") as f:
        if hasher is not None:
            hasher.update(f.read(start))
        f.seek(start)
        while True:
            n_read = f.readinto(buf[filled:].data) or 0
            if hasher is not None and n_read:
                hasher.update(buf[filled:filled + n_read].data)  # while the bytes are still in cache
            eof = not n_read
            filled += n_read
            begin = 0
            while True:
                consumed, pos, status, arg = decoder.decode(buf[begin:filled], out, pos)
                begin += consumed
                if status == NEED_OUTPUT:
                    out = _resized(out, max(2 * len(out), pos + arg))
                    continue
                if status != NEED_INPUT:
                    raise CorruptRecordingError(path, base + begin, decoder.error(status, arg))
                break
            rest = filled - begin
            if eof:
                if rest:
                    raise CorruptRecordingError(
                        path, base + begin,
                        f"truncated: the file ends {rest} bytes into a {decoder.record}"
                        + (f" of {arg} bytes" if arg > rest else ""),
                    )
                break
            if arg > size - (base + begin):
                raise CorruptRecordingError(
                    path, base + begin,
                    f"truncated: a {decoder.record} of {arg} bytes starts here, but only "
                    f"{size - (base + begin)} bytes remain",
                )
            if begin:
                buf[:rest] = buf[begin:filled]
            base += begin
            filled = rest
            if filled == len(buf) or arg > len(buf):  # one record larger than the buffer
                bigger = np.empty(max(2 * len(buf), arg), dtype=np.uint8)
                bigger[:filled] = buf[:filled]
                buf = bigger
    if hasher is not None:
        hasher.finish()
    out = _resized(out, pos)
    if decoder.unsorted:
        out = out[np.argsort(out["t"], kind="stable")]
    return check_times(path, out)
