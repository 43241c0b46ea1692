"""Prophesee EVT 2.0 ``.raw`` (Gen3 and later sensors).

Layout: text header lines starting with ``%`` (``% evt 2.0``), then little-endian ``u32`` words whose
top 4 bits give the type. CD_OFF (0) and CD_ON (1) carry ``t_low = (w >> 22) & 0x3F``,
``x = (w >> 11) & 0x7FF`` and ``y = w & 0x7FF``; EVT_TIME_HIGH (8) sets the upper 28 bits of the
timestamp, ``t = time_high << 6 | t_low`` µs. EXT_TRIGGER (10), OTHERS (14) and CONTINUED (15) carry no
CD events and are skipped; the reserved types are reported as corruption. As in Prophesee's own
decoder, CD events before the first EVT_TIME_HIGH word (whose time is unknown) are dropped. A time
high that drops by more than half its range is a wrap of the 34-bit µs counter and is unwrapped.
"""

from __future__ import annotations

from pathlib import Path

from numba import njit

from eventpipe.events import Events
from eventpipe.readers._bytes import advance_time_high, emit, u32le
from eventpipe.readers._header import read_prophesee_header
from eventpipe.readers._stream import NEED_INPUT, ChunkDecoder, decode_file

WORD_BYTES = 4
CD_OFF, CD_ON, TIME_HIGH, EXT_TRIGGER, OTHERS, CONTINUED = 0x0, 0x1, 0x8, 0xA, 0xE, 0xF
_TIME_HIGH_RANGE = 1 << 28

_BAD_TYPE = 2
_ERRORS = {_BAD_TYPE: "reserved EVT 2.0 word type {arg:#x}"}


@njit(nogil=True, cache=False)
def _decode_evt2(buf, out, pos, state):  # noqa: ANN001, ANN202 - Numba kernel
    n = (buf.size // WORD_BYTES) * WORD_BYTES
    last = state[0]
    unsorted = state[1]
    time_high = state[2]  # including wraps, in units of 64 µs
    seen = state[3]
    status = NEED_INPUT
    arg = WORD_BYTES if buf.size > n else 0
    i = 0
    while i < n:
        w = u32le(buf, i)
        kind = w >> 28
        if kind in (CD_OFF, CD_ON):
            if seen:
                tt = (time_high << 6) | ((w >> 22) & 0x3F)
                pos, last, unsorted = emit(out, pos, tt, (w >> 11) & 0x7FF, w & 0x7FF, kind, last, unsorted)
        elif kind == TIME_HIGH:
            time_high = advance_time_high(time_high, w & 0x0FFFFFFF, _TIME_HIGH_RANGE, seen)
            seen = 1
        elif kind != EXT_TRIGGER and kind != OTHERS and kind != CONTINUED:
            status = _BAD_TYPE
            arg = kind
            break
        i += WORD_BYTES
    state[0] = last
    state[1] = unsorted
    state[2] = time_high
    state[3] = seen
    return i, pos, status, arg


def read_evt2(path: str | Path) -> Events:
    """Read a Prophesee EVT 2.0 ``.raw`` file.

    Returns
    -------
    Events sorted by ``t`` (sensor time in µs, not shifted to 0), ``x``, ``y`` in pixels, ``p`` 1 = ON.

    Raises
    ------
    FormatError
        No ``%`` header (an empty file included).
    CorruptRecordingError
        A partial final word or a reserved word type; names the byte offset.
    """
    path = Path(path)
    _, start = read_prophesee_header(path)
    decoder = ChunkDecoder(_decode_evt2, record="32-bit word", bytes_per_event=WORD_BYTES,
                           errors=_ERRORS, n_state=4)
    return decode_file(path, start, decoder)
