"""Prophesee DAT (N-CARS, ATIS/Gen1 "Event2D"/"EventCD" files).

Layout: text header lines starting with ``%`` (``% Version 2`` and so on), then, from version 1 on, one
byte event type (0 = Event2D, 12 = EventCD) and one byte event size (8), then 8-byte little-endian
events: ``u32`` timestamp in µs and ``u32`` address with ``x = a & 0x3FFF``, ``y = (a >> 14) & 0x3FFF``,
``p = (a >> 28) & 0xF`` (0 or 1 for change-detection events). Timestamps that jump back by more than
``2**31`` µs are unwrapped as a 32-bit counter wrap; other backward steps are stable-sorted.
"""

from __future__ import annotations

import re
from pathlib import Path

from numba import njit

from eventpipe.errors import FormatError
from eventpipe.events import Events
from eventpipe.readers._bytes import emit, u32le, unwrap_u32
from eventpipe.readers._header import read_prophesee_header
from eventpipe.readers._stream import NEED_INPUT, ChunkDecoder, decode_file

EVENT_BYTES = 8
CD_TYPES = (0, 12)

_BAD_POLARITY = 2
_ERRORS = {_BAD_POLARITY: "polarity field {arg} of a change-detection event (0 or 1 expected)"}
_VERSION = re.compile(r"^%\s*Version\s+(\d+)", re.IGNORECASE)


@njit(nogil=True, cache=False)
def _decode_dat(buf, out, pos, state):  # noqa: ANN001, ANN202 - Numba kernel
    n = (buf.size // EVENT_BYTES) * EVENT_BYTES
    last = state[0]
    unsorted = state[1]
    epoch = state[2]
    prev = state[3]
    status = NEED_INPUT
    arg = EVENT_BYTES if buf.size > n else 0
    i = 0
    while i < n:
        raw = u32le(buf, i)
        a = u32le(buf, i + 4)
        pol = (a >> 28) & 0xF
        if pol > 1:
            status = _BAD_POLARITY
            arg = pol
            break
        epoch = unwrap_u32(raw, prev, epoch)
        prev = raw
        pos, last, unsorted = emit(out, pos, epoch + raw, a & 0x3FFF, (a >> 14) & 0x3FFF, pol, last, unsorted)
        i += EVENT_BYTES
    state[0] = last
    state[1] = unsorted
    state[2] = epoch
    state[3] = prev
    return i, pos, status, arg


def read_dat(path: str | Path) -> Events:
    """Read a Prophesee DAT file of change-detection events.

    Returns
    -------
    Events sorted by ``t`` (µs), ``x``, ``y`` in pixels, ``p`` 1 = ON.

    Raises
    ------
    FormatError
        No ``%`` header (an empty file included), or an event type or size other than CD / 8 bytes.
    CorruptRecordingError
        A partial final event, or a polarity outside {0, 1}; names the byte offset.
    """
    path = Path(path)
    lines, start = read_prophesee_header(path)
    version = next((int(m.group(1)) for ln in lines if (m := _VERSION.match(ln))), 0)
    if version >= 1:
        with path.open("rb") as f:
            f.seek(start)
            type_size = f.read(2)
        if len(type_size) < 2:
            raise FormatError(f"{path}: the DAT header ends before its event type and size bytes (byte {start})")
        ev_type, ev_size = type_size
        if ev_type not in CD_TYPES or ev_size != EVENT_BYTES:
            raise FormatError(
                f"{path}: DAT event type {ev_type} with size {ev_size} bytes at byte {start} is not a "
                f"change-detection event (types {CD_TYPES}, size {EVENT_BYTES} expected)"
            )
        start += 2
    decoder = ChunkDecoder(_decode_dat, record="8-byte event", bytes_per_event=EVENT_BYTES,
                           errors=_ERRORS, n_state=4)
    return decode_file(path, start, decoder)
